// Webhook gauges for Prometheus, read from PostgreSQL at scrape time so every api process
// reports the same.
import client from 'prom-client';
import type { Knex } from 'knex';
import { webhookCounts, type WebhookCounts } from './repo';

const endpointStatuses = ['enabled', 'disabled', 'deleted'] as const;

export function registerEventMetrics(registry: client.Registry, db: Knex): void {
  if (registry.getSingleMetric('bidbond_webhook_endpoints')) return;
  const endpoints = new client.Gauge({ name: 'bidbond_webhook_endpoints', help: 'Webhook endpoints by status; disabled: failed for the whole retry window (72 h)', labelNames: ['status'], registers: [registry] });
  const pending = new client.Gauge({ name: 'bidbond_webhook_deliveries_pending', help: 'Event deliveries not yet acknowledged and still being retried', registers: [registry] });
  const failed = new client.Gauge({ name: 'bidbond_webhook_deliveries_failed', help: 'Event deliveries given up on (retry window over, or endpoint disabled or deleted)', registers: [registry] });
  const oldest = new client.Gauge({ name: 'bidbond_webhook_delivery_oldest_pending_seconds', help: 'Age of the oldest delivery still being retried', registers: [registry] });
  let inFlight: Promise<WebhookCounts> | undefined;
  const refresh = async () => {
    inFlight ??= webhookCounts(db).finally(() => setTimeout(() => (inFlight = undefined), 0));
    const c = await inFlight;
    for (const s of endpointStatuses) endpoints.set({ status: s }, c.endpoints[s] ?? 0);
    pending.set(c.pending);
    failed.set(c.failed);
    oldest.set(c.oldestPendingSeconds);
  };
  for (const g of [endpoints, pending, failed, oldest]) (g as unknown as { collect: () => Promise<void> }).collect = refresh;
}
