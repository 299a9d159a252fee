// Queries of reconciliations, their lines and exceptions; each takes the unit of work. The
// set-based matching of a statement against the ledger is matching.ts, the streaming read of a
// statement statements.ts.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';

export interface ReconciliationRow {
  id: string;
  bank_id: string;
  statement_id: bigint;
  statement_date: string;
  superseded_by: string | null;
  superseded_at: Date | null;
  result: 'balanced' | 'differences';
  opening_fen: bigint;
  closing_bank_fen: bigint;
  closing_ledger_fen: bigint;
  entry_count: number;
  matched_count: number;
  matched_credits_fen: bigint;
  matched_debits_fen: bigint;
  recovered_count: number;
  exception_count: number;
  voucher_id: string | null;
  source: string;
  created_by: string;
  created_at: Date;
}

export interface StatementRow {
  id: bigint;
  bank_id: string;
  message_id: string | null;
  statement_ref: string | null;
  sequence_number: string | null;
  account: string | null;
  currency: string | null;
  statement_date: string | null;
  opening_fen: bigint | null;
  closing_fen: bigint | null;
  credit_total_fen: bigint | null;
  debit_total_fen: bigint | null;
  entry_count: number | null;
  content_sha256: string | null;
  source: string;
  received_at: Date;
}

export interface LineRow {
  id: bigint;
  reconciliation_id: string;
  line_no: number | null;
  entry_ref: string | null;
  bank_amount_fen: bigint | null;
  journal_id: string | null;
  ledger_amount_fen: bigint | null;
  result: string;
  matched_by: string | null;
  detail: string | null;
  claims: boolean;
}

export interface ExceptionRow {
  id: bigint;
  reconciliation_id: string;
  line_id: bigint | null;
  kind: string;
  entry_ref: string;
  amount_fen: bigint;
  detail: string;
  data: Record<string, string>;
  status: 'open' | 'resolved';
  decision: string | null;
  note: string | null;
  correction_journal_id: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
}

/** A line or exception read with the statement entry (`e_*`) and journal (`j_*`) beside it. */
export type SideBySide = Record<string, any>;

const entryColumns = ['direction', 'amount_fen', 'currency', 'booked_at', 'value_date', 'end_to_end_id', 'account', 'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'remittance', 'reversal'];
const journalColumns = ['j.id as j_id', 'j.kind as j_kind', 'j.ref as j_ref', 'j.memo as j_memo', 'j.posted_at as j_posted_at'];

// ---- reconciliations -------------------------------------------------------------------------

export const findReconciliation = (tx: Tx, id: string) => tx<ReconciliationRow>('reconciliations').where({ id }).first() as Promise<ReconciliationRow | undefined>;
export const lockReconciliation = (tx: Knex.Transaction, id: string) => tx<ReconciliationRow>('reconciliations').where({ id }).forUpdate().first() as Promise<ReconciliationRow | undefined>;
export const findStatement = (tx: Tx, id: bigint | string) => tx('statements').where({ id: String(id) }).first() as Promise<StatementRow | undefined>;

export function reconciliationsQuery(tx: Tx, filter: { bankId?: string; date?: string }): Knex.QueryBuilder {
  const q = tx('reconciliations');
  if (filter.bankId) q.where({ bank_id: filter.bankId });
  if (filter.date) q.where({ statement_date: filter.date });
  return q;
}

/** One reconciliation per bank at a time: supersession and sequence checks read what the
 *  previous one wrote. Held to the end of the transaction. */
export async function lockBankForReconciliation(tx: Knex.Transaction, bankId: string): Promise<void> {
  await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`bidbond.reconcile.${bankId}`]);
}

/** A statement already reconciled that is "the same" as `statementId`: the same message id, or
 *  the same date and content. */
export async function findSameReconciledStatement(tx: Knex.Transaction, bankId: string, statementId: string, s: { messageId: string; date: string; contentSha256: string }) {
  return (await tx('statements as s')
    .join('reconciliations as r', 'r.statement_id', 's.id')
    .where('s.bank_id', bankId)
    .whereNot('s.id', statementId)
    .where((q) => q.where('s.message_id', s.messageId).orWhere((q2) => q2.where('s.statement_date', s.date).where('s.content_sha256', s.contentSha256)))
    .orderByRaw('(s.message_id = ?) DESC', [s.messageId])
    .first('r.id', 's.message_id', 's.content_sha256')) as { id: string; message_id: string; content_sha256: string } | undefined;
}

