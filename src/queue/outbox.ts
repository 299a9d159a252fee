// Jobs are recorded in the same transaction as the state change that calls for them (an outbox
// row) and handed to BullMQ after commit. A crash between commit and hand-off loses nothing: the
// relay picks pending rows up on its next pass, and the minute sweep repeats it.
import type { JobsOptions } from 'bullmq';
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { defaultJobOptions, jobIdFor, type QueueName, type Queues } from './queues';

export const outboxRelayBatchSize = 200;
export const outboxRelayIntervalMs = 1000;
/** Dispatched rows are kept a while for inspection, then removed by housekeeping. */
export const outboxRetentionHours = 24;

export interface JobRequest {
  queue: QueueName;
  name: string;
  /** The job id: a retry of the same logical work must reuse it, so BullMQ de-duplicates. */
  jobId: string;
  payload: Record<string, string | number | boolean | null>;
  delayMs?: number;
}

const transactionsWithJobs = new WeakSet<object>();

/** Whether `tx` recorded jobs: only then is the relay worth waking after its commit. */
export function recordedJobs(tx: object): boolean {
  return transactionsWithJobs.has(tx);
}

/** For a statement that writes its outbox rows itself (in the same statement as the rows that
 *  call for them): the relay is woken after `tx` commits, as for enqueueJob. */
export function notesJobs(tx: Tx): void {
  transactionsWithJobs.add(tx);
}

export async function enqueueJob(tx: Tx, job: JobRequest): Promise<void> {
  transactionsWithJobs.add(tx);
  await tx('outbox').insert({
    queue: job.queue,
    job_name: job.name,
    job_id: jobIdFor(job.jobId),
    payload: JSON.stringify({ ...job.payload, ...(job.delayMs ? { __delayMs: job.delayMs } : {}) }),
  });
}

export async function relayOutboxOnce(db: Knex, queues: Queues, opts: Partial<JobsOptions> = {}): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx('outbox')
      .whereNull('dispatched_at')
      .orderBy('seq')
      .limit(outboxRelayBatchSize)
      .forUpdate()
      .skipLocked();
    // One bulk add per queue: BullMQ sends a bulk in one pipeline, where one add per row waited
    // for Redis each time (a batch of 1,000 credits asks for a receipt voucher each).
    const byQueue = new Map<QueueName, { name: string; data: Record<string, unknown>; opts: JobsOptions }[]>();
    for (const r of rows) {
      const { __delayMs, ...data } = r.payload as Record<string, unknown>;
      const queue = r.queue as QueueName;
      let jobs = byQueue.get(queue);
      if (!jobs) byQueue.set(queue, (jobs = []));
      jobs.push({ name: r.job_name, data, opts: { ...defaultJobOptions, ...opts, jobId: r.job_id, delay: typeof __delayMs === 'number' ? __delayMs : undefined } });
    }
    for (const [queue, jobs] of byQueue) await queues[queue].addBulk(jobs);
    if (rows.length) {
      await tx('outbox').whereIn('seq', rows.map((r) => r.seq.toString())).update({ dispatched_at: tx.fn.now() });
    }
    return rows.length;
  });
}

export interface Outbox {
  /** Ask the relay to run soon (after a commit that enqueued jobs). */
  kick(): void;
  stop(): Promise<void>;
}

export function startOutboxRelay(db: Knex, queues: Queues, onError: (e: unknown) => void): Outbox {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (stopped || running) return;
    running = (async () => {
      try {
        while ((await relayOutboxOnce(db, queues)) === outboxRelayBatchSize && !stopped);
      } catch (e) {
        onError(e);
      } finally {
        running = undefined;
      }
    })();
  };
  const loop = () => {
    run();
    if (!stopped) timer = setTimeout(loop, outboxRelayIntervalMs);
  };
  timer = setTimeout(loop, 0);
  return {
    kick: () => setImmediate(run),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
