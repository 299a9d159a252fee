// Queries on virtual sub-accounts, credits, deposits and withdrawals; each takes the unit of work
// first. Every write to these tables is here, so each status change is a guarded UPDATE in one
// place.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { run, statement } from '../db/statements';
import type { JournalRow } from '../ledger';
import type { SectionRow } from '../registry/repo';
import type { DepositScope } from './rules';

/** A rule's verdict as kept on the deposit (R3, R4, R5, and R15 for suspense). */
export interface StoredCheck {
  rule: string;
  ok: boolean;
  detail: string;
}

export type DepositStatus = 'received' | 'valid' | 'invalid' | 'suspense' | 'forfeited' | 'refunded' | 'held';

export interface DepositAccountRow {
  virtual_account: string;
  bank_id: string;
  section_id: string;
  bidder_id: string;
  serial: bigint;
  created_at: Date;
}

export interface CreditRow {
  id: string;
  bank_id: string;
  entry_ref: string;
  message_id: string;
  virtual_account: string;
  amount_fen: bigint;
  currency: string;
  booked_at: Date;
  value_date: string;
  debtor_name: string;
  debtor_account: string;
  debtor_bank_code: string | null;
  remittance: string | null;
  end_to_end_id: string | null;
  /** The bank gave the booking date without a time: booked_at is the start of that Beijing day. */
  booking_date_only: boolean;
  /** When the bank's notice of it reached us (a bank books before it notifies); null when the
   *  credit was recovered from a statement, which has no notice. */
  notified_at: Date | null;
  received_at: Date;
}

/** Every column of a credit, for prepared statements that read one (db/statements.ts columnList). */
export const creditColumns: { [K in keyof CreditRow]: true } = {
  id: true, bank_id: true, entry_ref: true, message_id: true, virtual_account: true, amount_fen: true, currency: true, booked_at: true, value_date: true, debtor_name: true,
  debtor_account: true, debtor_bank_code: true, remittance: true, end_to_end_id: true, booking_date_only: true, notified_at: true, received_at: true,
};