export const lockCurrentReconciliation = (tx: Knex.Transaction, bankId: string, date: string) =>
  tx('reconciliations').where({ bank_id: bankId, statement_date: date }).whereNull('superseded_by').forUpdate().first('id') as Promise<{ id: string } | undefined>;

/** The old reconciliation is kept as it was, marked superseded, and its matches released so the
 *  new one can claim them. */
export async function supersede(tx: Knex.Transaction, oldId: string, newId: string): Promise<void> {
  await tx('reconciliations').where({ id: oldId }).update({ superseded_by: newId, superseded_at: tx.fn.now() });
  await tx('reconciliation_lines').where({ reconciliation_id: oldId, claims: true }).update({ claims: false });
}

/** A reconciliation's row; its date may come later in the same transaction (see the migration
 *  reconciliation_dated_at_commit), never after it. */
export async function insertReconciliation(
  tx: Knex.Transaction,
  row: Omit<ReconciliationRow, 'statement_date' | 'superseded_by' | 'superseded_at' | 'voucher_id' | 'created_at'> & { statement_date: string | null },
): Promise<void> {
  await tx('reconciliations').insert(row);
}

/** A statement's row, before its document is read; returns its id. */
export async function insertStatement(tx: Knex.Transaction, bankId: string, source: string): Promise<string> {
  const [row] = await tx('statements').insert({ bank_id: bankId, source }).returning('id');
  return String(row.id);
}

export async function updateReconciliation(tx: Knex.Transaction, id: string, fields: Partial<ReconciliationRow>): Promise<void> {
  await tx('reconciliations').where({ id }).update(fields);
}

/** Reconciled statement dates of a bank from `fromDate` on (current or superseded alike). */
export async function reconciledDates(tx: Tx, bankId: string, fromDate: string): Promise<Set<string>> {
  const rows = (await tx('reconciliations').where({ bank_id: bankId }).where('statement_date', '>=', fromDate).distinct('statement_date')) as { statement_date: string }[];
  return new Set(rows.map((r) => r.statement_date));
}

/** Another current reconciliation of the bank for another day whose statement has `seq`. */
export function otherCurrentStatements(tx: Knex.Transaction, bankId: string, rid: string, date: string): Knex.QueryBuilder {
  return tx('reconciliations as r').join('statements as s', 's.id', 'r.statement_id').where('r.bank_id', bankId).whereNull('r.superseded_by').whereNot('r.id', rid).whereNot('r.statement_date', date);
}

export const statementWithSequence = (tx: Knex.Transaction, bankId: string, rid: string, date: string, seq: string) =>
  otherCurrentStatements(tx, bankId, rid, date).where('s.sequence_number', seq).first('r.id', 'r.statement_date') as Promise<{ id: string; statement_date: string } | undefined>;

export const previousSequencedStatement = (tx: Knex.Transaction, bankId: string, rid: string, date: string) =>
  otherCurrentStatements(tx, bankId, rid, date)
    .where('r.statement_date', '<', date)
    .whereNotNull('s.sequence_number')
    .orderBy('r.statement_date', 'desc')
    .first('s.sequence_number', 'r.statement_date') as Promise<{ sequence_number: string; statement_date: string } | undefined>;

// ---- lines and exceptions --------------------------------------------------------------------

/** Missing credits of the statement after line `afterLineNo`, with their entry: not reversals,
 *  except a refund of ours that came back booked as the reversal of our debit (a credit). Walked
 *  from the statement's own entries in line order, so the cost follows the statement's size and
 *  not the number of lines every earlier reconciliation left in the table. */
export const missingCreditsPage = (tx: Knex.Transaction, rid: string, statementId: string, afterLineNo: number, limit: number) =>
  tx('statement_entries as e')
    .join('reconciliation_lines as l', (j) => j.on('l.line_no', 'e.line_no').andOn('l.reconciliation_id', tx.raw('?', [rid])))
    .where({ 'e.statement_id': statementId, 'e.direction': 'credit', 'l.result': 'missing_in_ledger' })
    .where((q) => q.where('e.reversal', false).orWhereNotNull('e.return_reason_code'))
    .where('e.line_no', '>', afterLineNo)
    .orderBy('e.line_no')
    .limit(limit)
    .select('l.id as line_id', 'e.*');

export const findJournalByRef = (tx: Knex.Transaction, kind: string, ref: string) => tx('journals').where({ kind, ref }).first('id') as Promise<{ id: string } | undefined>;

