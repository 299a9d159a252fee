// The section lifecycle over HTTP: opening, award, contract, termination, and the roster.
import { z } from 'zod';
import { NotFound } from '../errors';
import { formatAmount } from '../domain/money';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam } from '../http/schemas';
import { presentSection } from '../registry/present';
import * as s from './schemas';
import * as service from './service';

const tags = ['sections'];
const params = z.strictObject({ id: idParam('sec') });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentLifecycle(r: service.LifecycleSection, extra: { refundIds?: string[]; releasedGuaranteeIds?: string[] } = {}) {
  return {
    ...presentSection(r),
    winnerBidderId: r.winner_bidder_id,
    openedAt: iso(r.opened_at),
    awardNoticeAt: iso(r.award_notice_at),
    contractSignedAt: iso(r.contract_signed_at),
    terminatedAt: iso(r.terminated_at),
    ...extra,
  };
}

export function presentRoster(r: service.RosterRow) {
  return {
    id: r.id,
    object: 'roster' as const,
    sectionId: r.section_id,
    openedAt: r.opened_at.toISOString(),
    requiredDeposit: formatAmount(r.required_deposit_fen),
    currency: 'CNY' as const,
    voucherId: r.voucher_id,
    entries: r.entries.map((e) => ({
      bidderId: e.bidderId,
      name: e.name,
      uscc: e.uscc,
      security: e.security,
      status: e.status,
      rules: e.rules,
      amount: e.amountFen === null ? null : formatAmount(BigInt(e.amountFen)),
      depositIds: e.depositIds,
      guaranteeId: e.guaranteeId,
    })),
  };
}

export const sectionLifecycleRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/sections/:id/opening', operationId: 'openSection', summary: 'Open the bids (开标): fix the roster of secured bidders and put it on record', tags,
    access: { roles: ['centre'] }, params, response: s.rosterOut, successStatus: 201,
    handler: async ({ tx, caller, params }) => presentRoster((await service.openSection(tx as never, caller, params.id)).roster),
  }),
  defineRoute({
    method: 'get', path: '/v1/sections/:id/roster', operationId: 'getRoster', summary: 'The roster fixed at opening', tags,
    access: { roles: ['centre', 'tenderee', 'auditor'] }, params, response: s.rosterOut,
    handler: async ({ tx, caller, params }) => {
      const section = await service.findLifecycleSection(tx, params.id);
      // R18: a tenderee learns nothing about who secured its section before the opening, and
      // nothing at all about other tenderees' sections.
      if (!section || (caller.role === 'tenderee' && section.tenderee_id !== caller.tendereeId)) throw new NotFound('section', params.id);
      const roster = await service.findRoster(tx, params.id);
      if (!roster) throw new NotFound('roster');
      return presentRoster(roster);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/award', operationId: 'awardSection', summary: 'Record the award (中标通知); under government procurement, non-winners are refunded now (R11)', tags,
    access: { roles: ['centre'] }, params, body: s.awardBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body }) => {
      const r = await service.awardSection(tx as never, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/contract', operationId: 'recordContract', summary: 'Record the signed contract: schedule the remaining refunds (R11), release guarantees', tags,
    access: { roles: ['centre'] }, params, body: s.contractBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body }) => {
      const r = await service.recordContract(tx as never, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds, releasedGuaranteeIds: r.releasedGuaranteeIds });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/termination', operationId: 'terminateSection', summary: 'Terminate the tender: every deposit refunded at once with interest (R16)', tags,
    access: { roles: ['centre'] }, params, body: s.terminationBody, response: s.lifecycleOut,
    handler: async ({ tx, caller, params, body }) => {
      const r = await service.terminateSection(tx as never, caller, params.id, body);
      return presentLifecycle(r.section, { refundIds: r.refundIds, releasedGuaranteeIds: r.releasedGuaranteeIds });
    },
  }),
];
