// Queries of reversals (冲正) on credits and deposits; each takes the unit of work first. Kept
// beside repo.ts so that the reversal's reads and its two guarded status changes are in one
// place: `reversed` (the bank took the money back) and `valid → received` (what the bidder has
// left no longer reaches the requirement).
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import type { SectionRow } from '../registry/repo';
import type { CreditRow, DepositRow, StoredCheck } from './repo';

/** A reversal is posted as every notified bank entry of the trust account is: kind `credit`,
 *  ref `<bank>:<entry ref>` (matching.ts, refunds/bankEntries.ts). The pair is unique, so one
 *  bank entry is posted once, and the day's statement matches its line by the bank's reference
 *  (reconciliation/matching.ts) with nothing missing on either side. The reversal's own entry
 *  ref is never a credit's: the bank gives each booking its own. */
export const reversalJournalKind = 'credit';
export const reversalJournalRef = (bankId: string, entryRef: string) => `${bankId}:${entryRef}`;

/** Statuses a deposit can be reversed from: its money is still in the trust account, owed to
 *  the payer (an excess or invalid refund not yet paid is checked with the refunds). */
export const reversibleStatuses = ['received', 'valid', 'invalid', 'held'] as const;

/** The section, shared-locked: an opening (which takes it for update) waits for the reversal,
 *  or the reversal for the opening, so the roster and the reversal agree on which came first. */
export const lockSectionForReversal = (tx: Knex.Transaction, sectionId: string) =>
  tx<SectionRow>('sections').where({ id: sectionId }).forShare().first() as Promise<SectionRow | undefined>;

export const findCreditByEntryRef = (tx: Tx, bankId: string, entryRef: string) =>
  tx<CreditRow>('credits').where({ bank_id: bankId, entry_ref: entryRef }).first() as Promise<CreditRow | undefined>;

export const depositOfCredit = (tx: Tx, creditId: string) => tx<DepositRow>('deposits').where({ credit_id: creditId }).first() as Promise<DepositRow | undefined>;

/** Credits of one bank that fit a reversal and have not been reversed: by end-to-end id (the
 *  payer's, so it may repeat), or by sub-account, amount, currency and, where the bank names
 *  it, the payer's account. At most `limit`: the caller needs to know only whether one fits. */
export function unreversedCreditsFitting(
  tx: Tx,
  bankId: string,
  f: { endToEndId?: string; virtualAccount?: string; amountFen: bigint; currency: string; payerAccount?: string },
  limit = 3,
): Promise<CreditRow[]> {
  const q = tx('credits as c')
    .join('deposits as d', 'd.credit_id', 'c.id')
    .where('c.bank_id', bankId)
    // As a decimal string: knex's types take no bigint, and PostgreSQL reads it as int8 exactly.
    .where('c.amount_fen', f.amountFen.toString())
    .where('c.currency', f.currency)
    .whereNot('d.status', 'reversed')
    .select('c.*')
    .orderBy('c.id')
    .limit(limit);
  if (f.endToEndId) q.where('c.end_to_end_id', f.endToEndId);
  if (f.virtualAccount) q.where('c.virtual_account', f.virtualAccount);
  if (f.payerAccount) q.where('c.debtor_account', f.payerAccount);
  return q as unknown as Promise<CreditRow[]>;
}

/** Whether the reversal entry's journal is on record (it was applied before). A credit of the
 *  same entry ref cannot exist: the bank books each entry one way. */
export async function reversalJournalExists(tx: Tx, bankId: string, entryRef: string): Promise<boolean> {
  const row = await tx('journals').where({ kind: reversalJournalKind, ref: reversalJournalRef(bankId, entryRef) }).first('id');
  return row !== undefined;
}

/** received | valid | invalid | held → reversed; 0 when it was no longer in one of them. */
export async function markDepositReversed(tx: Knex.Transaction, id: string, f: { reversedAt: Date; now: Date }): Promise<number> {
  return tx('deposits')
    .where({ id })
    .whereIn('status', reversibleStatuses as unknown as string[])
    .update({ status: 'reversed', reversed_at: f.reversedAt, updated_at: f.now });
}

/** valid → received: another credit of the bidder was reversed and the rest is short of the
 *  requirement again (R4), so it waits for a top-up like any short credit. */
export async function markShortAfterReversal(tx: Knex.Transaction, id: string, checks: StoredCheck[], now: Date): Promise<number> {
  return tx('deposits').where({ id, status: 'valid', excess_fen: 0 }).update({ status: 'received', valid_at: null, checks: JSON.stringify(checks), updated_at: now });
}
