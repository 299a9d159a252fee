// Refund use cases. Every refund comes into being here, in the transaction of the event that
// owes it, with the job that submits it; the executor sends it to the bank and posts the ledger
// entries when money actually moves. Scheduling moves no money, so it posts nothing.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert, Conflict, NotFound, Unprocessable } from '../errors';
import { validateBankCode } from '../domain/bankCode';
import type { Calendar } from '../domain/calendar';
import { nextWorkingDayDue, refundDue, type RefundReason, type Regime } from '../domain/dueDates';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import type { Tx } from '../db/knex';
import type { Caller } from '../http/auth';
import { paginate, type Page } from '../http/pagination';
import { findCredit, findDeposit, lockDeposit, type CreditRow, type DepositRow } from '../deposits/repo';
import { findSection } from '../registry/repo';
import { actorOf } from '../registry/service';
import { enqueueFirstRefundSubmit, enqueueRefundSubmit } from './enqueue';
import * as repo from './repo';
import { endToEndIdAfterReturn, paymentGeneration, refundReturnsMax } from './rules';

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
  const { dueBy, provisional } = refundDue({ regime: section.regime, eventDate, calendar, reason: input.reason });
  const refund = await repo.insertRefund(tx, {
    ...fromSource(deposit, credit),
    id: newId('rfd'),
    reason: input.reason,
    principal_fen: input.principalFen,
    due_by: dueBy,
    due_from: eventDate,
    due_by_provisional: provisional,
  });
  if (!refund) return { refund: (await repo.findRefundOf(tx, deposit.id, input.reason))!, created: false };
  await appendAudit(tx, {
    actor: input.actor ?? { type: 'system' },
    action: 'refund.scheduled',
    entityType: 'refund',
    entityId: refund.id,
    data: { depositId: deposit.id, reason: input.reason, principal: formatAmount(input.principalFen), dueBy, dueByProvisional: provisional, creditorAccount: credit.debtor_account },
  });
  // Refunds are paid as soon as they are owed; the due date is the latest day, not the first.
  await enqueueFirstRefundSubmit(tx, refund.bank_id, refund.id);
  return { refund, created: true };
}

/** Deposits scheduled per statement in scheduleRefunds: within PostgreSQL's bind-parameter limit. */
const refundsPerInsertMax = 1_000;

/** scheduleRefund for many deposits of one event at once (a contract or a termination owes a
 *  refund to every bidder): the same checks and the same rows, read and written a statement per
 *  thousand deposits instead of several per deposit. In input order. */
