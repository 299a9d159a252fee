// Request and response schemas of the audit log; they also produce its OpenAPI document.
import { z } from 'zod';
import { pageLimitDefault, pageLimitMax } from '../http/schemas';

export const auditListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
  /** The `seq` of the last event seen: the log is paged in its own order, not by id. */
  cursor: z.string().regex(/^\d{1,19}$/).optional(),
  entityType: z.string().max(40).optional(),
  entityId: z.string().max(64).optional(),
  action: z.string().max(80).optional(),
});
export type AuditListQuery = z.infer<typeof auditListQuery>;

export const chainCheckOut = z.object({ ok: z.boolean(), eventsChecked: z.number(), firstBroken: z.object({ seq: z.string(), id: z.string(), reason: z.string() }).optional() });
