// HTTP for the audit log: reading it and checking its chain.
import { defineRoute, type RouteDef } from '../http/route';
import { presentAuditEvent } from './present';
import * as s from './schemas';
import { listAuditEvents, verifyChain } from './service';

const tags = ['audit'];

export const auditRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/audit', operationId: 'listAuditEvents', summary: 'The append-only, hash-chained event log, oldest first', tags,
    access: { roles: ['centre', 'auditor'] }, query: s.auditListQuery,
    handler: async ({ tx, query }) => {
      const page = await listAuditEvents(tx, query);
      return { ...page, data: page.data.map(presentAuditEvent) };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/audit/verify', operationId: 'verifyAuditChain', summary: 'Recompute the hash chain and name the first broken link', tags,
    access: { roles: ['centre', 'auditor'] }, response: s.chainCheckOut,
    handler: async ({ tx }) => verifyChain(tx),
  }),
];
