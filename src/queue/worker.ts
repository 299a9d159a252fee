// The worker process: one BullMQ Worker per queue with handlers, closed gracefully on SIGTERM
// within our own time limit.
import { UnrecoverableError, Worker } from 'bullmq';
import type { Runtime } from '../runtime';
import type { HandlerTable } from './handlers';
import { scheduleSweep } from './housekeeping';
import { workerConnection, type QueueName } from './queues';

export const workerConcurrency = 4;
export const workerShutdownTimeoutMs = 20_000;

export interface RunningWorkers {
  close(): Promise<void>;
  workers: Worker[];
}

export async function startWorkers(rt: Runtime, redisUrl: string, handlers: HandlerTable): Promise<RunningWorkers> {
  const workers: Worker[] = [];
  for (const [queue, table] of Object.entries(handlers) as [QueueName, HandlerTable[QueueName]][]) {
    const connection = workerConnection(redisUrl);
    connection.on('error', (e) => rt.log.warn({ err: e.message, queue }, 'redis (worker) error'));
    const w = new Worker(
      queue,
      async (job) => {
        const h = table?.[job.name];
        if (!h) throw new UnrecoverableError(`no handler for ${queue}/${job.name}`);
        return h(rt, job);
      },
      { connection, prefix: rt.config.BIDBOND_QUEUE_PREFIX, concurrency: workerConcurrency, autorun: true },
    );
    w.on('failed', (job, err) => rt.log.warn({ queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
    w.on('error', (err) => rt.log.warn({ queue, err: err.message }, 'worker error'));
    workers.push(w);
  }
  await scheduleSweep(rt);
  return {
    workers,
    close: async () => {
      const timeout = new Promise<void>((r) => setTimeout(r, workerShutdownTimeoutMs).unref());
      await Promise.race([Promise.all(workers.map((w) => w.close())), timeout]);
      // Connections made per worker are closed with it; force whatever is left.
      await Promise.all(workers.map((w) => w.disconnect().catch(() => {})));
    },
  };
}
