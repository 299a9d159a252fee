// Queries on refunds, their attempts and the decisions people recorded; each takes the unit of
// work first. Every write to these three tables is here, called by the refunds service, the
// executor and settle, so each state change is a guarded UPDATE in one place.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';

/** A refund whose attempt the bank rejected goes back to `scheduled` (or to `manual`); the
 *  attempt, not the refund, records the rejection. `returned`: it had settled, and the payee's
 *  bank sent the money back (退汇); it waits for a person like `manual`. */
export type RefundStatus = 'scheduled' | 'submitted' | 'settled' | 'returned' | 'manual';
/** Waiting for a person's recorded decision (R17), who may send it again. */
export const awaitingDecisionStatuses: readonly RefundStatus[] = ['manual', 'returned'];
export type AttemptStatus = 'sending' | 'sent' | 'sent_unknown' | 'settled' | 'rejected' | 'no_record';
/** An instruction the bank may be acting on: at most one per refund (partial unique index). */
export const inFlightAttemptStatuses: readonly AttemptStatus[] = ['sending', 'sent', 'sent_unknown'];

export interface RefundRow {
  id: string;
  deposit_id: string;
  section_id: string | null;
  bidder_id: string | null;
  bank_id: string;
  reason: 'invalid' | 'excess' | 'withdrawal' | 'contract' | 'award_non_winner' | 'termination' | 'suspense_return';
  principal_fen: bigint;
  status: RefundStatus;
  due_by: string;
  /** The business date the period runs from (null for refunds recorded before it was kept). */
  due_from: string | null;
  /** Counted past the last year the R19 calendar knows: recomputed when that year is loaded. */
  due_by_provisional: boolean;
  creditor_account_number: string;
  creditor_account_name: string;
  creditor_bank_code: string | null;
  interest_fen: bigint | null;
  late_fee_fen: bigint | null;
  value_date: string | null;
  settled_at: Date | null;
  bank_reference: string | null;
  attempts_count: number;
  last_reason_code: string | null;
  manual_reason: string | null;
  manual_code: ManualCode | null;
  /** Sent to the bank with every attempt: the bank's duplicate check is what stops a second
   *  payment when an earlier instruction is still in its queue. */
  end_to_end_id: string;
  /** No new attempt before this (after "no record", after a rejection). */
  not_before: Date | null;
  /** When the payee's bank booked the last return of this refund's money (退汇), and why. */
  returned_at: Date | null;
  return_reason_code: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Why a refund waits for a person. */
export type ManualCode = 'account_rejected' | 'attempts_exhausted' | 'status_unknown' | 'returned';

/** `E` and the refund id's 26 characters: within ISO 20022's 35, and the same for life (until a
 *  payment made under it comes back: rules.ts `endToEndIdAfterReturn`). */
export function endToEndIdOf(refundId: string): string {
  return `E${refundId.slice('rfd_'.length)}`;
}

export interface AttemptRow {
  id: string;
  refund_id: string;
  seq: number;
  end_to_end_id: string;
  message_id: string;
  status: AttemptStatus;
  principal_fen: bigint;
  interest_fen: bigint;
  late_fee_fen: bigint;
  amount_fen: bigint;
  value_date: string;
  interest_from: string;
  creditor_account_number: string;
  creditor_account_name: string;
  creditor_bank_code: string | null;
  reserve_journal_id: string;
  bank_status: string | null;
  reason_code: string | null;
  reason_text: string | null;
  bank_reference: string | null;
  last_error: string | null;
  polls: number;
  sent_at: Date | null;
  unknown_since: Date | null;
  next_poll_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DecisionRow {
  seq: bigint;
  refund_id: string;
  decision: string;
  account_number: string | null;
  account_name: string | null;
  account_bank_code: string | null;
  decided_by: string;
  decided_at: Date;
}

// ---- refunds ---------------------------------------------------------------------------------

export const findRefund = (tx: Tx, id: string) => tx<RefundRow>('refunds').where({ id }).first() as Promise<RefundRow | undefined>;
export const lockRefund = (tx: Knex.Transaction, id: string) => tx<RefundRow>('refunds').where({ id }).forUpdate().first() as Promise<RefundRow | undefined>;
export const findRefundOf = (tx: Tx, depositId: string, reason: RefundRow['reason']) =>
  tx<RefundRow>('refunds').where({ deposit_id: depositId, reason }).first() as Promise<RefundRow | undefined>;
export const refundsOfDeposit = (tx: Tx, depositId: string) =>
  tx<RefundRow>('refunds').where({ deposit_id: depositId }).orderBy('id') as unknown as Promise<RefundRow[]>;

export interface RefundFilter {
  sectionId?: string;
  bidderId?: string;
  status?: RefundStatus;
  /** A bidder's key sees its own refunds only, on top of any other filter. */
  visibleToBidder?: string;
  /** Not settled by the end of its due date (`today`, a Shanghai business date). */
  overdue?: { is: boolean; today: string };
}

/** The refunds matching a filter, for keyset pagination. */
export function refundsWhere(tx: Tx, f: RefundFilter): Knex.QueryBuilder {
  const q = tx('refunds');
  if (f.sectionId) q.where('section_id', f.sectionId);
  if (f.bidderId) q.where('bidder_id', f.bidderId);
  if (f.status) q.where('status', f.status);
  if (f.overdue?.is === true) q.whereNot('status', 'settled').where((w) => w.where('due_by', '<', f.overdue!.today).orWhere('manual_code', 'status_unknown'));
  if (f.overdue?.is === false) q.where((w) => w.where('status', 'settled').orWhere((o) => o.where('due_by', '>=', f.overdue!.today).where((m) => m.whereNull('manual_code').orWhereNot('manual_code', 'status_unknown'))));
  if (f.visibleToBidder) q.where('bidder_id', f.visibleToBidder);
  return q;
}

export type NewRefund = Pick<
  RefundRow,
  | 'id' | 'deposit_id' | 'section_id' | 'bidder_id' | 'bank_id' | 'reason' | 'principal_fen' | 'due_by' | 'due_from' | 'due_by_provisional'
  | 'creditor_account_number' | 'creditor_account_name' | 'creditor_bank_code'
>;

/** Open refunds whose due date ran past the known calendar, with what recomputing it needs. */
export async function provisionalOpenRefunds(tx: Tx, limit: number): Promise<(Pick<RefundRow, 'id' | 'reason' | 'due_by'> & { due_from: string; regime: string | null })[]> {
  return tx('refunds as r')
    .leftJoin('sections as s', 's.id', 'r.section_id')
    .where('r.due_by_provisional', true)
    .whereNotNull('r.due_from')
    .whereNot('r.status', 'settled')
    .orderBy('r.id')
    .limit(limit)
    .select('r.id', 'r.reason', 'r.due_by', 'r.due_from', 's.regime');
}

export async function setDueDate(tx: Knex.Transaction, id: string, dueBy: string, provisional: boolean): Promise<void> {
  await tx('refunds').where({ id }).update({ due_by: dueBy, due_by_provisional: provisional, updated_at: tx.fn.now() });
}

/** insertRefund for many: those already on record (deposit and reason) are left out of the result. */
export async function insertRefunds(tx: Knex.Transaction, rows: NewRefund[]): Promise<RefundRow[]> {
  if (rows.length === 0) return [];
  return (await tx('refunds').insert(rows.map((row) => ({ ...row, end_to_end_id: endToEndIdOf(row.id) }))).onConflict(['deposit_id', 'reason']).ignore().returning('*')) as RefundRow[];
}

/** One refund per deposit and reason: undefined when that refund is already on record. */
export async function insertRefund(tx: Knex.Transaction, row: NewRefund): Promise<RefundRow | undefined> {
  const inserted = (await tx('refunds').insert({ ...row, end_to_end_id: endToEndIdOf(row.id) }).onConflict(['deposit_id', 'reason']).ignore().returning('*')) as RefundRow[];
  return inserted[0];
}

/** A refund may be claimed once its hold has passed, on the database's clock (every process
 *  and the sweep agree on it whatever their own clocks say). */
function dueNow(q: Knex.QueryBuilder): void {
  void q.whereNull('not_before').orWhereRaw('not_before <= now()');
}

/** submitted → scheduled (held `holdMs` from now on the database's clock) or manual, after an
 *  attempt that moved no money. */
export async function moveAfterFailedAttempt(
  tx: Knex.Transaction,
  id: string,
  f: { status: 'scheduled' | 'manual'; holdMs: number; lastReasonCode: string | null; manualCode: ManualCode | null; manualReason: string | null; now: Date },
): Promise<number> {
  return tx('refunds').where({ id, status: 'submitted' }).update({
    status: f.status,
    not_before: f.status === 'scheduled' && f.holdMs > 0 ? tx.raw('now() + make_interval(secs => ?)', [f.holdMs / 1000]) : null,
    last_reason_code: f.lastReasonCode,
    manual_code: f.manualCode,
    manual_reason: f.manualReason,
    updated_at: f.now,
  });
}

/** A held refund whose earlier instruction may have reached the bank after all: claim it now,
 *  so that the next attempt (refused as a duplicate if so) finds out. */
export async function releaseHold(tx: Tx, id: string): Promise<number> {
  return tx('refunds').where({ id, status: 'scheduled' }).whereNotNull('not_before').update({ not_before: null, updated_at: tx.fn.now() });
}

/** manual → scheduled with a fresh budget of attempts, under the same end-to-end id (an
 *  instruction under it may still be at the bank). `afterReturn`: returned → scheduled under a
 *  new end-to-end id instead (the payment under the old one was made and came back, and a bank
 *  pays an id only once). */
export async function reopenManual(tx: Knex.Transaction, id: string, now: Date, afterReturn?: { endToEndId: string }): Promise<number> {
  const reopen = { status: 'scheduled', attempts_count: 0, manual_code: null, manual_reason: null, not_before: null, updated_at: now };
  if (afterReturn) return tx('refunds').where({ id, status: 'returned' }).update({ ...reopen, end_to_end_id: afterReturn.endToEndId });
  return tx('refunds').where({ id, status: 'manual' }).update(reopen);
}

/** settled → returned: the payment that settled it came back. The amounts it was settled with
 *  stay on the refund: they are what is owed again. */
export async function markRefundReturned(tx: Knex.Transaction, id: string, f: { returnedAt: Date; reasonCode: string; manualReason: string; now: Date }): Promise<number> {
  return tx('refunds').where({ id, status: 'settled' }).update({
    status: 'returned',
    returned_at: f.returnedAt,
    return_reason_code: f.reasonCode,
    manual_code: 'returned',
    manual_reason: f.manualReason,
    last_reason_code: f.reasonCode,
    updated_at: f.now,
  });
}

/** Whether a refund may be claimed now, read after whichever transaction holds its row has
 *  ended (FOR UPDATE waits where a claim's SKIP LOCKED passes over; PostgreSQL judges the
 *  conditions again on the row as that transaction left it). */
export async function claimableOnceFree(db: Knex, id: string, attemptsMax: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const row = await tx('refunds').where({ id, status: 'scheduled' }).where('attempts_count', '<', attemptsMax).where(dueNow).forUpdate().first('id');
    return row !== undefined;
  });
}

