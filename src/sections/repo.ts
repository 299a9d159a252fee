// Queries of the section lifecycle; each takes the unit of work.
import type { Tx } from '../db/knex';
import { assert } from '../errors';
import type { R12Facts } from '../domain/rules';
import { findWithdrawal, type DepositRow } from '../deposits/repo';
import type { SectionRow } from '../registry/repo';
import type { RosterStatus } from './rules';

/** A section with its lifecycle columns (registry/repo.ts reads the same row). */
export type LifecycleSection = SectionRow;

export interface RosterEntry {
  bidderId: string;
  name: string;
  uscc: string;
  security: 'cash' | 'guarantee' | null;
  status: RosterStatus;
  rules: string[];
  amountFen: bigint | null;
  depositIds: string[];
  guaranteeId: string | null;
  /** Printed on the voucher: the number a reader can verify with the issuer. */
  guaranteeNumber: string | null;
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

export async function insertRoster(tx: Tx, r: { id: string; sectionId: string; openedAt: Date; requiredDepositFen: bigint; entries: RosterRow['entries']; openedBy: string }): Promise<void> {
  await tx('rosters').insert({ id: r.id, section_id: r.sectionId, opened_at: r.openedAt, required_deposit_fen: r.requiredDepositFen, entries: JSON.stringify(r.entries), opened_by: r.openedBy });
}

export async function setRosterVoucher(tx: Tx, rosterId: string, voucherId: string): Promise<void> {
  await tx('rosters').where({ id: rosterId }).update({ voucher_id: voucherId });
}

/** Every bidder that tried to secure the section: a virtual account, a credit, a guarantee or an
 *  application for one. Bounded: more than `limit` is a programmer's or an attacker's doing. */
export async function biddersOfSection(tx: Tx, sectionId: string, limit: number): Promise<string[]> {
  const { rows } = await tx.raw(
    `SELECT bidder_id FROM deposit_accounts WHERE section_id = ?
     UNION SELECT bidder_id FROM deposits WHERE section_id = ? AND bidder_id IS NOT NULL
     UNION SELECT bidder_id FROM guarantees WHERE section_id = ?
     UNION SELECT bidder_id FROM guarantee_applications WHERE section_id = ?
     ORDER BY 1 LIMIT ?`,
    [sectionId, sectionId, sectionId, sectionId, limit + 1],
  );
  assert(rows.length <= limit, `section ${sectionId} has more than ${limit} bidders`);
  return rows.map((r: { bidder_id: string }) => r.bidder_id);
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
  assert(rows.length <= limit, `section ${sectionId} holds more than ${limit} deposits`);
  return rows;
}

/** What R12 needs to know of a bidder on a section: the deadline, the award and its withdrawal.
 *  The same facts serve a forfeiture and a claim. */
export async function r12FactsOf(tx: Tx, section: Pick<SectionRow, 'id' | 'bid_deadline' | 'winner_bidder_id'>, bidderId: string, now: Date): Promise<R12Facts> {
  const w = await findWithdrawal(tx, section.id, bidderId);
  return { now, bidDeadline: section.bid_deadline, bidderId, winnerBidderId: section.winner_bidder_id, withdrawal: w ? { afterDeadline: w.after_deadline } : null };
}
