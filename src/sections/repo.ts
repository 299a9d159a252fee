// Queries of the section lifecycle; each takes the unit of work.
import type { Tx } from '../db/knex';
import { Unprocessable } from '../errors';
import type { R12Facts } from '../domain/rules';
import { findWithdrawal, type DepositRow } from '../deposits/repo';
import type { SectionRow } from '../registry/repo';
import type { RosterStatus } from './rules';

/** A section larger than one transaction is meant to hold: refused with what it exceeded, and
 *  nothing written (the limits are in service.ts). */
const sectionTooLarge = (sectionId: string, what: string) =>
  new Unprocessable('section_too_large', `section ${sectionId} has more than ${what}, more than one opening, award or termination handles at once`);

/** A section with its lifecycle columns (registry/repo.ts reads the same row). */
export type LifecycleSection = SectionRow;

/** The finding that exempted a bidder at the opening (信用免缴): its grade valid at the bid
 *  deadline and whose finding it is. */
export interface RosterExemption {
  grade: string;
  source: string;
  validFrom: string;
  validTo: string;
  /** The finding's id in bidder_credit_grades. */
  gradeId: string;
}

export interface RosterEntry {
  bidderId: string;
  name: string;
  uscc: string;
  security: 'cash' | 'guarantee' | 'exemption' | null;
  status: RosterStatus;
  rules: string[];
  amountFen: bigint | null;
  depositIds: string[];
  guaranteeId: string | null;
  /** Printed on the voucher: the number a reader can verify with the issuer. */
  guaranteeNumber: string | null;
  /** Set when the bidder's grade at the deadline exempted it; absent on rosters fixed before
   *  exemptions existed. */
  exemption?: RosterExemption | null;
}

export interface RosterRow {
  id: string;
  section_id: string;
  opened_at: Date;
  required_deposit_fen: bigint;
  entries: (Omit<RosterEntry, 'amountFen'> & { amountFen: string | null })[];
  voucher_id: string | null;
  opened_by: string;
  created_at: Date;
}

export const findLifecycleSection = (tx: Tx, id: string) => tx<LifecycleSection>('sections').where({ id }).first() as Promise<LifecycleSection | undefined>;
export const lockLifecycleSection = (tx: Tx, id: string) => tx<LifecycleSection>('sections').where({ id }).forUpdate().first() as Promise<LifecycleSection | undefined>;

/** Moves a section out of the status it was read in; false when it was no longer in it. */
export async function updateSectionFrom(tx: Tx, id: string, from: string, fields: Partial<LifecycleSection>): Promise<boolean> {
  return (await tx('sections').where({ id, status: from }).update(fields)) === 1;
}

export const findRoster = (tx: Tx, sectionId: string) => tx<RosterRow>('rosters').where({ section_id: sectionId }).first() as Promise<RosterRow | undefined>;

/** The roster with its voucher, in one insert; the row as stored. */
export async function insertRoster(tx: Tx, r: Omit<RosterRow, 'created_at'>): Promise<RosterRow> {
  const [{ created_at }] = (await tx('rosters')
    .insert({ id: r.id, section_id: r.section_id, opened_at: r.opened_at, required_deposit_fen: r.required_deposit_fen, entries: JSON.stringify(r.entries), voucher_id: r.voucher_id, opened_by: r.opened_by })
    .returning(['created_at'])) as { created_at: Date }[];
  return { ...r, created_at };
}

/** A bidder on the roster, as the opening reads it: who it is, whether it withdrew (R9), and
 *  whether it took part in a way an exemption can stand on. */
export interface RosterBidderRow {
  bidder_id: string;
  name: string;
  uscc: string;
  withdrawn: boolean;
  /** It asked for its sub-account, paid, or has a guarantee on the section: an application
   *  alone is not a bid an exemption secures. */
  took_part: boolean;
}

/** Every bidder that tried to secure the section (a virtual account, a credit, a guarantee or an
 *  application for one), with its name and withdrawal, in bidder id order, in one query.
 *  Bounded: a section past `limit` is refused whole, never cut short. */