/** Banks with refunds that may be sent now. */
export async function banksWithDueRefunds(tx: Tx, limit: number): Promise<string[]> {
  return (await tx('refunds').where({ status: 'scheduled' }).where(dueNow).distinct('bank_id').orderBy('bank_id').limit(limit).pluck('bank_id')) as string[];
}

export interface OpenRefundCounts {
  due: number;
  overdue: number;
  inFlight: number;
  /** Waiting for a person: manual handling and returned by the payee's bank together. */
  manual: number;
  statusUnknown: number;
  returned: number;
}

export async function countOpenRefunds(tx: Tx, today: string): Promise<OpenRefundCounts> {
  const row = (
    await tx.raw(
      `SELECT count(*) FILTER (WHERE status = 'scheduled') AS due,
              count(*) FILTER (WHERE due_by < ?) AS overdue,
              count(*) FILTER (WHERE status = 'submitted') AS in_flight,
              count(*) FILTER (WHERE status IN ('manual','returned')) AS manual,
              count(*) FILTER (WHERE status = 'manual' AND manual_code = 'status_unknown') AS status_unknown,
              count(*) FILTER (WHERE status = 'returned') AS returned
         FROM refunds WHERE status IN ('scheduled','submitted','manual','returned')`,
      [today],
    )
  ).rows[0];
  return {
    due: Number(row.due), overdue: Number(row.overdue), inFlight: Number(row.in_flight), manual: Number(row.manual), statusUnknown: Number(row.status_unknown), returned: Number(row.returned),
  };
}

