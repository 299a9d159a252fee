import type { Tx } from '../db/knex';

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
// serial. It is held only to the end of the appending transaction.
const auditChainLockKey = 7243001;

export async function lockChain(tx: Tx): Promise<void> {
  await tx.raw('SELECT pg_advisory_xact_lock(?)', [auditChainLockKey]);
}

export async function lastHash(tx: Tx): Promise<string | undefined> {
  const row = await tx('audit_events').select('hash').orderBy('seq', 'desc').first();
  return row?.hash;
}

export async function insertEvent(tx: Tx, row: Omit<AuditRow, 'seq'>): Promise<void> {
  await tx('audit_events').insert({ ...row, data: JSON.stringify(row.data) });
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
