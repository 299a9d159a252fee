import { z } from 'zod';
import { NotFound } from '../errors';
import { parseAmount } from '../domain/money';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam, listEnvelope, listQuery } from '../http/schemas';
import { paginate } from '../http/pagination';
import * as repo from './repo';
import { presentBank, presentBidder, presentCertificate, presentIssuer, presentSection, presentTenderee } from './present';
import * as s from './schemas';
import * as service from './service';

const tags = ['registry'];
const idOf = (prefix: string) => z.strictObject({ id: idParam(prefix) });

export const registryRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/tenderees', operationId: 'createTenderee', summary: 'Register a tenderee (招标人)', tags,
    access: { roles: ['centre'] }, body: s.tendereeCreate, response: s.tendereeOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => presentTenderee(await service.createTenderee(tx as never, caller, body)),
  }),
  defineRoute({
    method: 'get', path: '/v1/tenderees/:id', operationId: 'getTenderee', summary: 'A tenderee', tags,
    access: { roles: ['centre', 'tenderee', 'auditor'] }, params: idOf('tnd'), response: s.tendereeOut,
    handler: async ({ tx, caller, params }) => {
      const t = await repo.findTenderee(tx, params.id);
      if (!t || (caller.role === 'tenderee' && caller.tendereeId !== t.id)) throw new NotFound('tenderee', params.id);
      return presentTenderee(t);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/bidders', operationId: 'createBidder', summary: 'Register a bidder (投标人) with its basic account', tags,
    access: { roles: ['centre'] }, body: s.bidderCreate, response: s.bidderOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => presentBidder(await service.createBidder(tx as never, caller, body)),
  }),
  defineRoute({
    method: 'get', path: '/v1/bidders/:id', operationId: 'getBidder', summary: 'A bidder', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params: idOf('bdr'), response: s.bidderOut,
    handler: async ({ tx, caller, params }) => {
      const b = await repo.findBidder(tx, params.id);
      if (!b || (caller.role === 'bidder' && caller.bidderId !== b.id)) throw new NotFound('bidder', params.id);
      return presentBidder(b);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers', operationId: 'createIssuer', summary: 'Register a guarantee issuer with its signing certificate', tags,
    access: { roles: ['centre'] }, body: s.issuerCreate, response: s.issuerOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) => {
      const i = await service.createIssuer(tx as never, caller, body, deps.trustRoots);
      return presentIssuer(i, await repo.certificatesOf(tx, 'issuer', i.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/issuers/:id', operationId: 'getIssuer', summary: 'An issuer and its certificates', tags,
    access: { roles: ['centre', 'bidder', 'tenderee', 'auditor'] }, params: idOf('iss'), response: s.issuerOut,
    handler: async ({ tx, params }) => {
      const i = await repo.findIssuer(tx, params.id);
      if (!i) throw new NotFound('issuer', params.id);
      return presentIssuer(i, await repo.certificatesOf(tx, 'issuer', i.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/issuers', operationId: 'listIssuers', summary: 'Issuers', tags,
    access: { roles: ['centre', 'bidder', 'tenderee', 'auditor'] }, query: listQuery, response: listEnvelope(s.issuerOut),
    handler: async ({ tx, query }) =>
      paginate(tx('issuers'), query, async (i: repo.IssuerRow) => presentIssuer(i, await repo.certificatesOf(tx, 'issuer', i.id))),
  }),
  ...(['issuer', 'bank'] as const).flatMap((ownerType) => {
    const prefix = ownerType === 'issuer' ? 'iss' : 'bnk';
    const plural = `${ownerType}s`;
    return [
      defineRoute({
        method: 'post', path: `/v1/${plural}/:id/certificates`, operationId: `add${ownerType === 'issuer' ? 'Issuer' : 'Bank'}Certificate`,
        summary: `Add a signing certificate to a ${ownerType} (rotation: several may be valid at once)`, tags,
        access: { roles: ['centre'] }, params: idOf(prefix), body: s.certificateAdd, response: s.certificateOut, successStatus: 201,
        handler: async ({ tx, caller, params, body, deps }) => {
          const owner = ownerType === 'issuer' ? await repo.findIssuer(tx, params.id) : await repo.findBank(tx, params.id);
          if (!owner) throw new NotFound(ownerType, params.id);
          const info = await service.addCertificate(tx as never, caller, { type: ownerType, id: params.id }, body.certificatePem, deps.trustRoots);
          const row = (await repo.certificatesOf(tx, ownerType, params.id)).find((c) => c.fingerprint === info.fingerprint)!;
          return presentCertificate(row);
        },
      }),
      defineRoute({
        method: 'delete', path: `/v1/${plural}/:id/certificates/:fingerprint`, operationId: `retire${ownerType === 'issuer' ? 'Issuer' : 'Bank'}Certificate`,
        summary: `Retire a ${ownerType}'s signing certificate`, tags,
        access: { roles: ['centre'] }, params: z.strictObject({ id: idParam(prefix), fingerprint: s.fingerprintParam }),
        handler: async ({ tx, caller, params }) => {
          await service.retireCertificate(tx as never, caller, { type: ownerType, id: params.id }, params.fingerprint);
          return { status: 204, body: null, sent: false };
        },
      }),
    ];
  }),
  defineRoute({
    method: 'post', path: '/v1/banks', operationId: 'createBank', summary: 'Register a deposit bank', tags,
    access: { roles: ['centre'] }, body: s.bankCreate, response: s.bankOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) => {
      const b = await service.createBank(tx as never, caller, body, deps.trustRoots);
      return presentBank(b, await repo.certificatesOf(tx, 'bank', b.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/banks/:id', operationId: 'getBank', summary: 'A deposit bank', tags,
    access: { roles: ['centre', 'auditor'] }, params: idOf('bnk'), response: s.bankOut,
    handler: async ({ tx, params }) => {
      const b = await repo.findBank(tx, params.id);
      if (!b) throw new NotFound('bank', params.id);
      return presentBank(b, await repo.certificatesOf(tx, 'bank', b.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/banks', operationId: 'listBanks', summary: 'Deposit banks', tags,
    access: { roles: ['centre', 'auditor'] }, query: listQuery, response: listEnvelope(s.bankOut),
    handler: async ({ tx, query }) =>
      paginate(tx('banks'), query, async (b: repo.BankRow) => presentBank(b, await repo.certificatesOf(tx, 'bank', b.id))),
  }),
  defineRoute({
    method: 'post', path: '/v1/sections', operationId: 'createSection', summary: 'Create a section (标段) open for bids', tags,
    access: { roles: ['centre'] }, body: s.sectionCreate, response: s.sectionOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) =>
      presentSection(
        await service.createSection(tx as never, caller, body, {
          depositCapFen: deps.config.BIDBOND_DEPOSIT_CAP ? parseAmount(deps.config.BIDBOND_DEPOSIT_CAP) : undefined,
        }),
      ),
  }),
  defineRoute({
    method: 'get', path: '/v1/sections/:id', operationId: 'getSection', summary: 'A section', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, params: idOf('sec'), response: s.sectionOut,
    handler: async ({ tx, caller, params }) => presentSection(await service.getVisibleSection(tx, caller, params.id)),
  }),
  defineRoute({
    method: 'get', path: '/v1/sections', operationId: 'listSections', summary: 'Sections', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] },
    query: listQuery.extend({ status: z.enum(['open', 'opened', 'awarded', 'contracted', 'closed', 'terminated']).optional(), tendereeId: idParam('tnd').optional() }),
    response: listEnvelope(s.sectionOut),
    handler: async ({ tx, caller, query }) => {
      const q = tx('sections');
      if (query.status) q.where('status', query.status);
      if (query.tendereeId) q.where('tenderee_id', query.tendereeId);
      if (caller.role === 'tenderee') q.where('tenderee_id', caller.tendereeId!);
      return paginate(q, query, (r: repo.SectionRow) => presentSection(r));
    },
  }),
];