/** A recovered credit stays an exception, missing_in_ledger, resolved at once by its recovery:
 *  nothing is silently absorbed. */
export async function markLineRecovered(tx: Knex.Transaction, lineId: string | number, f: { journalId: string; ledgerAmountFen: bigint; detail: string }): Promise<void> {
  await tx('reconciliation_lines').where({ id: lineId }).update({
    result: 'recovered', matched_by: 'recovery', journal_id: f.journalId, ledger_amount_fen: f.ledgerAmountFen, claims: true, detail: f.detail,
    exception_status: 'resolved', decision: 'recovered_from_statement', note: f.detail, resolved_by: 'system', resolved_at: tx.fn.now(),
  });
}

/** Why a missing line was not recovered, for the person who looks at its exception. */
export async function noteLineNotRecovered(tx: Knex.Transaction, lineId: string | number, detail: string): Promise<void> {
  await tx('reconciliation_lines').where({ id: lineId, result: 'missing_in_ledger' }).update({ detail });
}

export const findLine = (tx: Tx, id: bigint | string) => tx('reconciliation_lines').where({ id: String(id) }).first() as Promise<LineRow | undefined>;

/** What this reconciliation recovered for its day but posted after `after` (a recovery made the
 *  next morning), on `account`. */
export async function recoveredPostedAfter(tx: Knex.Transaction, rid: string, account: string, after: Date): Promise<bigint> {
  const row = await tx('reconciliation_lines as l')
    .join('postings as p', 'p.journal_id', 'l.journal_id')
    .where({ 'l.reconciliation_id': rid, 'l.result': 'recovered', 'p.account': account })
    .where('p.posted_at', '>', after)
    .sum({ total: 'p.amount_fen' })
    .first();
  return BigInt(row?.total ?? 0);
}

/** What the lines of a reconciliation add up to: the matched (and recovered) ones, and how many
 *  are exceptions. */
export async function lineTotals(tx: Knex.Transaction, rid: string): Promise<{ n: number; credits: bigint; debits: bigint; exceptions: number }> {
  const matched = `result IN ('matched', 'recovered')`;
  return tx('reconciliation_lines')
    .where({ reconciliation_id: rid })
    .select(
      tx.raw(`(count(*) FILTER (WHERE ${matched}))::int AS n`),
      tx.raw(`coalesce(sum(bank_amount_fen) FILTER (WHERE ${matched} AND bank_amount_fen > 0), 0)::bigint AS credits`),
      tx.raw(`coalesce(-sum(bank_amount_fen) FILTER (WHERE ${matched} AND bank_amount_fen < 0), 0)::bigint AS debits`),
      tx.raw('(count(*) FILTER (WHERE exception_status IS NOT NULL))::int AS exceptions'),
    )
    .first();
}

/** Every exception of a reconciliation: the lines that are not a plain match and the
 *  statement's own findings, as one list (migration line_exceptions_on_lines). */
const exceptionRows = 'reconciliation_exception_rows';

export async function countExceptions(tx: Tx, rid: string, status?: 'open'): Promise<number> {
  const q = tx(exceptionRows).where({ reconciliation_id: rid });
  if (status) q.where({ status });
  return Number((await q.count({ n: '*' }).first())?.n ?? 0);
}

export async function insertStatementExceptions(tx: Knex.Transaction, rid: string, found: { kind: string; entryRef: string; amountFen: bigint; detail: string; data: Record<string, string> }[]): Promise<void> {
  if (found.length === 0) return;
  await tx('reconciliation_exceptions').insert(found.map((x) => ({ reconciliation_id: rid, kind: x.kind, entry_ref: x.entryRef, amount_fen: x.amountFen, detail: x.detail, data: JSON.stringify(x.data) })));
}

export const findException = (tx: Tx, rid: string, id: string) =>
  tx(exceptionRows).where({ id, reconciliation_id: rid }).first() as Promise<ExceptionRow | undefined>;

/** An exception as locked for its resolution: where it is kept as well. */
export type LockedException = ExceptionRow & { keptOnLine: boolean };

/** An exception, its row locked for the rest of the transaction: the line it is kept on, or its
 *  row of reconciliation_exceptions. */
export async function lockException(tx: Knex.Transaction, rid: string, id: string): Promise<LockedException | undefined> {
  const keptOnLine = (await tx('reconciliation_lines').where({ id, reconciliation_id: rid }).whereNotNull('exception_status').forUpdate().first('id')) !== undefined;
  if (!keptOnLine && !(await tx('reconciliation_exceptions').where({ id, reconciliation_id: rid }).forUpdate().first('id'))) return undefined;
  const row = await findException(tx, rid, id);
  return row && { ...row, keptOnLine };
}

