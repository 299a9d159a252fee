// SQL of events out: the relay's cursor, the events table, endpoints and their deliveries.
import type { Tx } from '../db/knex';

export interface EventRow {
  seq: bigint;
  id: string;
  type: string;
  occurred_at: Date;
  recorded_at: Date;
  subject_type: string | null;
  subject_id: string | null;
  section_id: string | null;
  tenderee_id: string | null;
  bidder_id: string | null;
  issuer_id: string | null;
  bank_id: string | null;
  reveals_bidders: boolean;
  audit_seq: bigint | null;
  data: Record<string, unknown>;
}

export interface EndpointRow {
  id: string;
  url: string;
  event_types: string[];
  status: 'enabled' | 'disabled' | 'deleted';
  description: string | null;
  created_by: string;
  created_at: Date;
  failing_since: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  deleted_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  created_at: Date;
  window_started_at: Date;
  next_attempt_at: Date;
  claimed_at: Date | null;
  delivered_at: Date | null;
  last_error: string | null;
}

export interface AttemptRow {
  id: bigint;
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
  redelivery: boolean;
}

// ---- the relay -------------------------------------------------------------------------------

export const relayCursorName = 'events';

export interface CursorRow {
  audit_seq: bigint;
  gap_after_seq: bigint | null;
  gap_seen_at: Date | null;
  /** The database's clock, read with the lock. */
  now: Date;
}

/** Locks the relay's cursor to the end of the transaction: one relay at a time, in order. */
export async function lockCursor(tx: Tx): Promise<CursorRow> {
  const { rows } = await tx.raw(`SELECT audit_seq, gap_after_seq, gap_seen_at, now() AS now FROM event_relay_cursors WHERE name = ? FOR UPDATE`, [relayCursorName]);
  if (!rows[0]) throw new Error('assertion failed: the event relay cursor row exists (migration 20261204008000)');
  return rows[0];
}

export async function saveCursor(tx: Tx, auditSeq: bigint, gap: { afterSeq: bigint; seenAt: Date } | null): Promise<void> {
  await tx('event_relay_cursors').where({ name: relayCursorName }).update({
    audit_seq: auditSeq.toString(),
    gap_after_seq: gap ? gap.afterSeq.toString() : null,
    gap_seen_at: gap ? gap.seenAt : null,
    updated_at: tx.fn.now(),
  });
}

export interface AuditSlice {
  seq: bigint;
  at: Date;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  data: Record<string, unknown>;
}

/** The log after `afterSeq`, in its order; the data only of the actions that become events
 *  (every row is still read, to see holes in the sequence). */
export async function auditAfter(tx: Tx, afterSeq: bigint, limit: number, actions: readonly string[]): Promise<AuditSlice[]> {
  return tx('audit_events')
    .select('seq', 'at', 'action', 'entity_type', 'entity_id', tx.raw(`CASE WHEN action = ANY(?) THEN data ELSE '{}'::jsonb END AS data`, [[...actions]]))
    .where('seq', '>', afterSeq.toString())
    .orderBy('seq', 'asc')
    .limit(limit);
}

export interface NewEvent {
  id: string;
  type: string;
  occurred_at: string;
  subject_type: string | null;
  subject_id: string | null;
  audit_seq: string | null;
  reveals_bidders: boolean;
  data: Record<string, unknown>;
  section_hint: string | null;
  bidder_hint: string | null;
  bank_hint: string | null;
  issuer_hint: string | null;
}

/** Inserts events, scoping each by its subject's own record (a deposit's section and bidder, a
 *  guarantee's issuer, a section's tenderee and deposit bank), in one statement. Returns those
 *  inserted (an audit event relayed before is skipped). */
