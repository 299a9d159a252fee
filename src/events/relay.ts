// The relay: turns the audit chain into events, exactly once. Every state change appends to the
// audit log in its own transaction, so the log is the one complete record of what happened;
// the relay reads it in its own order (`seq`) and keeps its place in a stored cursor that moves
// in the same transaction as the events (and their deliveries) it writes.
//
// Audit rows become visible at commit. Appends inside a transaction take the chain's lock and
// hold it to commit, so their `seq` order is their commit order; an append outside one (or a
// rollback after the insert) can leave a hole in `seq` that a later row is visible beyond. The
// relay stops at such a hole and waits up to `relayGapWaitMs` (on the database's clock) for the
// missing row to commit, then steps over it: a row that has not committed by then was rolled
// back. Holes in old parts of the log are stepped over at once.
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { enqueueJob } from '../queue/outbox';
import { deliverJobName, webhooksQueue } from './delivery';
import { webhookIds } from './ids';
import * as repo from './repo';
import { eventsFor, relayedActions } from './rules';

/** Audit rows read per round; the relay loops until it is caught up or hits the round bound. */
export const relayBatchSize = 1000;
/** Rounds per call, so one sweep returns in bounded time however far behind it is. */
export const relayRoundsMax = 50;
/** How long a hole in the audit sequence is waited for before it is taken for a rollback. */
export const relayGapWaitMs = 30_000;
/** A hole below a row appended this long ago is history, not a commit in flight (no appending
 *  transaction stays open that long), and is stepped over at once: catching up on an old log
 *  does not wait at each of its holes. */
export const relayGapHistoryMs = 10 * 60_000;

export interface RelayResult {
  auditRows: number;
  events: number;
  deliveries: number;
}

/** One round in one transaction: a batch of the audit log after the cursor. */
export async function relayRound(db: Knex, opts: { batchSize?: number; gapWaitMs?: number } = {}): Promise<RelayResult & { caughtUp: boolean }> {
  const batchSize = opts.batchSize ?? relayBatchSize;
  const gapWaitMs = opts.gapWaitMs ?? relayGapWaitMs;
  return db.transaction(async (tx) => {
    const cursor = await repo.lockCursor(tx);
    const rows = await repo.auditAfter(tx, cursor.audit_seq, batchSize, relayedActions);
    // The contiguous prefix, stepping over a hole only once it has been waited for.
    let last = cursor.audit_seq;
    let gap: { afterSeq: bigint; seenAt: Date } | null = null;
    const taken: repo.AuditSlice[] = [];
    for (const r of rows) {
      if (r.seq !== last + 1n) {
        const waitedFor = cursor.gap_after_seq === last && cursor.gap_seen_at !== null ? cursor.now.getTime() - cursor.gap_seen_at.getTime() : 0;
        const history = cursor.now.getTime() - r.at.getTime() > relayGapHistoryMs;
        if (!history && waitedFor < gapWaitMs) {
          gap = { afterSeq: last, seenAt: cursor.gap_after_seq === last && cursor.gap_seen_at ? cursor.gap_seen_at : cursor.now };
          break;
        }
      }
      taken.push(r);
      last = r.seq;
    }
    const derived = taken.flatMap((r) =>
      eventsFor({ action: r.action, entityType: r.entity_type, entityId: r.entity_id, data: r.data }).map((e) => ({
        id: newId('evt'),
        type: e.type,
        occurred_at: r.at.toISOString(),
        subject_type: e.subjectType,
        subject_id: e.subjectId,
        audit_seq: r.seq.toString(),
        reveals_bidders: e.revealsBidders,
        data: e.data,
        section_hint: e.hints.sectionId ?? null,
        bidder_hint: e.hints.bidderId ?? null,
        bank_hint: e.hints.bankId ?? null,
        issuer_hint: e.hints.issuerId ?? null,
      })),
    );
    const inserted = await repo.insertEvents(tx, derived);
    const deliveries = await fanOut(tx, inserted);
    if (last !== cursor.audit_seq || gap !== null || cursor.gap_after_seq !== null) await repo.saveCursor(tx, last, gap);
    return { auditRows: taken.length, events: inserted.length, deliveries, caughtUp: gap !== null || rows.length < batchSize };
  });
}

/** One delivery per event and endpoint subscribed to its type, written with the event, and a
 *  job to send them at once: the first delivery does not wait for the minute sweep. */
async function fanOut(tx: Knex.Transaction, events: { id: string; type: string }[]): Promise<number> {
  if (events.length === 0) return 0;
  const endpoints = await repo.enabledEndpoints(tx);
  const rows = events.flatMap((e) =>
    endpoints.filter((w) => w.event_types.includes('*') || w.event_types.includes(e.type)).map((w) => ({ id: webhookIds.delivery(), endpoint_id: w.id, event_id: e.id })),
  );
  if (rows.length === 0) return 0;
  await repo.insertDeliveries(tx, rows);
  await enqueueJob(tx, { queue: webhooksQueue, name: deliverJobName, jobId: `${deliverJobName}.${events[0].id}`, payload: {} });
  return rows.length;
}

/** Relays until caught up (or the round bound): what the sweep and tests call. */
export async function relayEvents(db: Knex, opts: { batchSize?: number; gapWaitMs?: number } = {}): Promise<RelayResult> {
  const total: RelayResult = { auditRows: 0, events: 0, deliveries: 0 };
  for (let round = 0; round < relayRoundsMax; round++) {
    const r = await relayRound(db, opts);
    total.auditRows += r.auditRows;
    total.events += r.events;
    total.deliveries += r.deliveries;
    if (r.caughtUp) break;
  }
  return total;
}
