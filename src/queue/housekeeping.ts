// The minute sweep. Redis may be emptied or a worker killed at any moment; the sweep looks in
// PostgreSQL for work that is due, stuck or orphaned and hands it to the queues again, so
// nothing is lost with Redis. The domains' sweepers are given to it by the composition root.
import { deleteExpiredIdempotencyKeys } from '../http/idempotency';
import type { Runtime } from '../runtime';
import type { HandlerTable, Sweeper } from './handlers';
import { outboxRetentionHours, relayOutboxOnce } from './outbox';

export const sweepIntervalMs = 60_000;
export const sweepSchedulerId = 'sweep-every-minute';

export async function sweepOnce(rt: Runtime, sweepers: readonly Sweeper[]): Promise<Record<string, number>> {
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

/** The housekeeping queue's one job: the sweep, over the sweepers it is given. */
export function housekeepingJobs(sweepers: readonly Sweeper[]): HandlerTable {
  return {
    housekeeping: {
      sweep: async (rt) => {
        const done = await sweepOnce(rt, sweepers);
        rt.log.debug({ done }, 'sweep finished');
        return done;
      },
    },
  };
}