export async function insertEvents(tx: Tx, events: NewEvent[]): Promise<Pick<EventRow, 'id' | 'type' | 'seq'>[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.raw(
    `INSERT INTO events (id, type, occurred_at, subject_type, subject_id, audit_seq, reveals_bidders, data, section_id, tenderee_id, bidder_id, issuer_id, bank_id)
     SELECT b.id, b.type, b.occurred_at, b.subject_type, b.subject_id, b.audit_seq, b.reveals_bidders, b.data,
            sc.id,
            coalesce(sc.tenderee_id, CASE WHEN b.subject_type = 'tenderee' THEN b.subject_id END),
            coalesce(d.bidder_id, g.bidder_id, ga.bidder_id, r.bidder_id, bx.bidder_id, CASE WHEN b.subject_type = 'bidder' THEN b.subject_id END, b.bidder_hint),
            coalesce(g.issuer_id, ga.issuer_id, CASE WHEN b.subject_type = 'issuer' THEN b.subject_id END, b.issuer_hint),
            coalesce(d.bank_id, r.bank_id, rc.bank_id, bx.bank_id, CASE WHEN b.subject_type = 'bank' THEN b.subject_id END, b.bank_hint, sc.deposit_bank_id)
       FROM jsonb_to_recordset(?::jsonb) AS b(id text, type text, occurred_at timestamptz, subject_type text, subject_id text, audit_seq bigint,
                                             reveals_bidders boolean, data jsonb, section_hint text, bidder_hint text, bank_hint text, issuer_hint text)
       LEFT JOIN deposits d ON b.subject_type = 'deposit' AND d.id = b.subject_id
       LEFT JOIN guarantees g ON b.subject_type = 'guarantee' AND g.id = b.subject_id
       LEFT JOIN guarantee_applications ga ON b.subject_type = 'guarantee_application' AND ga.id = b.subject_id
       LEFT JOIN refunds r ON b.subject_type = 'refund' AND r.id = b.subject_id
       LEFT JOIN reconciliations rc ON b.subject_type = 'reconciliation' AND rc.id = b.subject_id
       LEFT JOIN bank_exceptions bx ON b.subject_type = 'bank_exception' AND bx.id = b.subject_id
       LEFT JOIN sections sc ON sc.id = coalesce(d.section_id, g.section_id, ga.section_id, r.section_id, bx.section_id,
                                                 CASE WHEN b.subject_type = 'section' THEN b.subject_id END, b.section_hint)
      ORDER BY b.audit_seq, b.type
     ON CONFLICT (audit_seq, type) WHERE audit_seq IS NOT NULL DO NOTHING
     RETURNING id, type, seq`,
    [JSON.stringify(events)],
  );
  return rows;
}

// ---- reading events ------------------------------------------------------------------------

/** Who may see which events: the centre and auditors all; a party the events about it. */
export type EventScope =
  | { kind: 'all' }
  | { kind: 'bidder'; bidderId: string }
  | { kind: 'tenderee'; tendereeId: string }
  | { kind: 'issuer'; issuerId: string }
  | { kind: 'bank'; bankId: string }
  | { kind: 'none' };

export async function listEvents(tx: Tx, scope: EventScope, opts: { afterSeq?: bigint; limit: number; types?: string[] }): Promise<EventRow[]> {
  const q = tx('events as e').select('e.*').orderBy('e.seq', 'asc').limit(opts.limit);
  if (opts.afterSeq !== undefined) q.where('e.seq', '>', opts.afterSeq.toString());
  if (opts.types?.length) q.whereIn('e.type', opts.types);
  switch (scope.kind) {
    case 'all':
      break;
    case 'bidder':
      q.where('e.bidder_id', scope.bidderId);
      break;
    case 'tenderee':
      // R18: whatever says who bids stays hidden until the section is opened.
      q.where('e.tenderee_id', scope.tendereeId).where((w) =>
        w.where('e.reveals_bidders', false).orWhereExists((s) => s.select(tx.raw('1')).from('sections as s').whereRaw('s.id = e.section_id').whereNotNull('s.opened_at')),
      );
      break;
    case 'issuer':
      q.where('e.issuer_id', scope.issuerId);
      break;
    case 'bank':
      q.where('e.bank_id', scope.bankId);
      break;
    case 'none':
      q.whereRaw('false');
      break;
  }
  return q;
}

export async function eventsByIds(tx: Tx, ids: string[]): Promise<EventRow[]> {
  if (ids.length === 0) return [];
  return tx('events').whereIn('id', ids);
}

// ---- endpoints -----------------------------------------------------------------------------

