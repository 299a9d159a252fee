// Audit events as the API shows them: the stored hashes as they are, so a reader can recompute.
import type { AuditRow } from './repo';

export function presentAuditEvent(r: AuditRow) {
  return {
    object: 'audit_event',
    seq: r.seq.toString(),
    id: r.id,
    at: r.at.toISOString(),
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    entity: r.entity_type ? { type: r.entity_type, id: r.entity_id } : null,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
