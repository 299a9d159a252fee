// HTTP for bidders' credit grades: the centre records a finding; the centre, auditors and the
// bidder itself read them.
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { actorOf } from '../registry/service';
import { presentBidderCredit } from './present';
import * as s from './schemas';
import * as service from './service';

const tags = ['registry'];

export const creditRoutes: RouteDef<any, any, any>[] = [
  // Recording a finding states the bidder's credit as found, so it is a PUT: the same finding
  // sent again records nothing.
  defineRoute({
    method: 'put',
    path: '/v1/bidders/:id/credit',
    operationId: 'recordBidderCredit',
    summary: "Record a bidder's credit grade (信用等级) with its source and validity; earlier findings are kept",
    tags,
    access: { roles: ['centre'] },
    params: s.bidderParams,
    body: s.creditPut,
    bodyMode: { kind: 'json' },
    response: s.bidderCreditOut,
    handler: async ({ tx, caller, params, body }) => {
      const unit = transactionOf(tx);
      await service.recordGrade(unit, actorOf(caller), params.id, body);
      return presentBidderCredit(await service.getCredit(unit, caller, params.id));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/bidders/:id/credit',
    operationId: 'getBidderCredit',
    summary: "A bidder's credit grade today and every finding recorded",
    tags,
    access: { roles: ['centre', 'bidder', 'auditor'] },
    params: s.bidderParams,
    response: s.bidderCreditOut,
    handler: async ({ tx, caller, params }) => presentBidderCredit(await service.getCredit(tx, caller, params.id)),
  }),
];
