// HTTP for e-guarantees: the issuer webhooks (signed), reading and verification, applications
// and claims. Parsing and access here; the use cases are in the services.
import { defineRoute, type RouteDef } from '../http/route';
import { listEnvelope } from '../http/schemas';
import type { WebhookSender } from '../http/webhookAuth';
import type { WebhookAnswer } from './service';
import * as service from './service';
import * as read from './read';
import { presentGuarantee } from './present';
import * as s from './schemas';

const tags = ['guarantees'];
const webhookBody = { kind: 'raw' as const, maxBytes: s.guaranteeWebhookBytesMax, contentTypes: ['application/json'] };

function answer(a: WebhookAnswer) {
  return { status: a.status, body: a.body, headers: a.replayed ? { 'Webhook-Replayed': 'true' } : {} };
}

export const guaranteeRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/guarantees', operationId: 'issueGuarantee',
    summary: 'Issuance webhook: record a guarantee (issued, or rejected with every failed rule)', tags,
    access: { webhook: 'issuer' }, params: s.issuerParams, bodyMode: webhookBody, response: s.guaranteeOut, successStatus: 201,
    handler: async ({ tx, sender, rawBody }) => answer(await service.receiveIssuance(tx as never, sender as WebhookSender, rawBody)),
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/guarantees/:number/events', operationId: 'guaranteeEvent',
    summary: 'Issuer event on a guarantee: amended, cancelled, claim_paid, claim_refused', tags,
    access: { webhook: 'issuer' }, params: s.issuerGuaranteeParams, bodyMode: webhookBody, response: s.guaranteeOut,
    handler: async ({ tx, sender, rawBody, params }) => answer(await service.receiveGuaranteeEvent(tx as never, sender as WebhookSender, params.number, rawBody)),
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/applications/:applicationId/events', operationId: 'guaranteeApplicationEvent',
    summary: 'Issuer event on an application: declined', tags,
    access: { webhook: 'issuer' }, params: s.issuerApplicationParams, bodyMode: webhookBody, response: s.applicationOut,
    handler: async ({ tx, sender, rawBody, params }) => answer(await service.receiveApplicationEvent(tx as never, sender as WebhookSender, params.applicationId, rawBody)),
  }),
  // Declared before /v1/guarantees/:id so that "verify" is not read as an id.
  defineRoute({
    method: 'get', path: '/v1/guarantees/verify', operationId: 'verifyGuarantee',
    summary: '验真: is this guarantee authentic and in force? With a signed verification report', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.verifyQuery, response: s.verifyOut,
    // A verification requests its report voucher: a read that writes, in its own transaction.
    // Wrapped: the answer has a `status` field of its own.
    handler: async ({ deps, caller, query }) => ({ body: await deps.db.transaction((tx) => read.verifyGuarantee(tx, caller, query)) }),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantees/:id', operationId: 'getGuarantee', summary: 'A guarantee', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, params: s.guaranteeIdParams, response: s.guaranteeOut,
    handler: async ({ tx, caller, params }) => presentGuarantee(await read.getVisibleGuarantee(tx, caller, params.id)),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantees', operationId: 'listGuarantees', summary: 'Guarantees', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.guaranteeListQuery, response: listEnvelope(s.guaranteeOut),
    handler: async ({ tx, caller, query }) => read.listGuarantees(tx, caller, query),
  }),
];
