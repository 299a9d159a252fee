// Credits held in suspense (R15): the bank booked money to a virtual account the service does
// not know, so nobody's bid is secured by it. A person at the centre decides; returning it to the
// account it came from is a refund like any other (sent through the bank, exactly once), with the
// decision on record (R17: the source account, never another without a decision).
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { Conflict, NotFound } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import type { Caller } from '../http/auth';
import { depositAccountSpec, postJournal, suspenseAccountSpec } from '../ledger';
import { enqueueRefundSubmit } from '../refunds/enqueue';
import type { RefundRow } from '../refunds/repo';
import { actorOf } from '../registry/service';
import { defaultBusinessTables } from '../tables';
import * as repo from './repo';

export async function returnSuspenseCredit(tx: Knex.Transaction, caller: Caller, depositId: string, decision: string, now = new Date()): Promise<RefundRow> {
  const d = await tx<repo.DepositRow>('deposits').where({ id: depositId }).forUpdate().first();
  if (!d) throw new NotFound('deposit', depositId);
  if (d.status !== 'suspense') throw new Conflict('not_in_suspense', `deposit ${depositId} is ${d.status}, not in suspense`, 'R15');
  const credit = (await repo.findCredit(tx, d.credit_id))!;
  // The refund engine reserves from the credit's own liability account: move the money there
  // from suspense first, as a journal of its own.
  await postJournal(tx, {
    kind: 'suspense_release',
    ref: d.id,
    memo: `credit ${credit.entry_ref} released from suspense to be returned: ${decision}`.slice(0, 500),
    postings: [
      { account: suspenseAccountSpec(d.bank_id), amountFen: d.amount_fen },
      { account: depositAccountSpec(d.id, d.bank_id), amountFen: -d.amount_fen },
    ],
  });
  const checks = [{ rule: 'R15', ok: false, detail: `paid to unknown virtual account ${d.virtual_account}; returned to its source by decision` }];
  await tx('deposits').where({ id: d.id }).update({ status: 'invalid', failed_rules: ['R15'], checks: JSON.stringify(checks), updated_at: now });
  const refundId = newId('rfd');
  const [refund] = (await tx('refunds')
    .insert({
      id: refundId,
      deposit_id: d.id,
      section_id: null,
      bidder_id: null,
      bank_id: d.bank_id,
      reason: 'suspense_return',
      principal_fen: d.amount_fen,
      // No rule sets a period for money nobody claimed; it goes back on the next working day.
      due_by: defaultBusinessTables.calendar.nextWorkingDay(businessDate(now)),
      creditor_account_number: credit.debtor_account,
      creditor_account_name: credit.debtor_name,
      creditor_bank_code: credit.debtor_bank_code,
    })
    .returning('*')) as RefundRow[];
  await tx('refund_decisions').insert({ refund_id: refundId, decision, decided_by: caller.keyId });
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'deposit.suspense_returned',
    entityType: 'deposit',
    entityId: d.id,
    data: { refundId, decision, amount: formatAmount(d.amount_fen), creditorAccount: credit.debtor_account, entryRef: credit.entry_ref },
  });
  await enqueueRefundSubmit(tx, refundId, 1);
  return refund;
}
