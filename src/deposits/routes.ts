import { z } from 'zod';
import { NotFound } from '../errors';
import { formatAmount } from '../domain/money';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam, listEnvelope } from '../http/schemas';
import { paginate } from '../http/pagination';
import { notificationBodyBytesMax, notificationContentTypes, receiveNotification } from './notifications';
import { presentDepositAccount, presentDepositDetail, presentDepositSummary, presentWithdrawal } from './present';
import * as repo from './repo';
import * as s from './schemas';
import * as service from './service';
import { returnSuspenseCredit } from './suspense';
import { presentRefund } from '../refunds/present';
import { refundOut } from '../refunds/schemas';
import { text } from '../http/schemas';

const tags = ['deposits'];
const sectionParams = z.strictObject({ id: idParam('sec') });

export const depositRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/deposits/:id/return', operationId: 'returnSuspenseCredit',
    summary: 'Return a credit held in suspense (R15) to the account it came from, with the decision on record', tags,
    access: { roles: ['centre'] }, params: z.strictObject({ id: idParam('dep') }), body: z.strictObject({ decision: text(1000) }),
    response: refundOut, successStatus: 201,
    handler: async ({ tx, caller, params, body }) => presentRefund(await returnSuspenseCredit(tx as never, caller, params.id, body.decision)),
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/deposit-accounts', operationId: 'openDepositAccount',
    summary: "The bidder's virtual sub-account (虚拟子账号) for this section; the same answer every time", tags,
    access: { roles: ['centre', 'bidder'] }, params: sectionParams, body: s.depositAccountCreate, response: s.depositAccountOut,
    handler: async ({ tx, caller, params, body }) => {
      const { account, created } = await service.openDepositAccount(tx as never, caller, params.id, body.bidderId);
      return { status: created ? 201 : 200, body: presentDepositAccount(account) };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/banks/:id/notifications', operationId: 'receiveBankNotification',
    summary: 'Incoming credits from a deposit bank (camt.054, cn-h2h notice or JSON), signed by the bank', tags,
    access: { webhook: 'bank' }, params: z.strictObject({ id: idParam('bnk') }),
    bodyMode: { kind: 'raw', maxBytes: notificationBodyBytesMax, contentTypes: notificationContentTypes },
    response: s.notificationOut,
    handler: async ({ tx, sender, rawBody, req }) => {
      const r = await receiveNotification(tx as never, sender!, rawBody ?? Buffer.alloc(0), req.get('content-type') ?? '');
      return { status: r.status, body: r.body, headers: 'replayed' in r && r.replayed ? { 'Idempotent-Replayed': 'true' } : {} };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/deposits', operationId: 'listDeposits', summary: 'Deposits (sealed from tenderees until opening, R18)', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.depositListQuery, response: listEnvelope(s.depositOut),
    handler: async ({ tx, caller, query }) => {
      const q = service.visibilityFilter(tx('deposits').select('deposits.*'), caller);
      if (query.sectionId) q.where('deposits.section_id', query.sectionId);
      if (query.bidderId) q.where('deposits.bidder_id', query.bidderId);
      if (query.status) q.where('deposits.status', query.status);
      return paginate(q, { ...query, idColumn: 'deposits.id' }, async (d: repo.DepositRow) => presentDepositSummary(d, (await repo.findCredit(tx, d.credit_id))!));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/deposits/:id', operationId: 'getDeposit', summary: 'A deposit with its credit, rule results, refunds and ledger postings', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, params: z.strictObject({ id: idParam('dep') }), response: s.depositDetailOut,
    handler: async ({ tx, caller, params }) => {
      const d = await service.getVisibleDeposit(tx, caller, params.id);
      const c = await repo.findCredit(tx, d.credit_id);
      if (!c) throw new NotFound('deposit', params.id);
      return presentDepositDetail(tx, d, c, await repo.refundsOfDeposit(tx, d.id));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/withdrawals', operationId: 'withdrawBid',
    summary: 'Withdraw a bid: refunded within R9 before the deadline, forfeitable after it (R10)', tags,
    access: { roles: ['centre', 'bidder'] }, params: sectionParams, body: s.withdrawalCreate, response: s.withdrawalOut, successStatus: 201,
    handler: async ({ tx, caller, params, body }) => {
      const { withdrawal, refunds } = await service.withdraw(tx as never, caller, params.id, body.bidderId);
      return presentWithdrawal(withdrawal, refunds);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/forfeitures', operationId: 'forfeitDeposit',
    summary: 'Forfeit a bidder\'s deposit for an R12 reason (不予退还)', tags,
    access: { roles: ['centre'] }, params: sectionParams, body: s.forfeitureCreate, response: s.forfeitureOut, successStatus: 201,
    handler: async ({ tx, caller, params, body }) => {
      const r = await service.forfeit(tx as never, caller, params.id, body.bidderId, body.reason);
      return {
        object: 'forfeiture' as const,
        sectionId: r.sectionId,
        bidderId: r.bidderId,
        reason: r.reason,
        decidedBy: r.decidedBy,
        decidedAt: r.decidedAt.toISOString(),
        rule: 'R12' as const,
        deposits: r.forfeited.map((f) => ({ depositId: f.depositId, amount: formatAmount(f.amountFen) })),
      };
    },
  }),
];
