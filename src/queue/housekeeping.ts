// The minute sweep. Redis may be emptied or a worker killed at any moment; the sweep looks in
// PostgreSQL for work that is due, stuck or orphaned and hands it to the queues again, so
// nothing is lost with Redis. Each domain adds its sweeper to `sweepers`.
import type { Job } from 'bullmq';
import { deleteExpiredIdempotencyKeys } from '../http/idempotency';
import type { Runtime } from '../runtime';
import type { JobHandler } from './jobs';
import { outboxRetentionHours, relayOutboxOnce } from './outbox';

export const sweepIntervalMs = 60_000;
export const sweepSchedulerId = 'sweep-every-minute';

export type Sweeper = (rt: Runtime) => Promise<number>;
const sweepers: { name: string; run: Sweeper }[] = [];

export function registerSweeper(name: string, run: Sweeper): void {
  if (!sweepers.some((s) => s.name === name)) sweepers.push({ name, run });
}

export async function sweepOnce(rt: Runtime): Promise<Record<string, number>> {
  const done: Record<string, number> = {};
  done.idempotencyKeysExpired = await deleteExpiredIdempotencyKeys(rt.db);
  done.outboxRelayed = await relayOutboxOnce(rt.db, rt.queues);
  done.outboxPruned = await rt.db('outbox')
    .whereNotNull('dispatched_at')
    .where('dispatched_at', '<', rt.db.raw(`now() - make_interval(hours => ?)`, [outboxRetentionHours]))
    .del();
  for (const s of sweepers) {
    try {
      done[s.name] = await s.run(rt);
    } catch (e) {
      rt.log.error({ err: e, sweeper: s.name }, 'sweeper failed; the next sweep retries');
    }
  }
  return done;
}

export async function scheduleSweep(rt: Runtime): Promise<void> {
  await rt.queues.housekeeping.upsertJobScheduler(
    sweepSchedulerId,
    { every: sweepIntervalMs },
    { name: 'sweep', data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
}

export const housekeepingHandlers: Partial<Record<'housekeeping', Record<string, JobHandler>>> = {
  housekeeping: {
    sweep: async (rt: Runtime, _job: Job) => {
      const done = await sweepOnce(rt);
      rt.log.debug({ done }, 'sweep finished');
      return done;
    },
  },
};
