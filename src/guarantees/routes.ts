// HTTP for e-guarantees: the issuer webhooks (signed), reading and verification, applications
// and claims. Parsing, access and presentation here; the use cases are in the services.
import type { z } from 'zod';
import { BadRequest, assert } from '../errors';
import { defineRoute, parseJsonBody, transactionOf, type RouteDef } from '../http/route';
import { guardPublicRoute } from '../http/rateLimit';
import { listEnvelope } from '../http/schemas';
import type { WebhookSender } from '../http/webhookAuth';
import { vouchersOfSubjects } from '../vouchers/subjects';
import * as applications from './applications';
import { receiveIssuanceGrouped } from './issuanceGroups';
import { presentApplication, presentGuarantee } from './present';
import * as read from './read';
import * as s from './schemas';
import * as service from './service';

const tags = ['guarantees'];
const webhookBody = { kind: 'raw' as const, maxBytes: s.guaranteeWebhookBytesMax, contentTypes: ['application/json'] };

/** Webhook bodies arrive raw (their bytes are signed and replays compared by them). */
function parseWebhookBody<T>(schema: z.ZodType<T>, rawBody: Buffer | undefined): T {
  const parsed = schema.safeParse(parseJsonBody(rawBody ?? Buffer.alloc(0)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // An unknown field is named itself, as every other body's is (http/app.ts): "body" or
    // "applicant" would send the issuer looking at every field it sent.
    if (issue.code === 'unrecognized_keys') {
      const param = [...issue.path, issue.keys[0]].join('.');
      throw new BadRequest('unknown_field', `${param}: unknown field`, param);
    }
    const param = issue.path.length ? issue.path.join('.') : 'body';
    throw new BadRequest('invalid_field', `${param}: ${issue.message}`, param);
  }
  return parsed.data;
}

function signedBy(sender: WebhookSender | undefined): WebhookSender {
  assert(sender, 'a signed webhook route has its sender');
  return sender;
}

function answer(a: service.WebhookAnswer) {
  return { status: a.status, body: a.body, headers: a.replayed ? { 'Webhook-Replayed': 'true' } : {} };
}

export const guaranteeRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/guarantees', operationId: 'issueGuarantee',
    summary: 'Issuance webhook: record a guarantee (issued, or rejected with every failed rule)', tags,
    // The claim of each issuance checks that its certificate is still unretired.
    access: { webhook: 'issuer', rememberedRegistration: true }, params: s.issuerParams, bodyMode: webhookBody, response: s.guaranteeOut, successStatus: 201,
    // Committed together with others arriving meanwhile, each in its own right (issuanceGroups.ts).
    transactional: false,
    handler: async ({ deps, sender, rawBody }) => {
      const body = parseWebhookBody(s.issuanceBody, rawBody);
      return answer(await receiveIssuanceGrouped(deps, { sender: signedBy(sender), body, rawBody: rawBody! }));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/guarantees/:number/events', operationId: 'guaranteeEvent',
    summary: 'Issuer event on a guarantee: amended, cancelled, claim_paid, claim_refused', tags,
    access: { webhook: 'issuer' }, params: s.issuerGuaranteeParams, bodyMode: webhookBody, response: s.guaranteeOut,
    handler: async ({ tx, sender, rawBody, params }) => {
      const body = parseWebhookBody(s.guaranteeEventBody, rawBody);
      return answer(await service.receiveGuaranteeEvent(transactionOf(tx), signedBy(sender), params.number, body, rawBody!));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers/:id/applications/:applicationId/events', operationId: 'guaranteeApplicationEvent',
    summary: 'Issuer event on an application: declined', tags,
    access: { webhook: 'issuer' }, params: s.issuerApplicationParams, bodyMode: webhookBody, response: s.applicationOut,
    handler: async ({ tx, sender, rawBody, params }) => {
      const body = parseWebhookBody(s.applicationEventBody, rawBody);
      return answer(await service.receiveApplicationEvent(transactionOf(tx), signedBy(sender), params.applicationId, body, rawBody!));
    },
  }),
  // Declared before /v1/guarantees/:id so that "verify" is not read as an id.
  defineRoute({
    method: 'get', path: '/v1/guarantees/verify', operationId: 'verifyGuarantee',
    summary: '验真: is this guarantee authentic and in force? With a signed verification report', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.verifyQuery, response: s.verifyOut,
    // Wrapped: the answer has a `status` field of its own.
    handler: async ({ deps, caller, query }) => {
      const v = await service.verifyGuarantee(deps.db, caller, query);
      const vouchers = v.guarantee ? (await vouchersOfSubjects(deps.db, { guarantee: [v.guarantee.id] })).of('guarantee', v.guarantee.id) : [];
      return { body: { ...v, guarantee: v.guarantee && presentGuarantee(v.guarantee, vouchers) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/public/guarantees/verify', operationId: 'verifyGuaranteePublicly',
    summary: '验真 without signing in: a guarantee document checked by issuer, number and SHA-256; nothing told unless the hash matches, no bidder before the opening (R18)',
    tags: ['public'], access: { public: true }, query: s.publicVerifyQuery, response: s.publicVerifyOut,
    handler: async ({ req, res, deps, query }) => {
      await guardPublicRoute(req, res, deps, 'read');
      return service.verifyGuaranteePublicly(deps.db, query);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantees/:id', operationId: 'getGuarantee', summary: 'A guarantee', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, params: s.guaranteeIdParams, response: s.guaranteeOut,
    handler: async ({ tx, caller, params }) => {
      const g = await read.getVisibleGuarantee(tx, caller, params.id);
      return presentGuarantee(g, (await vouchersOfSubjects(tx, { guarantee: [g.id] })).of('guarantee', g.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantees', operationId: 'listGuarantees', summary: 'Guarantees (sealed from tenderees until opening, R18)', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.guaranteeListQuery, response: listEnvelope(s.guaranteeOut),
    handler: async ({ tx, caller, query }) => {
      const page = await read.listGuarantees(tx, caller, query);
      const vouchers = await vouchersOfSubjects(tx, { guarantee: page.data.map((g) => g.id) });
      return { ...page, data: page.data.map((g) => presentGuarantee(g, vouchers.of('guarantee', g.id))) };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/guarantees/:id/claims', operationId: 'claimGuarantee',
    summary: 'Claim on a guarantee (R12 grounds only, as for a forfeiture), sent signed to the issuer', tags,
    access: { roles: ['centre'] }, params: s.guaranteeIdParams, body: s.claimCreate, response: s.claimOut,
    handler: async ({ tx, caller, params, body }) => {
      const { guarantee, voucherId } = await service.claimGuarantee(transactionOf(tx), caller, params.id, body);
      return { ...presentGuarantee(guarantee, (await vouchersOfSubjects(tx, { guarantee: [guarantee.id] })).of('guarantee', guarantee.id)), voucherId };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/guarantee-applications', operationId: 'createGuaranteeApplication',
    summary: 'Apply for a guarantee through the service; refused at once where it cannot qualify', tags,
    access: { roles: ['centre', 'bidder'] }, body: s.applicationCreate, response: s.applicationOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => presentApplication(await applications.createApplication(transactionOf(tx), caller, body)),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantee-applications/:id', operationId: 'getGuaranteeApplication', summary: 'A guarantee application', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params: s.applicationIdParams, response: s.applicationOut,
    handler: async ({ tx, caller, params }) => presentApplication(await applications.getVisibleApplication(tx, caller, params.id)),
  }),
  defineRoute({
    method: 'get', path: '/v1/guarantee-applications', operationId: 'listGuaranteeApplications', summary: 'Guarantee applications', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, query: s.applicationListQuery, response: listEnvelope(s.applicationOut),
    handler: async ({ tx, caller, query }) => {
      const page = await applications.listApplications(tx, caller, query);
      return { ...page, data: page.data.map(presentApplication) };
    },
  }),
];
