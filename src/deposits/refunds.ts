// The seam between deciding a refund and executing it: a refund is scheduled (with its due
// date) in the transaction of the event that owes it, with the job that submits it; the refunds
// worker sends it to the bank and posts the ledger entries when money actually moves.
// Scheduling moves no money, so it posts nothing.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert } from '../errors';
import type { Calendar } from '../domain/calendar';
import { defaultBusinessTables } from '../tables';
import { refundDueDate, type RefundReason, type Regime } from '../domain/dueDates';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import * as repo from './repo';
import { enqueueRefundSubmit } from '../refunds/enqueue';

export interface ScheduleRefundInput {
  depositId: string;
  reason: RefundReason;
  principalFen: bigint;
  /** The event the period runs from (notice, award, contract, booking); a date or a time. */
  eventAt: Date | string;
  actor?: Actor;
  calendar?: Calendar;
}

/** Schedules one refund per deposit and reason; asking again returns the refund on record.
 *  The creditor is always the account the money came from (R17). */
export async function scheduleRefund(tx: Knex.Transaction, input: ScheduleRefundInput): Promise<{ refund: repo.RefundRow; created: boolean }> {
  assert(input.principalFen > 0n, 'a refund principal is positive');
  const deposit = await tx<repo.DepositRow>('deposits').where({ id: input.depositId }).forUpdate().first();
  assert(deposit, `deposit ${input.depositId} exists`);
  assert(deposit.section_id !== null, 'suspense credits are returned by a person, not scheduled (R15)');
  const existing = await tx<repo.RefundRow>('refunds').where({ deposit_id: deposit.id, reason: input.reason }).first();
  if (existing) return { refund: existing, created: false };
  const already = await repo.refundsOfDeposit(tx, deposit.id);
  const owedFen = already.reduce((s, r) => s + r.principal_fen, 0n) + input.principalFen;
  // Never more back than came in.
  assert(owedFen <= deposit.amount_fen, `refunds of ${deposit.id} (${owedFen} fen) exceed its ${deposit.amount_fen} fen`);
  const credit = (await repo.findCredit(tx, deposit.credit_id))!;
  const section = (await tx('sections').where({ id: deposit.section_id }).first('regime')) as { regime: Regime };
  const eventDate = typeof input.eventAt === 'string' ? input.eventAt : businessDate(input.eventAt);
  const dueBy = refundDueDate({ regime: section.regime, eventDate, calendar: input.calendar ?? defaultBusinessTables.calendar, reason: input.reason });
  const id = newId('rfd');
  const inserted = await tx('refunds')
    .insert({
      id,
      deposit_id: deposit.id,
      section_id: deposit.section_id,
      bidder_id: deposit.bidder_id,
      bank_id: deposit.bank_id,
      reason: input.reason,
      principal_fen: input.principalFen,
      due_by: dueBy,
      creditor_account_number: credit.debtor_account,
      creditor_account_name: credit.debtor_name,
      creditor_bank_code: credit.debtor_bank_code,
    })
    .onConflict(['deposit_id', 'reason'])
    .ignore()
    .returning('*');
  if (inserted.length === 0) {
    return { refund: (await tx<repo.RefundRow>('refunds').where({ deposit_id: deposit.id, reason: input.reason }).first())!, created: false };
  }
  await appendAudit(tx, {
    actor: input.actor ?? { type: 'system' },
    action: 'refund.scheduled',
    entityType: 'refund',
    entityId: id,
    data: { depositId: deposit.id, reason: input.reason, principal: formatAmount(input.principalFen), dueBy, creditorAccount: credit.debtor_account },
  });
  // Refunds are paid as soon as they are owed; the due date is the latest day, not the first.
  await enqueueRefundSubmit(tx, id, 1);
  return { refund: inserted[0] as repo.RefundRow, created: true };
}
