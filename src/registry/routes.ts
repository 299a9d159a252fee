// HTTP for the registry: parties, certificates and sections. Parsing, access and presentation
// here; the use cases are in service.ts.
import { z } from 'zod';
import { parseAmount } from '../domain/money';
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { idParam, listEnvelope, listQuery } from '../http/schemas';
import { presentBank, presentBidder, presentCertificate, presentIssuer, presentSection, presentTenderee } from './present';
import * as s from './schemas';
import * as service from './service';

const tags = ['registry'];
const idOf = (prefix: string) => z.strictObject({ id: idParam(prefix) });

export const registryRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/tenderees', operationId: 'createTenderee', summary: 'Register a tenderee (招标人)', tags,
    access: { roles: ['centre'] }, body: s.tendereeCreate, response: s.tendereeOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => presentTenderee(await service.createTenderee(transactionOf(tx), caller, body)),
  }),
  defineRoute({
    method: 'get', path: '/v1/tenderees/:id', operationId: 'getTenderee', summary: 'A tenderee', tags,
    access: { roles: ['centre', 'tenderee', 'auditor'] }, params: idOf('tnd'), response: s.tendereeOut,
    handler: async ({ tx, caller, params }) => presentTenderee(await service.getVisibleTenderee(tx, caller, params.id)),
  }),
  defineRoute({
    method: 'post', path: '/v1/bidders', operationId: 'createBidder', summary: 'Register a bidder (投标人) with its basic account', tags,
    access: { roles: ['centre'] }, body: s.bidderCreate, response: s.bidderOut, successStatus: 201,
    handler: async ({ tx, caller, body }) => presentBidder(await service.createBidder(transactionOf(tx), caller, body)),
  }),
  defineRoute({
    method: 'get', path: '/v1/bidders/:id', operationId: 'getBidder', summary: 'A bidder', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params: idOf('bdr'), response: s.bidderOut,
    handler: async ({ tx, caller, params }) => presentBidder(await service.getVisibleBidder(tx, caller, params.id)),
  }),
  defineRoute({
    method: 'post', path: '/v1/issuers', operationId: 'createIssuer', summary: 'Register a guarantee issuer with its signing certificate', tags,
    access: { roles: ['centre'] }, body: s.issuerCreate, response: s.issuerOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) => {
      const unit = transactionOf(tx);
      const created = await service.createIssuer(unit, caller, body, deps.trustRoots);
      const { issuer, certificates } = await service.getIssuer(unit, created.id);
      return presentIssuer(issuer, certificates);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/issuers/:id', operationId: 'getIssuer', summary: 'An issuer and its certificates', tags,
    access: { roles: ['centre', 'bidder', 'tenderee', 'auditor'] }, params: idOf('iss'), response: s.issuerOut,
    handler: async ({ tx, params }) => {
      const { issuer, certificates } = await service.getIssuer(tx, params.id);
      return presentIssuer(issuer, certificates);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/issuers', operationId: 'listIssuers', summary: 'Issuers', tags,
    access: { roles: ['centre', 'bidder', 'tenderee', 'auditor'] }, query: listQuery, response: listEnvelope(s.issuerOut),
    handler: async ({ tx, query }) => {
      const page = await service.listIssuers(tx, query);
      return { ...page, data: page.data.map((i) => presentIssuer(i.issuer, i.certificates)) };
    },
  }),
  ...(['issuer', 'bank'] as const).flatMap((ownerType) => {
    const prefix = ownerType === 'issuer' ? 'iss' : 'bnk';
    const plural = `${ownerType}s`;
    return [
      defineRoute({
        method: 'post', path: `/v1/${plural}/:id/certificates`, operationId: `add${ownerType === 'issuer' ? 'Issuer' : 'Bank'}Certificate`,
        summary: `Add a signing certificate to a ${ownerType} (rotation: several may be valid at once)`, tags,
        access: { roles: ['centre'] }, params: idOf(prefix), body: s.certificateAdd, response: s.certificateOut, successStatus: 201,
        handler: async ({ tx, caller, params, body, deps }) =>
          presentCertificate(await service.addOwnerCertificate(transactionOf(tx), caller, { type: ownerType, id: params.id }, body.certificatePem, deps.trustRoots)),
      }),
      defineRoute({
        method: 'delete', path: `/v1/${plural}/:id/certificates/:fingerprint`, operationId: `retire${ownerType === 'issuer' ? 'Issuer' : 'Bank'}Certificate`,
        summary: `Retire a ${ownerType}'s signing certificate`, tags,
        access: { roles: ['centre'] }, params: z.strictObject({ id: idParam(prefix), fingerprint: s.fingerprintParam }),
        handler: async ({ tx, caller, params }) => {
          await service.retireCertificate(transactionOf(tx), caller, { type: ownerType, id: params.id }, params.fingerprint);
          return { status: 204, body: null, sent: false };
        },
      }),
    ];
  }),
  defineRoute({
    method: 'post', path: '/v1/banks', operationId: 'createBank', summary: 'Register a deposit bank', tags,
    access: { roles: ['centre'] }, body: s.bankCreate, response: s.bankOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) => {
      const unit = transactionOf(tx);
      const created = await service.createBank(unit, caller, body, deps.trustRoots);
      const { bank, certificates } = await service.getBank(unit, created.id);
      return presentBank(bank, certificates);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/banks/:id', operationId: 'getBank', summary: 'A deposit bank', tags,
    access: { roles: ['centre', 'auditor'] }, params: idOf('bnk'), response: s.bankOut,
    handler: async ({ tx, params }) => {
      const { bank, certificates } = await service.getBank(tx, params.id);
      return presentBank(bank, certificates);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/banks', operationId: 'listBanks', summary: 'Deposit banks', tags,
    access: { roles: ['centre', 'auditor'] }, query: listQuery, response: listEnvelope(s.bankOut),
    handler: async ({ tx, query }) => {
      const page = await service.listBanks(tx, query);
      return { ...page, data: page.data.map((b) => presentBank(b.bank, b.certificates)) };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections', operationId: 'createSection', summary: 'Create a section (标段) open for bids', tags,
    access: { roles: ['centre'] }, body: s.sectionCreate, response: s.sectionOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) =>
      presentSection(
        await service.createSection(transactionOf(tx), caller, body, {
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
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.sectionListQuery, response: listEnvelope(s.sectionOut),
    handler: async ({ tx, caller, query }) => {
      const page = await service.listVisibleSections(tx, caller, query);
      return { ...page, data: page.data.map(presentSection) };
    },
  }),
];
