// HTTP for events out: the event feed, the centre's webhook endpoints and their deliveries, and
// the certificate every delivery is signed under.
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import * as s from './schemas';
import * as service from './service';

const tags = ['events'];

export const eventRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/events', operationId: 'listEvents', tags,
    summary: 'Events in the order they were recorded, scoped like their subjects; page with nextCursor to catch up without webhooks',
    access: { roles: ['centre', 'auditor', 'tenderee', 'bidder'] }, query: s.eventListQuery, response: s.eventList,
    handler: async ({ tx, caller, query }) => service.listEvents(tx, caller, query),
  }),
  defineRoute({
    method: 'post', path: '/v1/webhook-endpoints', operationId: 'createWebhookEndpoint', tags,
    summary: 'Register an endpoint that receives the listed event types, signed with the service key',
    access: { roles: ['centre'] }, body: s.endpointCreate, response: s.endpointOut, successStatus: 201,
    handler: async ({ tx, caller, body, deps }) => service.createEndpoint(transactionOf(tx), caller, deps.config, body),
  }),
  defineRoute({
    method: 'get', path: '/v1/webhook-endpoints', operationId: 'listWebhookEndpoints', tags, summary: 'The registered endpoints',
    access: { roles: ['centre'] }, query: s.endpointListQuery, response: s.endpointList,
    handler: async ({ tx, query }) => service.listEndpoints(tx, query),
  }),
  defineRoute({
    method: 'get', path: '/v1/webhook-endpoints/:id', operationId: 'getWebhookEndpoint', tags, summary: 'One endpoint, with whether it is failing or disabled',
    access: { roles: ['centre'] }, params: s.endpointIdParams, response: s.endpointOut,
    handler: async ({ tx, params }) => service.getEndpoint(tx, params.id),
  }),
  defineRoute({
    method: 'delete', path: '/v1/webhook-endpoints/:id', operationId: 'deleteWebhookEndpoint', tags, summary: 'Stop delivering to an endpoint; its deliveries stay on record',
    access: { roles: ['centre'] }, params: s.endpointIdParams, response: s.endpointOut,
    handler: async ({ tx, caller, params }) => service.deleteEndpoint(transactionOf(tx), caller, params.id),
  }),
  defineRoute({
    method: 'get', path: '/v1/webhook-endpoints/:id/deliveries', operationId: 'listWebhookDeliveries', tags, summary: 'Deliveries to an endpoint with every attempt',
    access: { roles: ['centre'] }, params: s.endpointIdParams, query: s.deliveryListQuery, response: s.deliveryList,
    handler: async ({ tx, params, query }) => service.listDeliveries(tx, params.id, query),
  }),
  defineRoute({
    method: 'post', path: '/v1/webhook-endpoints/:id/deliveries/:deliveryId/redeliver', operationId: 'redeliverWebhook', tags,
    summary: 'Send a delivery again now, with a new retry window', access: { roles: ['centre'] }, params: s.deliveryIdParams, response: s.deliveryOut, successStatus: 202,
    handler: async ({ tx, caller, params }) => service.redeliver(transactionOf(tx), caller, params.id, params.deliveryId),
  }),
  defineRoute({
    method: 'get', path: '/v1/certificate', operationId: 'getServiceCertificate', tags,
    summary: 'The certificate chain (PEM, leaf first) of the key that signs deliveries, vouchers and messages to issuers and banks',
    access: { public: true }, produces: ['application/x-pem-file'],
    handler: async ({ res, deps }) => {
      res.setHeader('Content-Type', 'application/x-pem-file');
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.send(service.certificateChainPem(deps.signer));
      return { sent: true };
    },
  }),
];
