// The section lifecycle over HTTP: opening, award, contract, termination, and the roster. The
// moves that owe refunds take the R19 calendar of the runtime at the time of the request.
import { z } from 'zod';
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { idParam } from '../http/schemas';
import { presentLifecycle, presentRoster } from './present';
import * as s from './schemas';
import { postponeSection } from './postponement';
import * as service from './service';
import { vouchersOfSubjects } from '../vouchers/subjects';

const tags = ['sections'];
const params = z.strictObject({ id: idParam('sec') });

export const sectionLifecycleRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/sections/:id/postponement', operationId: 'postponeSection',
    summary: 'Postpone the bid deadline (延期开标) before it passes; guarantees that no longer cover R2 are sent extension requests', tags,
    access: { roles: ['centre'] }, params, body: s.postponementBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body }) => {
      const r = await postponeSection(transactionOf(tx), caller, params.id, body);
      return presentLifecycle(r.section, { extensionRequestedGuaranteeIds: r.extensionRequests.map((e) => e.guaranteeId) });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/opening', operationId: 'openSection', summary: 'Open the bids (开标): fix the roster of secured bidders and put it on record', tags,
    access: { roles: ['centre'] }, params, response: s.rosterOut, successStatus: 201,
    handler: async ({ tx, caller, params, deps }) => {
      const { roster } = await service.openSection(transactionOf(tx), deps.tables.calendar, caller, params.id);
      return presentRoster(roster, (await vouchersOfSubjects(tx, { roster: [roster.id] })).of('roster', roster.id));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/sections/:id/roster', operationId: 'getRoster', summary: 'The roster fixed at opening', tags,
    access: { roles: ['centre', 'tenderee', 'auditor'] }, params, response: s.rosterOut,
    handler: async ({ tx, caller, params }) => {
      const roster = await service.getVisibleRoster(tx, caller, params.id);
      return presentRoster(roster, (await vouchersOfSubjects(tx, { roster: [roster.id] })).of('roster', roster.id));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/award', operationId: 'awardSection', summary: 'Record the award (中标通知); under government procurement, non-winners are refunded now (R11)', tags,
    access: { roles: ['centre'] }, params, body: s.awardBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body, deps }) => {
      const r = await service.awardSection(transactionOf(tx), deps.tables.calendar, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/contract', operationId: 'recordContract', summary: 'Record the signed contract: schedule the remaining refunds (R11), release guarantees', tags,
    access: { roles: ['centre'] }, params, body: s.contractBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body, deps }) => {
      const r = await service.recordContract(transactionOf(tx), deps.tables.calendar, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds, releasedGuaranteeIds: r.releasedGuaranteeIds });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/termination', operationId: 'terminateSection', summary: 'Terminate the tender: every deposit refunded at once with interest (R16)', tags,
    access: { roles: ['centre'] }, params, body: s.terminationBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body, deps }) => {
      const r = await service.terminateSection(transactionOf(tx), deps.tables.calendar, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds, releasedGuaranteeIds: r.releasedGuaranteeIds });
    },
  }),
];