export async function rosterBidders(tx: Tx, sectionId: string, limit: number): Promise<RosterBidderRow[]> {
  const { rows } = await tx.raw(
    `WITH b AS (
       SELECT bidder_id, bool_or(took_part) AS took_part FROM (
         SELECT bidder_id, true AS took_part FROM deposit_accounts WHERE section_id = :s
         UNION SELECT bidder_id, true FROM deposits WHERE section_id = :s AND bidder_id IS NOT NULL
         UNION SELECT bidder_id, true FROM guarantees WHERE section_id = :s
         UNION SELECT bidder_id, false FROM guarantee_applications WHERE section_id = :s) x
       GROUP BY bidder_id ORDER BY 1 LIMIT :n)
     SELECT b.bidder_id, d.name, d.uscc, b.took_part,
            EXISTS (SELECT 1 FROM withdrawals w WHERE w.section_id = :s AND w.bidder_id = b.bidder_id) AS withdrawn
       FROM b JOIN bidders d ON d.id = b.bidder_id
      ORDER BY b.bidder_id`,
    { s: sectionId, n: limit + 1 },
  );
  if (rows.length > limit) throw sectionTooLarge(sectionId, `${limit} bidders`);
  return rows as RosterBidderRow[];
}

/** What the roster reads of a deposit: its verdict, amounts and checks (R3 held, R4, R5). */
export type RosterDepositRow = Pick<DepositRow, 'id' | 'bidder_id' | 'status' | 'amount_fen' | 'excess_fen' | 'failed_rules' | 'checks'>;

/** Every deposit of the section's bidders, by bidder then id, in one query. Bounded like the
 *  bidders: more than `limit` is nobody's tender. */
export async function rosterDeposits(tx: Tx, sectionId: string, limit: number): Promise<RosterDepositRow[]> {
  const rows = (await tx('deposits')
    .select('id', 'bidder_id', 'status', 'amount_fen', 'excess_fen', 'failed_rules', 'checks')
    .where({ section_id: sectionId })
    .whereNotNull('bidder_id')
    .orderBy([{ column: 'bidder_id' }, { column: 'id' }])
    .limit(limit + 1)) as RosterDepositRow[];
  if (rows.length > limit) throw sectionTooLarge(sectionId, `${limit} deposits`);
  return rows;
}

/** What the roster prints of a guarantee: the number a reader can verify and its amount. */
export interface RosterGuaranteeRow {
  id: string;
  number: string;
  amount_fen: bigint;
}

export async function rosterGuarantees(tx: Tx, sectionId: string, limit: number): Promise<RosterGuaranteeRow[]> {
  const rows = (await tx('guarantees').select('id', 'number', 'amount_fen').where({ section_id: sectionId }).orderBy('id').limit(limit + 1)) as RosterGuaranteeRow[];
  if (rows.length > limit) throw sectionTooLarge(sectionId, `${limit} guarantees`);
  return rows;
}

/** Deposits of a section in the given statuses with no refund of their secured part scheduled
 *  yet (an `excess` refund returns only the part above the requirement, R4). */
export async function depositsWithoutRefund(tx: Tx, sectionId: string, statuses: string[], limit: number): Promise<DepositRow[]> {
  const rows = (await tx<DepositRow>('deposits')
    .where({ section_id: sectionId })
    .whereIn('status', statuses)
    .whereNotExists(tx('refunds').select(tx.raw('1')).whereRaw('refunds.deposit_id = deposits.id').whereNot('refunds.reason', 'excess'))
    .orderBy('id')
    .limit(limit + 1)) as DepositRow[];
  if (rows.length > limit) throw sectionTooLarge(sectionId, `${limit} deposits`);
  return rows;
}

/** What R12 needs to know of a bidder on a section: the deadline, the award and its withdrawal.
 *  The same facts serve a forfeiture and a claim. */
export async function r12FactsOf(tx: Tx, section: Pick<SectionRow, 'id' | 'bid_deadline' | 'winner_bidder_id'>, bidderId: string, now: Date): Promise<R12Facts> {
  const w = await findWithdrawal(tx, section.id, bidderId);
  return { now, bidDeadline: section.bid_deadline, bidderId, winnerBidderId: section.winner_bidder_id, withdrawal: w ? { afterDeadline: w.after_deadline } : null };
}
