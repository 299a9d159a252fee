import type { Tx } from '../db/knex';
import { run, statement } from '../db/statements';

export interface AuditRow {
  seq: bigint;
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
}

// One lock for the whole chain: each event's hash covers its predecessor's, so appends must be
// serial. It is taken inside COMMIT by the trigger on audit_pending (migration 20261204002000),
// with this key, and held only to the end of that commit.
export const auditChainLockKey = 7243001;

/** An event to append, its hashed text cut where the predecessor's hash goes. */
export interface ChainedEventInput {
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  data: unknown;
  hash_prefix: string;
  hash_suffix: string;
}

/** The insert of pending events, in order, from the jsonb parameter $`param` (`pendingEventsParam`):
 *  for the chain's own statement, and for a caller that writes its last rows and the
 *  transaction's events in one statement (the answers of signed calls). */
export function insertPendingSql(param: number): string {
  return `INSERT INTO audit_pending (id, at, actor_type, actor_id, action, entity_type, entity_id, data, hash_prefix, hash_suffix)
   SELECT id, at, actor_type, actor_id, action, entity_type, entity_id, data, hash_prefix, hash_suffix
   FROM jsonb_to_recordset($${param}::jsonb) AS e(k int, id text, at timestamptz, actor_type text, actor_id text, action text, entity_type text, entity_id text, data jsonb, hash_prefix text, hash_suffix text)
   ORDER BY k`;
}

export const pendingEventsParam = (events: readonly ChainedEventInput[]): string => JSON.stringify(events.map((e, k) => ({ k, ...e })));

/** Writes the events, in order, in one statement; they join the chain when the transaction
 *  commits (at once outside a transaction). */
const insertPending = statement('audit.insertPending', insertPendingSql(1));

export async function appendToChain(tx: Tx, events: ChainedEventInput[]): Promise<void> {
  if (events.length === 0) return;
  await run(tx, insertPending, [pendingEventsParam(events)]);
}

export async function listEvents(
  tx: Tx,
  opts: { afterSeq?: bigint; limit: number; entityType?: string; entityId?: string; action?: string },
): Promise<AuditRow[]> {
  const q = tx('audit_events').select('*').orderBy('seq', 'asc').limit(opts.limit);
  if (opts.afterSeq !== undefined) q.where('seq', '>', opts.afterSeq.toString());
  if (opts.entityType) q.where('entity_type', opts.entityType);
  if (opts.entityId) q.where('entity_id', opts.entityId);
  if (opts.action) q.where('action', opts.action);
  return q;
}
