// BullMQ carries ids; PostgreSQL holds the state. A job may run twice (a lost lock, a replayed
// outbox row): every handler claims its row with a guarded state change, so the second run does
// nothing.
import { Queue, type JobsOptions } from 'bullmq';
import Redis, { type RedisOptions } from 'ioredis';

export const queueNames = ['housekeeping', 'refunds', 'bank-status', 'issuer-messages', 'statements', 'vouchers', 'expiry', 'deposits', 'events', 'webhooks'] as const;
export type QueueName = (typeof queueNames)[number];

/** Workers block on Redis and must never give up a command (BullMQ requires null here). */
export function workerConnection(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts });
}

/** Request paths fail fast while Redis is away instead of piling commands up in memory. */
export function requestConnection(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Retries with exponential backoff; BullMQ adds jitter when asked. Counts keep Redis bounded. */
export const defaultJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

export type Queues = Record<QueueName, Queue>;

export function createQueues(connection: Redis, prefix: string): Queues {
  return Object.fromEntries(queueNames.map((n) => [n, new Queue(n, { connection, prefix })])) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/** BullMQ job ids must not contain ':' and must not be bare integers. */
export function jobIdFor(...parts: string[]): string {
  const id = parts.join('.').replace(/:/g, '_');
  return /^\d+$/.test(id) ? `j${id}` : id;
}
