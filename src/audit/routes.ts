import { z } from 'zod';
import { BadRequest } from '../errors';
import { defineRoute, type RouteDef } from '../http/route';
import { pageLimitDefault, pageLimitMax } from '../http/schemas';
import { listEvents } from './repo';
import { presentAuditEvent, verifyChain } from './service';

const tags = ['audit'];

export const auditRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/audit', operationId: 'listAuditEvents', summary: 'The append-only, hash-chained event log, oldest first', tags,
    access: { roles: ['centre', 'auditor'] },
    query: z.strictObject({
      limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
      cursor: z.string().regex(/^\d{1,19}$/).optional(),
      entityType: z.string().max(40).optional(),
      entityId: z.string().max(64).optional(),
      action: z.string().max(80).optional(),
    }),
    handler: async ({ tx, query }) => {
      let afterSeq: bigint | undefined;
      try {
        afterSeq = query.cursor ? BigInt(query.cursor) : undefined;
      } catch {
        throw new BadRequest('invalid_cursor', 'cursor is not one this API returned', 'cursor');
      }
      const rows = await listEvents(tx, { afterSeq, limit: query.limit + 1, entityType: query.entityType, entityId: query.entityId, action: query.action });
      const page = rows.slice(0, query.limit);
      const hasMore = rows.length > query.limit;
      return { object: 'list', data: page.map(presentAuditEvent), hasMore, nextCursor: hasMore ? page[page.length - 1].seq.toString() : null };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/audit/verify', operationId: 'verifyAuditChain', summary: 'Recompute the hash chain and name the first broken link', tags,
    access: { roles: ['centre', 'auditor'] },
    response: z.object({ ok: z.boolean(), eventsChecked: z.number(), firstBroken: z.object({ seq: z.string(), id: z.string(), reason: z.string() }).optional() }),
    handler: async ({ tx }) => verifyChain(tx),
  }),
];