export interface DepositRow {
  id: string;
  credit_id: string;
  bank_id: string;
  section_id: string | null;
  bidder_id: string | null;
  virtual_account: string;
  amount_fen: bigint;
  excess_fen: bigint;
  status: DepositStatus;
  checks: StoredCheck[];
  failed_rules: string[];
  forfeit_reason: string | null;
  forfeited_by: string | null;
  forfeited_at: Date | null;
  valid_at: Date | null;
  /** Why R3 could not be decided and the deposit waited for the centre (status held); kept
   *  after the decision, which is in the R3 check and the audit log. */
  held_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface WithdrawalRow {
  section_id: string;
  bidder_id: string;
  withdrawn_at: Date;
  after_deadline: boolean;
  recorded_by: string;
}

// ---- sub-accounts ----------------------------------------------------------------------------

export const findDepositAccount = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<DepositAccountRow>('deposit_accounts').where({ section_id: sectionId, bidder_id: bidderId }).first();
/** Locks the sub-account: credits of one bidder for one section are matched one at a time, so
 *  two top-ups arriving together see each other's amounts (R4). */
export const lockDepositAccountByNumber = (tx: Tx, bankId: string, virtualAccount: string) =>
  tx<DepositAccountRow>('deposit_accounts').where({ virtual_account: virtualAccount, bank_id: bankId }).forUpdate().first();

export async function nextVirtualAccountSerial(tx: Knex.Transaction): Promise<bigint> {
  const [{ serial }] = (await tx.raw("SELECT nextval('virtual_account_serial_seq') AS serial")).rows as { serial: bigint }[];
  return serial;
}

/** One sub-account per bidder and section: undefined when another request made it first. */
export async function insertDepositAccount(tx: Knex.Transaction, row: Omit<DepositAccountRow, 'created_at'>): Promise<DepositAccountRow | undefined> {
  const inserted = (await tx('deposit_accounts').insert(row).onConflict(['section_id', 'bidder_id']).ignore().returning('*')) as DepositAccountRow[];
  return inserted[0];
}

/** The section a credit is for, share-locked: a section event (opening, contract, termination)
 *  locks it for update, so either the credit commits first and the event sees its deposit, or
 *  the event commits first and the credit sees the section's new status. Credits to one section
 *  do not wait for each other. */
export const lockSectionForCredit = (tx: Knex.Transaction, sectionId: string) =>
  tx<SectionRow>('sections').where({ id: sectionId }).forShare().first() as Promise<SectionRow | undefined>;

// ---- credits ---------------------------------------------------------------------------------

export const findCredit = (tx: Tx, id: string) => tx<CreditRow>('credits').where({ id }).first();
export const findCreditByRef = (tx: Tx, bankId: string, entryRef: string) => tx<CreditRow>('credits').where({ bank_id: bankId, entry_ref: entryRef }).first();

/** Keyed by the bank's own entry reference: false when the entry is already on record (the
 *  second of two concurrent inserts waits for the first to commit, then does nothing). */
export async function insertCredit(tx: Knex.Transaction, row: Omit<CreditRow, 'received_at'>): Promise<boolean> {
  const inserted = await tx('credits').insert(row).onConflict(['bank_id', 'entry_ref']).ignore().returning('id');
  return inserted.length > 0;
}

// ---- deposits --------------------------------------------------------------------------------

export const findDeposit = (tx: Tx, id: string) => tx<DepositRow>('deposits').where({ id }).first();
export const lockDeposit = (tx: Knex.Transaction, id: string) => tx<DepositRow>('deposits').where({ id }).forUpdate().first();
export const depositsOf = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<DepositRow>('deposits').where({ section_id: sectionId, bidder_id: bidderId }).orderBy('id') as unknown as Promise<DepositRow[]>;
export const lockValidDepositsOf = (tx: Knex.Transaction, sectionId: string, bidderId: string) =>
  tx<DepositRow>('deposits').where({ section_id: sectionId, bidder_id: bidderId, status: 'valid' }).forUpdate() as unknown as Promise<DepositRow[]>;
export const lockReceivedDepositsOf = (tx: Knex.Transaction, sectionId: string) =>
  tx<DepositRow>('deposits').where({ section_id: sectionId, status: 'received' }).forUpdate() as unknown as Promise<DepositRow[]>;

export interface DepositFilter {
  sectionId?: string;
  bidderId?: string;
  status?: DepositStatus;
}

/** The deposits a scope may see (R18), matching a filter, for keyset pagination on deposits.id. */
export function depositsWhere(tx: Tx, scope: DepositScope, f: DepositFilter = {}): Knex.QueryBuilder {
  const q = tx('deposits').select('deposits.*');
  if (scope.kind === 'bidder') q.where('deposits.bidder_id', scope.bidderId);
  if (scope.kind === 'tenderee') {
    q.whereIn('deposits.section_id', function () {
      this.select('id').from('sections').where('tenderee_id', scope.tendereeId).whereNotNull('opened_at');
    });
  }
  if (f.sectionId) q.where('deposits.section_id', f.sectionId);
  if (f.bidderId) q.where('deposits.bidder_id', f.bidderId);
  if (f.status) q.where('deposits.status', f.status);
  return q;
}

export const findDepositIn = (tx: Tx, scope: DepositScope, id: string) =>
  depositsWhere(tx, scope).where('deposits.id', id).first() as Promise<DepositRow | undefined>;

export type NewDeposit = Pick<DepositRow, 'id' | 'credit_id' | 'bank_id' | 'virtual_account' | 'amount_fen' | 'status'> &
  Partial<Pick<DepositRow, 'section_id' | 'bidder_id' | 'excess_fen' | 'valid_at' | 'failed_rules' | 'held_reason'>> & { checks: StoredCheck[] };

export async function insertDeposit(tx: Knex.Transaction, row: NewDeposit): Promise<void> {
  await tx('deposits').insert({ ...row, checks: JSON.stringify(row.checks) });
}

/** received → valid: a later credit brought the total to the requirement. */
export async function markToppedUp(tx: Knex.Transaction, id: string, checks: StoredCheck[], now: Date): Promise<number> {
  return tx('deposits').where({ id, status: 'received' }).update({ status: 'valid', valid_at: now, updated_at: now, checks: JSON.stringify(checks) });
}

/** held → the centre's decision: valid, received or invalid, with the checks it was judged by.
 *  0 when it was no longer held (decided by someone else first). */
export async function markHeldDecided(
  tx: Knex.Transaction,
  id: string,
  f: { status: 'valid' | 'received' | 'invalid'; checks: StoredCheck[]; failedRules: string[]; excessFen: bigint; now: Date },
): Promise<number> {
  return tx('deposits')
    .where({ id, status: 'held' })
    .update({
      status: f.status,
      checks: JSON.stringify(f.checks),
      failed_rules: f.failedRules,
      excess_fen: f.excessFen,
      valid_at: f.status === 'valid' ? f.now : null,
      updated_at: f.now,
    });
}

export async function markInvalid(tx: Knex.Transaction, id: string, f: { failedRules: string[]; checks: StoredCheck[]; now: Date }): Promise<number> {
  return tx('deposits').where({ id }).update({ status: 'invalid', failed_rules: f.failedRules, checks: JSON.stringify(f.checks), updated_at: f.now });
}

/** `markInvalid` for many deposits in one statement, each with its own checks. */
export async function markManyInvalid(tx: Knex.Transaction, rows: { id: string; failedRules: string[]; checks: StoredCheck[] }[], now: Date): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await tx.raw(
    `UPDATE deposits d SET status = 'invalid', failed_rules = ARRAY(SELECT jsonb_array_elements_text(v.failed_rules)), checks = v.checks, updated_at = ?
       FROM jsonb_to_recordset(?::jsonb) AS v(id text, failed_rules jsonb, checks jsonb)
      WHERE d.id = v.id`,
    [now, JSON.stringify(rows.map((r) => ({ id: r.id, failed_rules: r.failedRules, checks: r.checks })))],
  );
  return rowCount ?? 0;
}

