import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpRequests: client.Counter<'method' | 'route' | 'status'>;
  httpDuration: client.Histogram<'method' | 'route'>;
  /** Every refused signed call, by its code (signature_missing, certificate_unknown, ...): the
   *  audit log keeps at most one event per sender address and minute (webhookAuth.ts), this
   *  counts them all. */
  webhookRejected: client.Counter<'reason'>;
  /** Entries of banks' notices left alone by the service, by reason (an account not ours). */
  notificationEntriesIgnored: client.Counter<'reason'>;
  /** Requests whose transaction PostgreSQL aborted for a deadlock or a serialization failure and
   *  that ran it again (db/retry.ts). */
  transactionsRetried: client.Counter<'route'>;
  /** Units of work committed in one transaction (db/groupCommit.ts), by work: how much a rush
   *  of bank notices or issuances is grouped. */
  groupCommitSize: client.Histogram<'work'>;
}

/** One registry per app, so tests that build several apps never collide on metric names. */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new client.Counter({ name: 'bidbond_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new client.Histogram({
      name: 'bidbond_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    webhookRejected: new client.Counter({
      name: 'bidbond_webhook_rejected_total',
      help: 'Signed webhook calls refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    notificationEntriesIgnored: new client.Counter({
      name: 'bidbond_notification_entries_ignored_total',
      help: 'Entries of bank notifications, and lines of statements not recovered, not booked, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    transactionsRetried: new client.Counter({
      name: 'bidbond_transactions_retried_total',
      help: 'Request transactions aborted by the database (deadlock, serialization failure) and run again',
      labelNames: ['route'],
      registers: [registry],
    }),
    groupCommitSize: new client.Histogram({
      name: 'bidbond_group_commit_size',
      help: 'Units of work (bank notifications, issuances) committed together in one transaction',
      labelNames: ['work'],
      buckets: [1, 2, 4, 8, 16],
      registers: [registry],
    }),
  };
}