export async function insertEndpoint(tx: Tx, row: Pick<EndpointRow, 'id' | 'url' | 'event_types' | 'description' | 'created_by'>): Promise<EndpointRow> {
  const [r] = await tx('webhook_endpoints').insert({ ...row }).returning('*');
  return r;
}

export async function findEndpoint(tx: Tx, id: string, opts: { forUpdate?: boolean } = {}): Promise<EndpointRow | undefined> {
  const q = tx('webhook_endpoints').where({ id }).whereNot('status', 'deleted').first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function countLiveEndpoints(tx: Tx): Promise<number> {
  const [{ n }] = await tx('webhook_endpoints').whereNot('status', 'deleted').count({ n: '*' });
  return Number(n);
}

export async function listEndpoints(tx: Tx, opts: { afterId?: string; limit: number }): Promise<EndpointRow[]> {
  const q = tx('webhook_endpoints').whereNot('status', 'deleted').orderBy('id', 'asc').limit(opts.limit);
  if (opts.afterId) q.where('id', '>', opts.afterId);
  return q;
}

export async function enabledEndpoints(tx: Tx): Promise<Pick<EndpointRow, 'id' | 'event_types'>[]> {
  return tx('webhook_endpoints').select('id', 'event_types').where({ status: 'enabled' });
}

export async function markEndpointDeleted(tx: Tx, id: string): Promise<void> {
  await tx('webhook_endpoints').where({ id }).update({ status: 'deleted', deleted_at: tx.fn.now() });
  await tx('webhook_deliveries').where({ endpoint_id: id }).whereIn('status', ['pending']).update({ status: 'failed', last_error: 'endpoint deleted' });
}

/** The first failure starts the endpoint's failing period; a success ends it. */
export async function noteEndpointOutcome(tx: Tx, id: string, ok: boolean): Promise<void> {
  await tx('webhook_endpoints').where({ id }).update(ok ? { failing_since: null } : { failing_since: tx.raw('coalesce(failing_since, now())') });
}

/** Disables an endpoint that has failed for longer than `windowMs`; true when this call did. */
export async function disableIfFailingSince(tx: Tx, id: string, windowMs: number, reason: string): Promise<boolean> {
  const n = await tx('webhook_endpoints')
    .where({ id, status: 'enabled' })
    .whereNotNull('failing_since')
    .where('failing_since', '<=', tx.raw('now() - make_interval(secs => ?)', [windowMs / 1000]))
    .update({ status: 'disabled', disabled_at: tx.fn.now(), disabled_reason: reason });
  if (n === 0) return false;
  await tx('webhook_deliveries').where({ endpoint_id: id, status: 'pending' }).update({ status: 'failed', last_error: 'endpoint disabled' });
  return true;
}

// ---- deliveries ------------------------------------------------------------------------------

export async function insertDeliveries(tx: Tx, rows: { id: string; endpoint_id: string; event_id: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx('webhook_deliveries').insert(rows).onConflict(['endpoint_id', 'event_id']).ignore();
}

export interface ClaimedDelivery extends DeliveryRow {
  url: string;
  endpoint_status: EndpointRow['status'];
}

/** Claims due deliveries of enabled endpoints: `pending → sending`, the attempt counted. Rows
 *  another sweep holds are skipped, so two workers never send the same attempt. */
export async function claimDueDeliveries(tx: Tx, limit: number): Promise<ClaimedDelivery[]> {
  const { rows } = await tx.raw(
    `WITH due AS MATERIALIZED (
       SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.status = 'enabled'
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        ORDER BY d.next_attempt_at
        LIMIT ? FOR UPDATE OF d SKIP LOCKED)
     UPDATE webhook_deliveries d SET status = 'sending', claimed_at = now(), attempts = d.attempts + 1
       FROM due, webhook_endpoints w
      WHERE d.id = due.id AND w.id = d.endpoint_id
     RETURNING d.*, w.url, w.status AS endpoint_status`,
    [limit],
  );
  return rows;
}

/** A delivery left `sending` by a worker that died goes back to be retried; the attempt it
 *  was on is recorded as one without an answer, so the attempts listed stay numbered 1, 2, 3. */
export async function releaseStuckDeliveries(tx: Tx, stuckMs: number): Promise<number> {
  const { rows } = await tx.raw(
    `WITH stuck AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), last_error = :error
        WHERE status = 'sending' AND claimed_at < now() - make_interval(secs => :stuckSeconds)
       RETURNING id, attempts, claimed_at, window_started_at > created_at AS redelivery)
     INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, http_status, error, redelivery)
     SELECT id, attempts, claimed_at, least(extract(epoch FROM now() - claimed_at) * 1000, 2147483647)::int, NULL, :error, redelivery FROM stuck
     ON CONFLICT (delivery_id, attempt) DO NOTHING
     RETURNING delivery_id`,
    { error: 'the sending worker stopped before recording an answer', stuckSeconds: stuckMs / 1000 },
  );
  return rows.length;
}

export async function insertAttempt(tx: Tx, row: Omit<AttemptRow, 'id'>): Promise<void> {
  await tx('webhook_delivery_attempts').insert(row).onConflict(['delivery_id', 'attempt']).ignore();
}

export async function finishDelivery(
  tx: Tx,
  id: string,
  outcome: { status: 'delivered' } | { status: 'failed'; error: string } | { status: 'pending'; error: string; retryInMs: number },
): Promise<number> {
  const q = tx('webhook_deliveries').where({ id, status: 'sending' });
  if (outcome.status === 'delivered') return q.update({ status: 'delivered', delivered_at: tx.fn.now(), last_error: null });
  if (outcome.status === 'failed') return q.update({ status: 'failed', last_error: outcome.error });
  return q.update({ status: 'pending', last_error: outcome.error, next_attempt_at: tx.raw('now() + make_interval(secs => ?)', [outcome.retryInMs / 1000]) });
}

/** Whether a delivery's retry window (from its creation or redelivery) has run out. */
export async function windowExpired(tx: Tx, id: string, windowMs: number): Promise<boolean> {
  const { rows } = await tx.raw(`SELECT window_started_at <= now() - make_interval(secs => ?) AS expired FROM webhook_deliveries WHERE id = ?`, [windowMs / 1000, id]);
  return rows[0]?.expired === true;
}

export async function findDelivery(tx: Tx, endpointId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<DeliveryRow | undefined> {
  const q = tx('webhook_deliveries').where({ id, endpoint_id: endpointId }).first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function listDeliveries(tx: Tx, endpointId: string, opts: { afterId?: string; limit: number; status?: string }): Promise<DeliveryRow[]> {
  const q = tx('webhook_deliveries').where({ endpoint_id: endpointId }).orderBy('id', 'asc').limit(opts.limit);
  if (opts.afterId) q.where('id', '>', opts.afterId);
  if (opts.status) q.where({ status: opts.status });
  return q;
}

export async function attemptsOf(tx: Tx, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return tx('webhook_delivery_attempts').whereIn('delivery_id', deliveryIds).orderBy([{ column: 'delivery_id' }, { column: 'attempt' }]);
}

/** Sends a delivery again now, with a fresh retry window, whatever became of it before. */
export async function requeueDelivery(tx: Tx, id: string): Promise<void> {
  await tx('webhook_deliveries').where({ id }).update({ status: 'pending', next_attempt_at: tx.fn.now(), window_started_at: tx.fn.now(), delivered_at: null });
}

export interface WebhookCounts {
  endpoints: Record<string, number>;
  pending: number;
  failed: number;
  oldestPendingSeconds: number;
}

export async function webhookCounts(tx: Tx): Promise<WebhookCounts> {
  const byStatus: { status: string; n: string | number | bigint }[] = await tx('webhook_endpoints').select('status').count({ n: '*' }).groupBy('status');
  const { rows } = await tx.raw(
    `SELECT count(*) FILTER (WHERE status IN ('pending','sending')) AS pending,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status IN ('pending','sending'))), 0) AS oldest
       FROM webhook_deliveries`,
  );
  return {
    endpoints: Object.fromEntries(byStatus.map((r) => [String(r.status), Number(r.n)])),
    pending: Number(rows[0].pending),
    failed: Number(rows[0].failed),
    oldestPendingSeconds: Number(rows[0].oldest),
  };
}
