// HTTP for e-guarantees: the issuer webhooks (signed), reading and verification, applications
// and claims. Parsing and access here; the use cases are in the services.
import { z } from 'zod';
import { defineRoute, type RouteDef } from '../http/route';
import { listEnvelope } from '../http/schemas';
import type { WebhookSender } from '../http/webhookAuth';
import type { WebhookAnswer } from './service';
import * as service from './service';
import * as read from './read';
import * as applications from './applications';
import { claimGuarantee } from './lifecycle';
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
  defineRoute({
    method: 'post', path: '/v1/guarantees/:id/claims', operationId: 'claimGuarantee',
    summary: 'Claim on a guarantee (R12 reasons only), sent signed to the issuer', tags,
    access: { roles: ['centre'] }, params: s.guaranteeIdParams, body: s.claimCreate, response: s.guaranteeOut.extend({ voucherId: z.string() }),
    handler: async ({ tx, caller, params, body }) => claimGuarantee(tx as never, caller, params.id, body),
  }),
  defineRoute({
    method: 'post', path: '/v1/guarantee-applications', operationId: 'createGuaranteeApplication',
    summary: 'Apply for a guarantee through the service; refused at once where it cannot qualify', tags,
    access: { roles: ['centre', 'bidder'] }, body: s.applicationCreate, response: s.applicationOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => applications.createApplication(tx as never, caller, body),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantee-applications/:id', operationId: 'getGuaranteeApplication', summary: 'A guarantee application', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params: s.applicationIdParams, response: s.applicationOut,
    handler: async ({ tx, caller, params }) => applications.getVisibleApplication(tx, caller, params.id),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantee-applications', operationId: 'listGuaranteeApplications', summary: 'Guarantee applications', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, query: s.applicationListQuery, response: listEnvelope(s.applicationOut),
    handler: async ({ tx, caller, query }) => applications.listApplications(tx, caller, query),
  }),
];