export async function scheduleRefunds(tx: Knex.Transaction, calendar: Calendar, inputs: ScheduleRefundInput[]): Promise<{ refund: repo.RefundRow; created: boolean }[]> {
  const out: { refund: repo.RefundRow; created: boolean }[] = [];
  const dueMemo = new Map<string, ReturnType<typeof refundDue>>();
  for (let i = 0; i < inputs.length; i += refundsPerInsertMax) {
    const part = inputs.slice(i, i + refundsPerInsertMax);
    for (const input of part) assert(input.principalFen > 0n, 'a refund principal is positive');
    const depositIds = [...new Set(part.map((p) => p.depositId))].sort();
    // Locked in id order, as lockDeposit locks one: two events refunding overlapping deposits
    // wait for each other instead of deadlocking.
    const deposits = new Map(((await tx('deposits').whereIn('id', depositIds).orderBy('id').forUpdate()) as DepositRow[]).map((d) => [d.id, d]));
    const already = new Map<string, repo.RefundRow[]>();
    for (const r of (await tx('refunds').whereIn('deposit_id', depositIds)) as repo.RefundRow[]) already.set(r.deposit_id, [...(already.get(r.deposit_id) ?? []), r]);
    const credits = new Map(((await tx('credits').whereIn('id', [...deposits.values()].map((d) => d.credit_id))) as CreditRow[]).map((c) => [c.id, c]));
    const sectionIds = [...new Set([...deposits.values()].flatMap((d) => (d.section_id ? [d.section_id] : [])))];
    const sections = new Map((await Promise.all(sectionIds.map((id) => findSection(tx, id)))).flatMap((sec) => (sec ? [[sec.id, sec] as const] : [])));
    const rows: repo.NewRefund[] = [];
    const plans = part.map((input) => {
      const deposit = deposits.get(input.depositId);
      assert(deposit, `deposit ${input.depositId} exists`);
      assert(deposit.section_id !== null, 'suspense credits are returned by a person, not scheduled (R15)');
      const refunds = already.get(deposit.id) ?? [];
      const existing = refunds.find((r) => r.reason === input.reason);
      if (existing) return { existing };
      const owedFen = refunds.reduce((t, r) => t + r.principal_fen, 0n) + input.principalFen;
      // Never more back than came in.
      assert(owedFen <= deposit.amount_fen, `refunds of ${deposit.id} (${owedFen} fen) exceed its ${deposit.amount_fen} fen`);
      const credit = credits.get(deposit.credit_id)!;
      const section = sections.get(deposit.section_id)!;
      const eventDate = typeof input.eventAt === 'string' ? input.eventAt : businessDate(input.eventAt);
      const key = `${section.regime}|${eventDate}|${input.reason}`;
      if (!dueMemo.has(key)) dueMemo.set(key, refundDue({ regime: section.regime, eventDate, calendar, reason: input.reason }));
      const { dueBy, provisional } = dueMemo.get(key)!;
      const row: repo.NewRefund = { ...fromSource(deposit, credit), id: newId('rfd'), reason: input.reason, principal_fen: input.principalFen, due_by: dueBy, due_from: eventDate, due_by_provisional: provisional };
      // The same deposit and reason twice in one call is one refund.
      refunds.push({ ...row, status: 'scheduled' } as repo.RefundRow);
      already.set(deposit.id, refunds);
      rows.push(row);
      return { row, input, credit, dueBy, provisional };
    });
    const inserted = new Map((await repo.insertRefunds(tx, rows)).map((r) => [r.id, r]));
    for (const p of plans) {
      if ('existing' in p) {
        out.push({ refund: p.existing!, created: false });
        continue;
      }
      const refund = inserted.get(p.row.id) ?? (await repo.findRefundOf(tx, p.row.deposit_id, p.row.reason))!;
      const created = inserted.has(p.row.id);
      out.push({ refund, created });
      if (!created) continue;
      await appendAudit(tx, {
        actor: p.input.actor ?? { type: 'system' },
        action: 'refund.scheduled',
        entityType: 'refund',
        entityId: refund.id,
        data: { depositId: refund.deposit_id, reason: refund.reason, principal: formatAmount(refund.principal_fen), dueBy: p.dueBy, dueByProvisional: p.provisional, creditorAccount: p.credit.debtor_account },
      });
      // Refunds are paid as soon as they are owed; the due date is the latest day, not the first.
      await enqueueFirstRefundSubmit(tx, refund.bank_id, refund.id);
    }
  }
  return out;
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
  const decidedOn = businessDate(input.now);
  // No rule sets a period for money nobody claimed; it goes back on the next working day.
  const due = nextWorkingDayDue(calendar, decidedOn);
  const refund = await repo.insertRefund(tx, {
    ...fromSource(deposit, credit),
    id: newId('rfd'),
    reason: 'suspense_return',
    principal_fen: deposit.amount_fen,
    due_by: due.dueBy,
    due_from: decidedOn,
    due_by_provisional: due.provisional,
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

/** A person sends a refund in manual handling, or one whose payment the payee's bank returned,
 *  again, with the decision on record (R17): to its source account, or to the account the
 *  decision names. */
export async function retryRefund(tx: Knex.Transaction, caller: Caller, refundId: string, input: RetryInput, now = new Date()): Promise<RefundWithHistory> {
  const r = await repo.lockRefund(tx, refundId);
  if (!r) throw new NotFound('refund', refundId);
  if (!repo.awaitingDecisionStatuses.includes(r.status)) {
    throw new Conflict('illegal_transition', `only a refund in manual handling or returned by the payee's bank can be retried; this one is ${r.status}`);
  }
  // The bank took the deposit's credit back (冲正): the money went back to the payer and
  // nothing is owed, whatever a person decides about this refund.
  const deposit = await findDeposit(tx, r.deposit_id);
  if ((deposit?.status as string | undefined) === 'reversed') throw new Conflict('deposit_reversed', `the bank reversed the credit of deposit ${r.deposit_id}: nothing is owed, the refund cannot be sent`);
  if (input.account) {
    const v = validateBankCode(input.account.bankCode);
    if (!v.ok) throw new Unprocessable('invalid_bank_code', `account.bankCode is not a valid CNAPS bank code: ${v.reason}`, 'account.bankCode');
  }
  // After a return the money is provably back (its return is booked) and the bank will not pay
  // the old end-to-end id again: the next payment goes under a new one (rules.ts).
  let afterReturn: { endToEndId: string } | undefined;
  if (r.status === 'returned') {
    const firstEndToEndId = (await repo.attemptsOf(tx, r.id))[0]?.end_to_end_id;
    assert(firstEndToEndId, `returned refund ${r.id} has attempts`);
    if (paymentGeneration(firstEndToEndId, r.end_to_end_id) > refundReturnsMax) {
      throw new Conflict('too_many_returns', `refund ${r.id} came back ${refundReturnsMax} times; pay it outside the service and record that`);
    }
    afterReturn = { endToEndId: endToEndIdAfterReturn(firstEndToEndId, r.end_to_end_id) };
  }
  await repo.insertDecision(tx, { refundId: r.id, decision: input.decision, account: input.account, decidedBy: caller.keyId });
  // A person's decision grants a fresh budget of attempts; the attempts already made stay.
  const n = await repo.reopenManual(tx, r.id, now, afterReturn);
  assert(n === 1, `refund ${r.id} reopened from ${r.status} once`);
  await enqueueRefundSubmit(tx, r.id, (await repo.lastAttemptSeq(tx, r.id)) + 1);
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'refund.retry_decided',
    entityType: 'refund',
    entityId: r.id,
    data: {
      decision: input.decision,
      account: input.account ?? null,
      previousAccount: input.account ? r.creditor_account_number : undefined,
      previousStatus: r.status,
      ...(afterReturn ? { previousEndToEndId: r.end_to_end_id, endToEndId: afterReturn.endToEndId, returnReasonCode: r.return_reason_code } : {}),
    },
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

// ---- the bank took the deposit's credit back (冲正) ---------------------------------------------
// The money a refund would pay is gone back to the payer by the bank's own hand, so a refund
// that has not moved money must never be sent, and one that has (or may have) means the bank
// took money that is no longer there: a person must look, and nothing is changed here.

/** Refund statuses and manual reasons after which money has left, or may have left, the trust
 *  account: settled, with the bank, sent back by the payee's bank, or of unknown fate. */
const movedStatuses: readonly string[] = ['submitted', 'settled', 'returned'];
const movedManualCodes: readonly string[] = ['status_unknown', 'returned'];

export type ReversalRefundCheck =
  | { ok: true; refunds: repo.RefundRow[] }
  | { ok: false; refund: repo.RefundRow; detail: string };

/** Locks the deposit's refunds and says whether each can still be stopped: one that is
 *  scheduled or waiting for a person, every earlier instruction of which the bank refused. An
 *  attempt without a final refusal (no record, unknown) may still be paid from the bank's queue. */
export async function refundsBeforeReversal(tx: Knex.Transaction, depositId: string): Promise<ReversalRefundCheck> {
  const refunds = await repo.lockRefundsOfDeposit(tx, depositId);
  const attempts = refunds.length ? await repo.attemptStatusesOf(tx, refunds.map((r) => r.id)) : [];
  for (const r of refunds) {
    if (movedStatuses.includes(r.status)) return { ok: false, refund: r, detail: `refund ${r.id} (${r.reason}) is ${r.status}: its money has left or may have left the trust account` };
    if (r.status === 'manual' && r.manual_code !== null && movedManualCodes.includes(r.manual_code)) {
      return { ok: false, refund: r, detail: `refund ${r.id} (${r.reason}) waits for a person as ${r.manual_code}: its money may have left the trust account` };
    }
    const open = attempts.find((a) => a.refund_id === r.id && a.status !== 'rejected');
    if (open) return { ok: false, refund: r, detail: `attempt ${open.seq} of refund ${r.id} (${r.reason}) ended ${open.status}, not refused: the bank may still pay it` };
  }
  return { ok: true, refunds };
}

/** Cancels every refund of the deposit that has not moved money (see refundsBeforeReversal,
 *  which the caller has checked in this transaction): each leaves `scheduled` by a guarded
 *  update, so an executor that claims it afterwards finds nothing to send. The refunds table has
 *  no `cancelled` status: a cancelled refund waits in `manual` without a code, its reason saying
 *  it is not to be paid. */
export async function cancelScheduledForReversal(
  tx: Knex.Transaction,
  input: { depositId: string; reversalEntryRef: string; actor: Actor; now?: Date },
): Promise<repo.RefundRow[]> {
  const now = input.now ?? new Date();
  const check = await refundsBeforeReversal(tx, input.depositId);
  assert(check.ok, `refunds of ${input.depositId} can be cancelled: ${check.ok ? '' : check.detail}`);
  const cancelled: repo.RefundRow[] = [];
  for (const r of check.refunds) {
    if (r.status !== 'scheduled' && r.status !== 'manual') continue;
    const reason = `cancelled: the bank reversed the credit of deposit ${input.depositId} (entry ${input.reversalEntryRef}); the money went back to the payer and nothing is owed. Do not retry.`;
    const n = await repo.cancelRefundForReversal(tx, r.id, { from: r.status, reason, now });
    assert(n === 1, `refund ${r.id} left ${r.status} for the reversal`);
    await appendAudit(tx, {
      actor: input.actor,
      action: 'refund.cancelled',
      entityType: 'refund',
      entityId: r.id,
      data: { depositId: input.depositId, reason: r.reason, principal: formatAmount(r.principal_fen), previousStatus: r.status, reversalEntryRef: input.reversalEntryRef },
    });
    cancelled.push((await repo.findRefund(tx, r.id))!);
  }
  return cancelled;
}

/** Provisional due dates recomputed per call; the next load (or call) takes the rest. */
export const provisionalDueDatesPerPassMax = 5000;

/** R19: once a year's schedule is loaded, every open refund whose due date was computed past the
 *  known calendar (from weekends alone) gets its due date again from the date it runs from. */
export async function recomputeProvisionalDueDates(tx: Knex.Transaction, calendar: Calendar, actor: Actor): Promise<number> {
  const rows = await repo.provisionalOpenRefunds(tx, provisionalDueDatesPerPassMax);
  let changed = 0;
  for (const r of rows) {
    const due = r.reason === 'suspense_return' ? nextWorkingDayDue(calendar, r.due_from) : refundDue({ regime: r.regime as Regime, eventDate: r.due_from, calendar, reason: r.reason as RefundReason });
    if (due.dueBy === r.due_by && due.provisional) continue;
    await repo.setDueDate(tx, r.id, due.dueBy, due.provisional);
    await appendAudit(tx, { actor, action: 'refund.due_date_recomputed', entityType: 'refund', entityId: r.id, data: { from: r.due_by, to: due.dueBy, provisional: due.provisional, runsFrom: r.due_from } });
    changed += 1;
  }
  return changed;
}
