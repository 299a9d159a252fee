// Queries of postponed deadlines; each takes the unit of work.
import type { Tx } from '../db/knex';

export interface PostponementRow {
  id: bigint;
  section_id: string;
  previous_deadline: Date;
  bid_deadline: Date;
  reason: string;
  requested_by: string;
  created_at: Date;
}

export async function countPostponements(tx: Tx, sectionId: string): Promise<number> {
  const [{ n }] = (await tx('section_postponements').where({ section_id: sectionId }).count({ n: '*' })) as { n: bigint | string | number }[];
  return Number(n);
}

/** Moves an open section's deadline from the one it was read with; false when it had moved. */
export async function moveDeadline(tx: Tx, sectionId: string, from: Date, to: Date): Promise<boolean> {
  return (await tx('sections').where({ id: sectionId, status: 'open', bid_deadline: from }).update({ bid_deadline: to })) === 1;
}

export async function insertPostponement(tx: Tx, row: Omit<PostponementRow, 'id' | 'created_at'>): Promise<string> {
  const [{ id }] = (await tx('section_postponements').insert(row).returning('id')) as { id: bigint }[];
  return id.toString();
}

/** A section's postponements, oldest first. */
export const postponementsOf = (tx: Tx, sectionId: string, limit: number) =>
  tx<PostponementRow>('section_postponements').where({ section_id: sectionId }).orderBy('id').limit(limit) as unknown as Promise<PostponementRow[]>;
