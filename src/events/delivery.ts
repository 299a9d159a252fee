// Delivery of events to the centre's endpoints, at least once: each (endpoint, event) has one
// delivery row; a sweep claims the due ones, POSTs the event signed with the service's key
// exactly as issuers and banks sign to us, and records every attempt. A 2xx ends it; anything
// else is retried with back-off for `webhookRetryWindowMs`. An endpoint that has failed for as
// long is disabled, which is itself an event. The receiver deduplicates on the event id.
import { randomInt } from 'node:crypto';
import { appendAudit } from '../audit/service';
import type { Config } from '../config';
import type { Runtime } from '../runtime';
import { DestinationRefused, postTo, resolveDestination, webhookTimeoutMs } from './client';
import { presentEvent } from './present';
import * as repo from './repo';
import { retryDelayMs, webhookAttemptsMax, webhookBackoffBaseMs, webhookRetryWindowMs } from './rules';

/** Deliveries claimed per sweep, and sent at once within it: a whole batch of receivers that
 *  time out takes deliveryBatchMax / deliveryConcurrency × webhookTimeoutMs (125 s), well
 *  inside deliveryStuckMs, so a slow batch is never taken for a dead worker's. */
export const deliveryBatchMax = 100;
export const deliveryConcurrency = 8;
/** A delivery still `sending` this long after its claim lost its worker. */
export const deliveryStuckMs = 5 * 60_000;
/** The job that sends what is due at once, asked for by the relay round that wrote the
 *  deliveries (jobs.ts). */
export const webhooksQueue = 'webhooks' as const;
export const deliverJobName = 'deliver';
/** Of an error or a receiver's answer, what is kept on the attempt. */
export const attemptErrorCharsMax = 500;

/** Private destinations are allowed where the service is tried out, never by default in
 *  production. */
export function allowPrivateDestinations(config: Pick<Config, 'BIDBOND_ENV' | 'BIDBOND_WEBHOOK_ALLOW_PRIVATE'>): boolean {
  const v = config.BIDBOND_WEBHOOK_ALLOW_PRIVATE;
  if (v === undefined) return config.BIDBOND_ENV !== 'production';
  return v === '1' || v === 'true';
}

/** The exact bytes sent for an event: the same for every attempt. */
export function eventBody(event: repo.EventRow): Buffer {
  return Buffer.from(JSON.stringify(presentEvent(event)), 'utf8');
}

export interface DeliveryOptions {
  timeoutMs?: number;
  backoffBaseMs?: number;
}

type DeliveryDeps = Pick<Runtime, 'db' | 'signer' | 'config' | 'log'>;

/** Sends every due delivery once; returns how many were attempted. */
export async function deliverDueWebhooks(rt: DeliveryDeps, opts: DeliveryOptions = {}): Promise<number> {
  await repo.releaseStuckDeliveries(rt.db, deliveryStuckMs);
  const claimed = await rt.db.transaction((tx) => repo.claimDueDeliveries(tx, deliveryBatchMax));
  if (claimed.length === 0) return 0;
  const events = new Map((await repo.eventsByIds(rt.db, [...new Set(claimed.map((d) => d.event_id))])).map((e) => [e.id, e]));
  let next = 0;
  const lane = async () => {
    while (next < claimed.length) {
      const d = claimed[next++];
      try {
        await attemptDelivery(rt, d, events.get(d.event_id)!, opts);
      } catch (e) {
        // The attempt's record could not be written; the claim runs stale and is retried.
        rt.log.error({ err: e, deliveryId: d.id }, 'webhook delivery attempt not recorded');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deliveryConcurrency, claimed.length) }, lane));
  return claimed.length;
}

async function attemptDelivery(rt: DeliveryDeps, d: repo.ClaimedDelivery, event: repo.EventRow, opts: DeliveryOptions): Promise<void> {
  const body = eventBody(event);
  const startedAt = new Date();
  let httpStatus: number | null = null;
  let error: string | null = null;
  try {
    const dest = await resolveDestination(d.url, { allowPrivate: allowPrivateDestinations(rt.config) });
    const res = await postTo(
      dest,
      body,
      { ...rt.signer.sign(body), 'Bidbond-Event-Id': event.id, 'Bidbond-Event-Type': event.type, 'Bidbond-Delivery-Id': d.id },
      opts.timeoutMs ?? webhookTimeoutMs,
    );
    httpStatus = res.status;
    if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}${res.bodyPrefix ? `: ${res.bodyPrefix}` : ''}`;
  } catch (e) {
    error = e instanceof DestinationRefused ? `refused: ${e.message}` : (e as Error).message || String(e);
  }
  const ok = error === null;
  await rt.db.transaction(async (tx) => {
    await repo.insertAttempt(tx, {
      delivery_id: d.id,
      attempt: d.attempts,
      started_at: startedAt,
      duration_ms: Date.now() - startedAt.getTime(),
      http_status: httpStatus,
      error: error?.slice(0, attemptErrorCharsMax) ?? null,
      redelivery: d.window_started_at.getTime() > d.created_at.getTime(),
    });
    await repo.noteEndpointOutcome(tx, d.endpoint_id, ok);
    if (ok) {
      await repo.finishDelivery(tx, d.id, { status: 'delivered' });
      return;
    }
    const message = error!.slice(0, attemptErrorCharsMax);
    const exhausted = d.attempts >= webhookAttemptsMax || (await repo.windowExpired(tx, d.id, webhookRetryWindowMs));
    await repo.finishDelivery(
      tx,
      d.id,
      exhausted ? { status: 'failed', error: message } : { status: 'pending', error: message, retryInMs: retryDelayMs(d.attempts, randomInt(1_000_000) / 1_000_000, opts.backoffBaseMs ?? webhookBackoffBaseMs) },
    );
    const reason = `every delivery failed for ${webhookRetryWindowMs / 3600_000} hours; last: ${message}`;
    if (await repo.disableIfFailingSince(tx, d.endpoint_id, webhookRetryWindowMs, reason)) {
      await appendAudit(tx, {
        actor: { type: 'system' },
        action: 'webhook_endpoint.disabled',
        entityType: 'webhook_endpoint',
        entityId: d.endpoint_id,
        data: { url: d.url, reason, lastDeliveryId: d.id },
      });
      rt.log.warn({ endpointId: d.endpoint_id }, 'webhook endpoint disabled after failing for the whole retry window');
    }
  });
}
