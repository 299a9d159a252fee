// Refund use cases. Every refund comes into being here, in the transaction of the event that
// owes it, with the job that submits it; the executor sends it to the bank and posts the ledger
// entries when money actually moves. Scheduling moves no money, so it posts nothing.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert, Conflict, NotFound, Unprocessable } from '../errors';
import { validateBankCode } from '../domain/bankCode';
import type { Calendar } from '../domain/calendar';
import { refundDueDate, type RefundReason } from '../domain/dueDates';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import type { Tx } from '../db/knex';
import type { Caller } from '../http/auth';
import { paginate, type Page } from '../http/pagination';
import { findCredit, lockDeposit, type CreditRow, type DepositRow } from '../deposits/repo';
import { findSection } from '../registry/repo';
import { actorOf } from '../registry/service';
import { enqueueRefundSubmit } from './enqueue';
import * as repo from './repo';

export const refundsOfDeposit = (tx: Tx, depositId: string): Promise<repo.RefundRow[]> => repo.refundsOfDeposit(tx, depositId);

// ---- scheduling ----------------------------------------------------------------------------

export interface ScheduleRefundInput {
  depositId: string;
  reason: RefundReason;
  principalFen: bigint;
  /** The event the period runs from (notice, award, contract, booking); a date or a time. */
  eventAt: Date | string;
  actor?: Actor;
}

/** Schedules one refund per deposit and reason; asking again returns the refund on record.
 *  The creditor is always the account the money came from (R17); the due date counts working
 *  days on `calendar` (R19). */
export async function scheduleRefund(tx: Knex.Transaction, calendar: Calendar, input: ScheduleRefundInput): Promise<{ refund: repo.RefundRow; created: boolean }> {
  assert(input.principalFen > 0n, 'a refund principal is positive');
  const deposit = await lockDeposit(tx, input.depositId);
  assert(deposit, `deposit ${input.depositId} exists`);
  assert(deposit.section_id !== null, 'suspense credits are returned by a person, not scheduled (R15)');
  const existing = await repo.findRefundOf(tx, deposit.id, input.reason);
  if (existing) return { refund: existing, created: false };
  const already = await repo.refundsOfDeposit(tx, deposit.id);
  const owedFen = already.reduce((s, r) => s + r.principal_fen, 0n) + input.principalFen;
  // Never more back than came in.
  assert(owedFen <= deposit.amount_fen, `refunds of ${deposit.id} (${owedFen} fen) exceed its ${deposit.amount_fen} fen`);
  const credit = (await findCredit(tx, deposit.credit_id))!;
  const section = (await findSection(tx, deposit.section_id))!;
  const eventDate = typeof input.eventAt === 'string' ? input.eventAt : businessDate(input.eventAt);
  const dueBy = refundDueDate({ regime: section.regime, eventDate, calendar, reason: input.reason });
  const refund = await repo.insertRefund(tx, { ...fromSource(deposit, credit), id: newId('rfd'), reason: input.reason, principal_fen: input.principalFen, due_by: dueBy });
  if (!refund) return { refund: (await repo.findRefundOf(tx, deposit.id, input.reason))!, created: false };
  await appendAudit(tx, {
    actor: input.actor ?? { type: 'system' },
    action: 'refund.scheduled',
    entityType: 'refund',
    entityId: refund.id,
    data: { depositId: deposit.id, reason: input.reason, principal: formatAmount(input.principalFen), dueBy, creditorAccount: credit.debtor_account },
  });
  // Refunds are paid as soon as they are owed; the due date is the latest day, not the first.
  await enqueueRefundSubmit(tx, refund.id, 1);
  return { refund, created: true };
}

/** R15: a credit held in suspense goes back to where it came from by a person's decision, which
 *  is kept with the refund. The caller has moved the deposit out of suspense. */