// ---- attempts --------------------------------------------------------------------------------

export const findAttempt = (tx: Tx, id: string) => tx<AttemptRow>('refund_attempts').where({ id }).first() as Promise<AttemptRow | undefined>;
export const attemptsOf = (tx: Tx, refundId: string) => tx<AttemptRow>('refund_attempts').where({ refund_id: refundId }).orderBy('seq') as unknown as Promise<AttemptRow[]>;

/** The payment that settled the refund last. */
export const lastSettledAttempt = (tx: Tx, refundId: string) =>
  tx<AttemptRow>('refund_attempts').where({ refund_id: refundId, status: 'settled' }).orderBy('seq', 'desc').first() as Promise<AttemptRow | undefined>;

/** The number of the refund's last attempt, 0 before the first. */
export async function lastAttemptSeq(tx: Tx, refundId: string): Promise<number> {
  const row = await tx('refund_attempts').where({ refund_id: refundId }).max({ seq: 'seq' }).first();
  return Number(row?.seq ?? 0);
}

export type NewAttempt = Pick<
  AttemptRow,
  | 'id' | 'refund_id' | 'seq' | 'end_to_end_id' | 'message_id' | 'principal_fen' | 'interest_fen' | 'late_fee_fen' | 'amount_fen' | 'value_date' | 'interest_from'
  | 'creditor_account_number' | 'creditor_account_name' | 'creditor_bank_code' | 'reserve_journal_id' | 'next_poll_at'
