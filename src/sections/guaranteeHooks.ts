// The section lifecycle's effect on guarantees: secured at opening (R8), released after the
// contract or a termination. The guarantees capability owns these rows; until it exposes its
// own calls for these events, the moves are made here with its repo's guarded update, so a
// guarantee only ever takes a move its lifecycle allows.
import type { Knex } from 'knex';
import type { Actor } from '../audit/service';
import { appendAudit } from '../audit/service';
import { recordGuaranteeEvent, updateGuaranteeStatus, type GuaranteeRow } from '../guarantees/repo';
import { isLegalTransition } from '../guarantees/rules';

/** Guarantees of one section, bounded by the bidders a section can have. */
export const sectionGuaranteesMax = 10_000;

async function moveAll(tx: Knex.Transaction, sectionId: string, to: 'secured' | 'released', reason: string, actor: Actor): Promise<string[]> {
  const rows = (await tx<GuaranteeRow>('guarantees')
    .where({ section_id: sectionId })
    .whereIn('status', ['issued', 'amended', 'secured'])
    .orderBy('id')
    .limit(sectionGuaranteesMax)
    .forUpdate()) as GuaranteeRow[];
  const moved: string[] = [];
  for (const g of rows) {
    if (g.status === to || !isLegalTransition(g.status, to)) continue;
    const extra = to === 'released' ? { release_reason: reason, released_at: new Date() } : {};
    if (!(await updateGuaranteeStatus(tx, g.id, g.status, to, extra as Partial<GuaranteeRow>))) continue;
    await recordGuaranteeEvent(tx, { guaranteeId: g.id, type: to, from: g.status, to, eventId: `section.${sectionId}.${to}`, data: { reason } });
    await appendAudit(tx, { actor, action: `guarantee.${to}`, entityType: 'guarantee', entityId: g.id, data: { sectionId, reason } });
    moved.push(g.id);
  }
  return moved;
}

export const secureGuaranteesAtOpening = (tx: Knex.Transaction, sectionId: string, actor: Actor) => moveAll(tx, sectionId, 'secured', 'opening', actor);
export const releaseGuaranteesForSection = (tx: Knex.Transaction, sectionId: string, reason: 'contract' | 'termination', actor: Actor) =>
  moveAll(tx, sectionId, 'released', reason, actor);
