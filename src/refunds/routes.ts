// Refunds over HTTP: reading them (with attempts and bank statuses) and operating the ones in
// manual handling.
import { z } from 'zod';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { Conflict, NotFound, Unprocessable } from '../errors';
import { businessDate } from '../domain/time';
import type { Caller } from '../http/auth';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam, listEnvelope, listQuery, text } from '../http/schemas';
import { paginate } from '../http/pagination';
import { accountNumberSchema, bankCodeSchema } from '../registry/schemas';
import { actorOf } from '../registry/service';
import { validateBankCode } from '../domain/bankCode';
import { enqueueRefundSubmit } from './enqueue';
import * as repo from './repo';
import { presentRefund } from './present';
import { refundOut, refundStatuses } from './schemas';

const tags = ['refunds'];
const params = z.strictObject({ id: idParam('rfd') });

export const retryBody = z.strictObject({
  /** What the person decided and why (R17): it is kept with the refund. */
  decision: text(1000),
  /** Only with a recorded decision may a refund go to an account other than its source (R17). */
  account: z.strictObject({ number: accountNumberSchema, name: text(200), bankCode: bankCodeSchema }).optional(),
});

/** A bidder sees only its own refunds; anyone else's answer 404. */
async function visibleRefund(tx: Knex | Knex.Transaction, caller: Caller, id: string): Promise<repo.RefundRow> {
  const r = await repo.findRefund(tx, id);
  if (!r || (caller.role === 'bidder' && r.bidder_id !== caller.bidderId)) throw new NotFound('refund', id);
  return r;
}

export const refundRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/refunds', operationId: 'listRefunds', summary: 'Refunds, with overdue ones flagged', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] },
    query: listQuery.extend({
      sectionId: idParam('sec').optional(),
      bidderId: idParam('bdr').optional(),
      status: z.enum(refundStatuses).optional(),
      overdue: z.enum(['true', 'false']).optional(),
    }),
    response: listEnvelope(refundOut),
    handler: async ({ tx, caller, query }) => {
      const q = tx('refunds');
      if (query.sectionId) q.where('section_id', query.sectionId);
      if (query.bidderId) q.where('bidder_id', query.bidderId);
      if (query.status) q.where('status', query.status);
      if (query.overdue === 'true') q.whereNot('status', 'settled').where('due_by', '<', businessDate(new Date()));
      if (query.overdue === 'false') q.where((w) => w.where('status', 'settled').orWhere('due_by', '>=', businessDate(new Date())));
      if (caller.role === 'bidder') q.where('bidder_id', caller.bidderId!);
      return paginate(q, query, (r: repo.RefundRow) => presentRefund(r));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/refunds/:id', operationId: 'getRefund', summary: 'A refund with its attempts and the bank statuses', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params, response: refundOut,
    handler: async ({ tx, caller, params }) => {
      const r = await visibleRefund(tx, caller, params.id);
      return presentRefund(r, { attempts: await repo.attemptsOf(tx, r.id), decisions: await repo.decisionsOf(tx, r.id) });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/refunds/:id/retry', operationId: 'retryRefund', summary: 'Send a refund in manual handling again, with a recorded decision (R17)', tags,
    access: { roles: ['centre'] }, params, body: retryBody, response: refundOut,
    handler: async ({ tx, caller, params, body }) => {
      const trx = tx as Knex.Transaction;
      const r = await trx<repo.RefundRow>('refunds').where({ id: params.id }).forUpdate().first();
      if (!r) throw new NotFound('refund', params.id);
      if (r.status !== 'manual') throw new Conflict('illegal_transition', `only a refund in manual handling can be retried; this one is ${r.status}`);
      if (body.account) {
        const v = validateBankCode(body.account.bankCode);
        if (!v.ok) throw new Unprocessable('invalid_bank_code', `account.bankCode is not a valid CNAPS bank code: ${v.reason}`, 'account.bankCode');
      }
      await trx('refund_decisions').insert({
        refund_id: r.id,
        decision: body.decision,
        account_number: body.account?.number ?? null,
        account_name: body.account?.name ?? null,
        account_bank_code: body.account?.bankCode ?? null,
        decided_by: caller.keyId,
      });
      // A person's decision grants a fresh budget of attempts; the attempts already made stay.
      await trx('refunds').where({ id: r.id, status: 'manual' }).update({ status: 'scheduled', attempts_count: 0, manual_reason: null, updated_at: new Date() });
      const seq = Number((await trx('refund_attempts').where({ refund_id: r.id }).max({ seq: 'seq' }).first())?.seq ?? 0);
      await enqueueRefundSubmit(trx, r.id, seq + 1);
      await appendAudit(trx, {
        actor: actorOf(caller),
        action: 'refund.retry_decided',
        entityType: 'refund',
        entityId: r.id,
        data: { decision: body.decision, account: body.account ?? null, previousAccount: body.account ? r.creditor_account_number : undefined },
      });
      const updated = (await repo.findRefund(trx, r.id))!;
      return presentRefund(updated, { attempts: await repo.attemptsOf(trx, r.id), decisions: await repo.decisionsOf(trx, r.id) });
    },
  }),
];