export async function scheduleSuspenseReturn(
  tx: Knex.Transaction,
  calendar: Calendar,
  input: { deposit: DepositRow; credit: CreditRow; decision: string; decidedBy: string; now: Date },
): Promise<repo.RefundRow> {
  const { deposit, credit } = input;
  assert(deposit.section_id === null, `deposit ${deposit.id} held in suspense belongs to no section`);
  const refund = await repo.insertRefund(tx, {
    ...fromSource(deposit, credit),
    id: newId('rfd'),
    reason: 'suspense_return',
    principal_fen: deposit.amount_fen,
    // No rule sets a period for money nobody claimed; it goes back on the next working day.
    due_by: calendar.nextWorkingDay(businessDate(input.now)),
  });
  assert(refund, `deposit ${deposit.id} is returned from suspense once`);
  await repo.insertDecision(tx, { refundId: refund.id, decision: input.decision, decidedBy: input.decidedBy });
  await enqueueRefundSubmit(tx, refund.id, 1);
  return refund;
}

/** R17: only ever where the money came from. */
function fromSource(deposit: DepositRow, credit: CreditRow) {
  return {
    deposit_id: deposit.id,
    section_id: deposit.section_id,
    bidder_id: deposit.bidder_id,
    bank_id: deposit.bank_id,
    creditor_account_number: credit.debtor_account,
    creditor_account_name: credit.debtor_name,
    creditor_bank_code: credit.debtor_bank_code,
  };
}

// ---- manual handling -------------------------------------------------------------------------

export interface RetryInput {
  decision: string;
  account?: { number: string; name: string; bankCode: string };
}

/** A person sends a refund in manual handling again, with the decision on record (R17): to its
 *  source account, or to the account the decision names. */
export async function retryRefund(tx: Knex.Transaction, caller: Caller, refundId: string, input: RetryInput, now = new Date()): Promise<RefundWithHistory> {
  const r = await repo.lockRefund(tx, refundId);
  if (!r) throw new NotFound('refund', refundId);
  if (r.status !== 'manual') throw new Conflict('illegal_transition', `only a refund in manual handling can be retried; this one is ${r.status}`);
  if (input.account) {
    const v = validateBankCode(input.account.bankCode);
    if (!v.ok) throw new Unprocessable('invalid_bank_code', `account.bankCode is not a valid CNAPS bank code: ${v.reason}`, 'account.bankCode');
  }
  await repo.insertDecision(tx, { refundId: r.id, decision: input.decision, account: input.account, decidedBy: caller.keyId });
  // A person's decision grants a fresh budget of attempts; the attempts already made stay.
  await repo.reopenManual(tx, r.id, now);
  await enqueueRefundSubmit(tx, r.id, (await repo.lastAttemptSeq(tx, r.id)) + 1);
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'refund.retry_decided',
    entityType: 'refund',
    entityId: r.id,
    data: { decision: input.decision, account: input.account ?? null, previousAccount: input.account ? r.creditor_account_number : undefined },
  });
  return withHistory(tx, (await repo.findRefund(tx, r.id))!);
}

// ---- reading ---------------------------------------------------------------------------------

export interface RefundWithHistory {
  refund: repo.RefundRow;
  attempts: repo.AttemptRow[];
  decisions: repo.DecisionRow[];
}

async function withHistory(tx: Tx, refund: repo.RefundRow): Promise<RefundWithHistory> {
  return { refund, attempts: await repo.attemptsOf(tx, refund.id), decisions: await repo.decisionsOf(tx, refund.id) };
}

/** A bidder sees only its own refunds; anyone else's answer 404. */
export async function getVisibleRefund(tx: Tx, caller: Caller, id: string): Promise<RefundWithHistory> {
  const r = await repo.findRefund(tx, id);
  if (!r || (caller.role === 'bidder' && r.bidder_id !== caller.bidderId)) throw new NotFound('refund', id);
  return withHistory(tx, r);
}

export interface RefundListQuery {
  limit: number;
  cursor?: string;
  sectionId?: string;
  bidderId?: string;
  status?: repo.RefundStatus;
  overdue?: 'true' | 'false';
}

export async function listRefunds(tx: Tx, caller: Caller, query: RefundListQuery, now = new Date()): Promise<Page<repo.RefundRow>> {
  const q = repo.refundsWhere(tx, {
    sectionId: query.sectionId,
    bidderId: query.bidderId,
    visibleToBidder: caller.role === 'bidder' ? caller.bidderId! : undefined,
    status: query.status,
    overdue: query.overdue === undefined ? undefined : { is: query.overdue === 'true', today: businessDate(now) },
  });
  return paginate(q, query, (r: repo.RefundRow) => r);
}
