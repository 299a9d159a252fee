// Refunds over HTTP: reading them (with attempts and bank statuses) and operating the ones in
// manual handling or returned by the payee's bank.
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { listEnvelope } from '../http/schemas';
import { presentRefund } from './present';
import { refundListQuery, refundOut, refundParams, retryBody } from './schemas';
import * as service from './service';
import { vouchersOfSubjects } from '../vouchers/subjects';

const tags = ['refunds'];

export const refundRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/refunds', operationId: 'listRefunds', summary: 'Refunds, with overdue ones flagged', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, query: refundListQuery, response: listEnvelope(refundOut),
    handler: async ({ tx, caller, query }) => {
      const page = await service.listRefunds(tx, caller, query);
      const vouchers = await vouchersOfSubjects(tx, { refund: page.data.map((r) => r.id) });
      return { ...page, data: page.data.map((r) => presentRefund(r, { vouchers: vouchers.of('refund', r.id) })) };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/refunds/:id', operationId: 'getRefund', summary: 'A refund with its attempts and the bank statuses', tags,
    access: { roles: ['centre', 'bidder', 'auditor'] }, params: refundParams, response: refundOut,
    handler: async ({ tx, caller, params }) => {
      const { refund, ...history } = await service.getVisibleRefund(tx, caller, params.id);
      return presentRefund(refund, { ...history, vouchers: (await vouchersOfSubjects(tx, { refund: [refund.id] })).of('refund', refund.id) });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/refunds/:id/retry', operationId: 'retryRefund', summary: 'Send a refund in manual handling, or returned by the payee\'s bank, again, with a recorded decision (R17)', tags,
    access: { roles: ['centre'] }, params: refundParams, body: retryBody, response: refundOut,
    handler: async ({ tx, caller, params, body }) => {
      const { refund, ...history } = await service.retryRefund(transactionOf(tx), caller, params.id, body);
      return presentRefund(refund, { ...history, vouchers: (await vouchersOfSubjects(tx, { refund: [refund.id] })).of('refund', refund.id) });
    },
  }),
];
