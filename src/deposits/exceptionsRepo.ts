// Queries on bank exceptions: what a bank told us that no rule can settle and a person must look
// at (a reversal that matches no credit or comes after the opening, a return that matches no
// refund...). Each takes the unit of work first; every write to `bank_exceptions` is here.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';

export const bankExceptionKinds = ['reversal_unmatched', 'reversal_after_opening', 'return_unmatched', 'foreign_currency', 'reference_clash', 'not_our_account'] as const;
export type BankExceptionKind = (typeof bankExceptionKinds)[number];
export const bankExceptionStatuses = ['open', 'resolved'] as const;
export type BankExceptionStatus = (typeof bankExceptionStatuses)[number];

export interface BankExceptionRow {
  id: string;
  bank_id: string;
  kind: BankExceptionKind;
  /** The bank's reference of the entry the exception is about (the reversal, the return...). */
  entry_ref: string;
  message_id: string | null;
  amount_fen: bigint | null;
  currency: string | null;
  section_id: string | null;
  bidder_id: string | null;
  deposit_id: string | null;
  refund_id: string | null;
  detail: string;
  data: Record<string, unknown>;
  status: BankExceptionStatus;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
}

export type NewBankException = Pick<BankExceptionRow, 'id' | 'bank_id' | 'kind' | 'entry_ref' | 'detail'> &
  Partial<Pick<BankExceptionRow, 'message_id' | 'amount_fen' | 'currency' | 'section_id' | 'bidder_id' | 'deposit_id' | 'refund_id' | 'data'>>;

/** One exception per bank entry and kind: undefined when it is on record already (the second of
 *  two concurrent inserts waits for the first to commit, then does nothing). */
export async function insertBankException(tx: Knex.Transaction, row: NewBankException): Promise<BankExceptionRow | undefined> {
  const inserted = (await tx('bank_exceptions')
    .insert({ ...row, data: JSON.stringify(row.data ?? {}) })
    .onConflict(['bank_id', 'entry_ref', 'kind'])
    .ignore()
    .returning('*')) as BankExceptionRow[];
  return inserted[0];
}

export const findBankException = (tx: Tx, id: string) => tx<BankExceptionRow>('bank_exceptions').where({ id }).first() as Promise<BankExceptionRow | undefined>;
export const lockBankException = (tx: Knex.Transaction, id: string) =>
  tx<BankExceptionRow>('bank_exceptions').where({ id }).forUpdate().first() as Promise<BankExceptionRow | undefined>;
export const findBankExceptionOf = (tx: Tx, bankId: string, entryRef: string, kind: BankExceptionKind) =>
  tx<BankExceptionRow>('bank_exceptions').where({ bank_id: bankId, entry_ref: entryRef, kind }).first() as Promise<BankExceptionRow | undefined>;

/** The exceptions already recorded for one bank entry, of the given kinds. */
export const bankExceptionsOfEntry = (tx: Tx, bankId: string, entryRef: string, kinds: readonly BankExceptionKind[]) =>
  tx<BankExceptionRow>('bank_exceptions').where({ bank_id: bankId, entry_ref: entryRef }).whereIn('kind', kinds as BankExceptionKind[]).orderBy('id') as unknown as Promise<BankExceptionRow[]>;

export interface BankExceptionFilter {
  bankId?: string;
  kind?: BankExceptionKind;
  status?: BankExceptionStatus;
}

/** The exceptions matching a filter, for keyset pagination on id. */
export function bankExceptionsWhere(tx: Tx, f: BankExceptionFilter = {}): Knex.QueryBuilder {
  const q = tx('bank_exceptions');
  if (f.bankId) q.where('bank_id', f.bankId);
  if (f.kind) q.where('kind', f.kind);
  if (f.status) q.where('status', f.status);
  return q;
}

/** open → resolved with the person's note; undefined when it was not open. */
export async function markBankExceptionResolved(tx: Knex.Transaction, id: string, f: { note: string; resolvedBy: string }): Promise<BankExceptionRow | undefined> {
  const [row] = (await tx('bank_exceptions')
    .where({ id, status: 'open' })
    .update({ status: 'resolved', resolution: f.note, resolved_by: f.resolvedBy, resolved_at: tx.fn.now() })
    .returning('*')) as BankExceptionRow[];
  return row;
}
