// Queries on bidders' credit grades; each takes the unit of work. The table is append-only (a
// trigger refuses updates and deletes): a new finding is a new row.
import type { Tx } from '../db/knex';
import { assert } from '../errors';

export interface CreditGradeRow {
  id: bigint;
  bidder_id: string;
  grade: string;
  source: string;
  valid_from: string;
  valid_to: string;
  recorded_by: string;
  recorded_at: Date;
}

export type NewCreditGrade = Omit<CreditGradeRow, 'id' | 'recorded_at'>;

export async function insertGrade(tx: Tx, row: NewCreditGrade): Promise<CreditGradeRow> {
  const [stored] = (await tx('bidder_credit_grades').insert(row).returning('*')) as CreditGradeRow[];
  return stored;
}

/** Rows per insert: PostgreSQL takes at most 65,535 bound parameters in one statement. */
const gradesPerInsertMax = 1000;

/** Inserts many findings, in the order given. */
export async function insertGrades(tx: Tx, rows: NewCreditGrade[]): Promise<CreditGradeRow[]> {
  const stored: CreditGradeRow[] = [];
  for (let i = 0; i < rows.length; i += gradesPerInsertMax) {
    const batch = (await tx('bidder_credit_grades').insert(rows.slice(i, i + gradesPerInsertMax)).returning('*')) as CreditGradeRow[];
    stored.push(...batch.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }
  return stored;
}

/** A bidder's findings, most recently recorded first; at most `limit`. */
export const gradesOfBidder = (tx: Tx, bidderId: string, limit: number) =>
  tx<CreditGradeRow>('bidder_credit_grades').where({ bidder_id: bidderId }).orderBy('id', 'desc').limit(limit) as unknown as Promise<CreditGradeRow[]>;

/** The bidder's latest finding, to tell a PUT repeated from a new finding. */
export const latestGrade = (tx: Tx, bidderId: string) =>
  tx<CreditGradeRow>('bidder_credit_grades').where({ bidder_id: bidderId }).orderBy('id', 'desc').first() as Promise<CreditGradeRow | undefined>;

/** Findings of these bidders whose period contains `day`: the only ones that can decide the
 *  grade held that day. Bounded per call: a bidder has a handful of findings for any one day. */
export async function gradesCovering(tx: Tx, bidderIds: readonly string[], day: string, limit: number): Promise<CreditGradeRow[]> {
  if (bidderIds.length === 0) return [];
  const rows = (await tx<CreditGradeRow>('bidder_credit_grades')
    .whereIn('bidder_id', [...new Set(bidderIds)])
    .where('valid_from', '<=', day)
    .where('valid_to', '>=', day)
    .orderBy('id')
    .limit(limit + 1)) as CreditGradeRow[];
  assert(rows.length <= limit, `more than ${limit} credit findings cover ${day} for ${bidderIds.length} bidder(s)`);
  return rows;
}

/** Every finding of these bidders, to tell a finding recorded before from a new one. Bounded:
 *  a bidder is graded a few times a year. */
export async function findingsOf(tx: Tx, bidderIds: readonly string[], limit: number): Promise<CreditGradeRow[]> {
  if (bidderIds.length === 0) return [];
  const rows = (await tx<CreditGradeRow>('bidder_credit_grades').whereIn('bidder_id', [...new Set(bidderIds)]).orderBy('id').limit(limit + 1)) as CreditGradeRow[];
  assert(rows.length <= limit, `more than ${limit} credit findings for ${bidderIds.length} bidder(s)`);
  return rows;
}

/** The bidders with these USCCs, for an import that names bidders by their code. */
export async function biddersByUscc(tx: Tx, usccs: readonly string[]): Promise<Map<string, string>> {
  if (usccs.length === 0) return new Map();
  const rows = (await tx('bidders').whereIn('uscc', [...new Set(usccs)]).select('id', 'uscc')) as { id: string; uscc: string }[];
  return new Map(rows.map((r) => [r.uscc, r.id]));
}