export async function resolveException(tx: Knex.Transaction, ex: LockedException, f: { decision: string; note: string; correctionJournalId: string | null; resolvedBy: string }): Promise<ExceptionRow> {
  const resolution = { decision: f.decision, note: f.note, correction_journal_id: f.correctionJournalId, resolved_by: f.resolvedBy, resolved_at: tx.fn.now() };
  const where = { id: String(ex.id), reconciliation_id: ex.reconciliation_id };
  if (ex.keptOnLine) await tx('reconciliation_lines').where(where).update({ exception_status: 'resolved', ...resolution });
  else await tx('reconciliation_exceptions').where(where).update({ status: 'resolved', ...resolution });
  return (await findException(tx, ex.reconciliation_id, String(ex.id)))!;
}

/** The first `limit` exceptions, and the count and total of the rest (for the voucher). */
export async function exceptionsForVoucher(tx: Knex.Transaction, rid: string, limit: number): Promise<{ listed: ExceptionRow[]; rest?: { kind: string; n: number; totalFen: bigint } }> {
  const rows = (await tx(exceptionRows).where({ reconciliation_id: rid }).orderBy('id').limit(limit + 1)) as ExceptionRow[];
  const listed = rows.slice(0, limit);
  if (rows.length <= limit) return { listed };
  const rest = await tx(exceptionRows)
    .where({ reconciliation_id: rid })
    .where('id', '>', String(listed[listed.length - 1].id))
    .select(tx.raw('count(*)::int AS n'), tx.raw('coalesce(sum(amount_fen), 0)::bigint AS total'))
    .first();
  return { listed, rest: { kind: rows[limit].kind, n: rest.n, totalFen: rest.total } };
}

function linesQuery(tx: Tx, statementId: bigint | string): Knex.QueryBuilder {
  return tx('reconciliation_lines as l')
    .leftJoin('statement_entries as e', (j) => j.on('e.line_no', 'l.line_no').andOn('e.statement_id', tx.raw('?', [String(statementId)])))
    .leftJoin('journals as j', 'j.id', 'l.journal_id')
    .select('l.*', ...entryColumns.map((c) => `e.${c} as e_${c}`), ...journalColumns);
}

/** Lines after `afterLineId` in order, each beside its statement entry and journal. */
export function linesPage(tx: Tx, r: Pick<ReconciliationRow, 'id' | 'statement_id'>, afterLineId: string | undefined, limit: number): Promise<SideBySide[]> {
  const q = linesQuery(tx, r.statement_id).where('l.reconciliation_id', r.id).orderBy('l.id').limit(limit);
  if (afterLineId) q.where('l.id', '>', afterLineId);
  return q;
}

/** Exceptions after `afterId` in order, each beside its line's statement entry and journal.
 *  The page's ids are chosen first, from the ids alone: ordering the whole list with every
 *  exception's text computed sorted a day of 100,000 on disk for each page. */
export async function exceptionsPage(tx: Tx, r: Pick<ReconciliationRow, 'id' | 'statement_id'>, afterId: string | undefined, limit: number): Promise<SideBySide[]> {
  const q = tx(exceptionRows).where('reconciliation_id', r.id).orderBy('id').limit(limit);
  if (afterId) q.where('id', '>', afterId);
  const ids = (await q.pluck('id')).map(String);
  if (ids.length === 0) return [];
  return tx(`${exceptionRows} as x`)
    .leftJoin('reconciliation_lines as l', 'l.id', 'x.line_id')
    .leftJoin('statement_entries as e', (j) => j.on('e.line_no', 'l.line_no').andOn('e.statement_id', tx.raw('?', [String(r.statement_id)])))
    .leftJoin('journals as j', 'j.id', 'l.journal_id')
    .where('x.reconciliation_id', r.id)
    .whereIn('x.id', ids)
    .orderBy('x.id')
    .select('x.*', 'l.id as l_id', 'l.ledger_amount_fen', ...entryColumns.map((c) => `e.${c} as e_${c}`), ...journalColumns);
}

/** Deposit banks in id order, at most `limit`, with when each was registered. */
export const banksForStatements = (tx: Tx, limit: number) =>
  tx('banks').orderBy('id').limit(limit).select('id', 'created_at') as unknown as Promise<{ id: string; created_at: Date }[]>;
