// Use cases of events out: reading events as a caller may see them, the centre's endpoints,
// their deliveries and redelivery, and the certificate receivers check signatures with.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import type { Config } from '../config';
import type { Tx } from '../db/knex';
import { BadRequest, Conflict, NotFound } from '../errors';
import type { Caller } from '../http/auth';
import type { Page } from '../http/pagination';
import type { Signer } from '../vouchers/signer';
import { DestinationRefused, resolveDestination } from './client';
import { allowPrivateDestinations } from './delivery';
import { webhookIds } from './ids';
import { presentDelivery, presentEndpoint, presentEvent } from './present';
import * as repo from './repo';
import type { EndpointCreate, EventListQuery } from './schemas';

/** Endpoints the centre may have at once: each one multiplies every event's deliveries. */
export const webhookEndpointsMax = 20;

function actorOf(caller: Caller): Actor {
  return { type: caller.role === 'none' ? 'anonymous' : caller.role, id: caller.keyId };
}

export function scopeOf(caller: Caller): repo.EventScope {
  switch (caller.role) {
    case 'centre':
    case 'auditor':
      return { kind: 'all' };
    case 'bidder':
      return caller.bidderId ? { kind: 'bidder', bidderId: caller.bidderId } : { kind: 'none' };
    case 'tenderee':
      return caller.tendereeId ? { kind: 'tenderee', tendereeId: caller.tendereeId } : { kind: 'none' };
    default:
      return { kind: 'none' };
  }
}

export async function listEvents(tx: Tx, caller: Caller, query: EventListQuery): Promise<Page<ReturnType<typeof presentEvent>>> {
  const rows = await repo.listEvents(tx, scopeOf(caller), {
    afterSeq: query.cursor === undefined ? undefined : BigInt(query.cursor),
    limit: query.limit + 1,
    types: query.type,
  });
  const page = rows.slice(0, query.limit);
  const hasMore = rows.length > query.limit;
  return { object: 'list', data: page.map(presentEvent), hasMore, nextCursor: hasMore ? page[page.length - 1].seq.toString() : null };
}

export async function createEndpoint(tx: Knex.Transaction, caller: Caller, config: Config, input: EndpointCreate) {
  // Checked when registered, so a mistake is told at once, and again on every delivery, since
  // what a name resolves to can change.
  try {
    await resolveDestination(input.url, { allowPrivate: allowPrivateDestinations(config) });
  } catch (e) {
    if (e instanceof DestinationRefused) throw new BadRequest('url_refused', `url: ${e.message}`, 'url');
    throw e;
  }
  if ((await repo.countLiveEndpoints(tx)) >= webhookEndpointsMax) {
    throw new Conflict('too_many_endpoints', `at most ${webhookEndpointsMax} webhook endpoints; delete one first`);
  }
  const row = await repo.insertEndpoint(tx, { id: webhookIds.endpoint(), url: input.url, event_types: input.events, description: input.description ?? null, created_by: caller.keyId });
  await appendAudit(tx, { actor: actorOf(caller), action: 'webhook_endpoint.created', entityType: 'webhook_endpoint', entityId: row.id, data: { url: row.url, events: row.event_types } });
  return presentEndpoint(row);
}

export async function listEndpoints(tx: Tx, query: { cursor?: string; limit: number }) {
  const rows = await repo.listEndpoints(tx, { afterId: query.cursor, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const hasMore = rows.length > query.limit;
  return { object: 'list' as const, data: page.map(presentEndpoint), hasMore, nextCursor: hasMore ? page[page.length - 1].id : null };
}

export async function getEndpoint(tx: Tx, id: string) {
  const row = await repo.findEndpoint(tx, id);
  if (!row) throw new NotFound('webhook endpoint', id);
  return presentEndpoint(row);
}

export async function deleteEndpoint(tx: Knex.Transaction, caller: Caller, id: string) {
  const row = await repo.findEndpoint(tx, id, { forUpdate: true });
  if (!row) throw new NotFound('webhook endpoint', id);
  await repo.markEndpointDeleted(tx, id);
  await appendAudit(tx, { actor: actorOf(caller), action: 'webhook_endpoint.deleted', entityType: 'webhook_endpoint', entityId: id, data: { url: row.url } });
  return { ...presentEndpoint(row), status: 'deleted' as const };
}

export async function listDeliveries(tx: Tx, endpointId: string, query: { cursor?: string; limit: number; status?: string }) {
  if (!(await repo.findEndpoint(tx, endpointId))) throw new NotFound('webhook endpoint', endpointId);
  const rows = await repo.listDeliveries(tx, endpointId, { afterId: query.cursor, limit: query.limit + 1, status: query.status });
  const page = rows.slice(0, query.limit);
  const hasMore = rows.length > query.limit;
  return { object: 'list' as const, data: await presentDeliveries(tx, page), hasMore, nextCursor: hasMore ? page[page.length - 1].id : null };
}

async function presentDeliveries(tx: Tx, rows: repo.DeliveryRow[]) {
  const events = new Map((await repo.eventsByIds(tx, [...new Set(rows.map((d) => d.event_id))])).map((e) => [e.id, e]));
  const attempts = await repo.attemptsOf(tx, rows.map((d) => d.id));
  return rows.map((d) => presentDelivery(d, events.get(d.event_id), attempts.filter((a) => a.delivery_id === d.id)));
}

/** Sends a delivery again, whatever its state, with a new retry window; its attempts so far
 *  stay on record. */
export async function redeliver(tx: Knex.Transaction, caller: Caller, endpointId: string, deliveryId: string) {
  const endpoint = await repo.findEndpoint(tx, endpointId, { forUpdate: true });
  if (!endpoint) throw new NotFound('webhook endpoint', endpointId);
  const d = await repo.findDelivery(tx, endpointId, deliveryId, { forUpdate: true });
  if (!d) throw new NotFound('webhook delivery', deliveryId);
  if (endpoint.status !== 'enabled') throw new Conflict('endpoint_disabled', `webhook endpoint ${endpointId} is ${endpoint.status}; a disabled endpoint is registered again to receive events`);
  if (d.status === 'sending') throw new Conflict('delivery_in_progress', `delivery ${deliveryId} is being sent right now`);
  await repo.requeueDelivery(tx, deliveryId);
  await appendAudit(tx, { actor: actorOf(caller), action: 'webhook_delivery.redelivered', entityType: 'webhook_endpoint', entityId: endpointId, data: { deliveryId, eventId: d.event_id, from: d.status } });
  const [again] = await presentDeliveries(tx, [(await repo.findDelivery(tx, endpointId, deliveryId))!]);
  return again;
}

/** The service's signing certificate and the rest of its chain, PEM, leaf first. */
export function certificateChainPem(signer: Pick<Signer, 'certPem' | 'chainPems'>): string {
  return [signer.certPem, ...signer.chainPems].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}