export async function markForfeited(tx: Knex.Transaction, id: string, f: { reason: string; decidedBy: string; now: Date }): Promise<number> {
  return tx('deposits').where({ id, status: 'valid' }).update({ status: 'forfeited', forfeit_reason: f.reason, forfeited_by: f.decidedBy, forfeited_at: f.now, updated_at: f.now });
}

const markRefundedMany = statement(
  'deposits.markRefundedMany',
  `WITH locked AS (
     SELECT id FROM deposits WHERE id = ANY($1::text[]) AND status IN ('valid', 'received') ORDER BY id FOR UPDATE
   )
   UPDATE deposits d SET status = 'refunded', updated_at = $2 FROM locked WHERE d.id = locked.id AND d.status IN ('valid', 'received')
   RETURNING d.id`,
);

/** The refunds of what these deposits secured have settled: valid or received → refunded, in one
 *  statement, locked in id order as every path that locks several takes them; returns how many
 *  moved. */
export async function markDepositsRefunded(tx: Knex.Transaction, ids: string[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  return (await run(tx, markRefundedMany, [ids, now])).length;
}

/** refunded → held: the refund's payment came back from the payee's bank (退汇), so the money is
 *  in the trust account again, owed to the bidder, and held until the centre decides where it
 *  goes (R17). Written by the refunds module (refunds/returns.ts); `heldReason` says so. */
export async function markDepositHeldAfterReturn(tx: Knex.Transaction, id: string, heldReason: string, now: Date): Promise<number> {
  return tx('deposits').where({ id, status: 'refunded' }).update({ status: 'held', held_reason: heldReason, updated_at: now });
}

/** held → refunded: the returned refund was paid again and settled. The held reason stays, as
 *  history, beside the refund's own record of the return. */
export async function markDepositRefundedAfterReturn(tx: Knex.Transaction, id: string, now: Date): Promise<number> {
  return tx('deposits').where({ id, status: 'held' }).update({ status: 'refunded', updated_at: now });
}

/** Every journal that moved this deposit's money: the credit's own and any posting to its
 *  liability account, in the order they were posted. */
export const journalsOfDeposit = (tx: Tx, depositAccount: string, creditJournalRef: string) =>
  tx<JournalRow>('journals')
    .where(function () {
      this.where({ kind: 'credit', ref: creditJournalRef }).orWhereIn('id', function () {
        this.select('journal_id').from('postings').where('account', depositAccount);
      });
    })
    .orderBy('id') as unknown as Promise<JournalRow[]>;

// ---- withdrawals -----------------------------------------------------------------------------

export const findWithdrawal = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<WithdrawalRow>('withdrawals').where({ section_id: sectionId, bidder_id: bidderId }).first();

/** The first withdrawal is the bidder's written notice: undefined when one is on record. */
export async function insertWithdrawal(tx: Knex.Transaction, row: WithdrawalRow): Promise<WithdrawalRow | undefined> {
  const inserted = (await tx('withdrawals').insert(row).onConflict(['section_id', 'bidder_id']).ignore().returning('*')) as WithdrawalRow[];
  return inserted[0];
}