>;

/** The final answer on an attempt that moved no money. */
export async function finishAttempt(
  tx: Knex.Transaction,
  id: string,
  f: { status: 'rejected' | 'no_record'; bankStatus: string | null; reasonCode: string | null; reasonText: string | null; now: Date },
): Promise<void> {
  await tx('refund_attempts').where({ id }).update({
    status: f.status,
    bank_status: f.bankStatus,
    reason_code: f.reasonCode,
    reason_text: f.reasonText,
    finished_at: f.now,
    next_poll_at: null,
    updated_at: f.now,
  });
}

// ---- returns (退汇): finding the payment a bank entry sends back -------------------------------

/** A settled attempt with the refund it paid, as a return is matched against it. */
export type SettledPayment = AttemptRow & { refund_status: RefundStatus; refund_end_to_end_id: string; deposit_id: string };

/** Candidates are bounded: more than one is already "cannot tell" (a person decides). */
const paymentCandidatesMax = 2;

function settledPaymentsAt(tx: Tx, bankId: string): Knex.QueryBuilder {
  return tx('refund_attempts as a')
    .join('refunds as r', 'r.id', 'a.refund_id')
    .where('r.bank_id', bankId)
    .where('a.status', 'settled')
    .select('a.*', 'r.status as refund_status', 'r.end_to_end_id as refund_end_to_end_id', 'r.deposit_id')
    .orderBy('a.id')
    .limit(paymentCandidatesMax);
}

/** The payment we sent under this end-to-end id from this bank's trust account (one at most:
 *  the bank pays an id once, and a refund's ids are its own). */
export async function settledPaymentsByEndToEndId(tx: Tx, bankId: string, endToEndId: string): Promise<SettledPayment[]> {
  return (await settledPaymentsAt(tx, bankId).where('a.end_to_end_id', endToEndId)) as SettledPayment[];
}

/** The payment whose debit the bank booked under this reference. */
export async function settledPaymentsByBankReference(tx: Tx, bankId: string, bankReference: string): Promise<SettledPayment[]> {
  return (await settledPaymentsAt(tx, bankId).where('a.bank_reference', bankReference)) as SettledPayment[];
}

/** Refunds settled (and not since returned) for this amount to this account. */
export async function settledPaymentsByAmountAndCreditor(tx: Tx, bankId: string, amountFen: bigint, creditorAccount: string): Promise<SettledPayment[]> {
  return (await settledPaymentsAt(tx, bankId)
    .where('r.status', 'settled')
    .whereRaw('a.end_to_end_id = r.end_to_end_id')
    .whereRaw('a.amount_fen = ?::bigint', [amountFen.toString()])
    .where('a.creditor_account_number', creditorAccount)) as SettledPayment[];
}

// ---- decisions -------------------------------------------------------------------------------

export const decisionsOf = (tx: Tx, refundId: string) => tx<DecisionRow>('refund_decisions').where({ refund_id: refundId }).orderBy('seq') as unknown as Promise<DecisionRow[]>;
export async function insertDecision(
  tx: Knex.Transaction,
  d: { refundId: string; decision: string; account?: { number: string; name: string; bankCode: string }; decidedBy: string },
): Promise<void> {
  await tx('refund_decisions').insert({
    refund_id: d.refundId,
    decision: d.decision,
    account_number: d.account?.number ?? null,
    account_name: d.account?.name ?? null,
    account_bank_code: d.account?.bankCode ?? null,
    decided_by: d.decidedBy,
  });
}

// ---- reversals (the bank took the deposit's credit back) --------------------------------------

/** The deposit's refunds, locked against the executor's claim and settlement until the
 *  reversal's transaction ends. */
export const lockRefundsOfDeposit = (tx: Knex.Transaction, depositId: string) =>
  tx<RefundRow>('refunds').where({ deposit_id: depositId }).orderBy('id').forUpdate() as unknown as Promise<RefundRow[]>;

/** Every attempt's status, for the given refunds. */
export const attemptStatusesOf = (tx: Tx, refundIds: string[]) =>
  tx('refund_attempts').whereIn('refund_id', refundIds).orderBy(['refund_id', 'seq']).select('refund_id', 'seq', 'status') as unknown as Promise<Pick<AttemptRow, 'refund_id' | 'seq' | 'status'>[]>;

/** scheduled (or manual after attempts the bank refused) → manual, cancelled with the reason, so
 *  that no executor claims it and a person sees why; 0 when it was no longer in `from`. */
export async function cancelRefundForReversal(tx: Knex.Transaction, id: string, f: { from: 'scheduled' | 'manual'; reason: string; now: Date }): Promise<number> {
  return tx('refunds')
    .where({ id, status: f.from })
    .where((w) => w.whereNull('manual_code').orWhereIn('manual_code', ['account_rejected', 'attempts_exhausted']))
    .update({ status: 'manual', manual_code: null, manual_reason: f.reason, not_before: null, updated_at: f.now });
}
