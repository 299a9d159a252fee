// Job handlers of the refunds and bank-status queues, and the minute sweep that re-enqueues
// what PostgreSQL says is due, so an emptied Redis or a killed worker loses nothing.
import { UnrecoverableError, type Job } from 'bullmq';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { defaultJobOptions, jobIdFor } from '../queue/queues';
import type { Runtime } from '../runtime';
import { bankStatusQueue, pollJobName, refundsQueue, submitJobName } from './enqueue';
import { pollAttempt, submitRefund } from './executor';
import { attemptIdsDueForPoll, scheduledRefundIds } from './repo';

/** Rows re-enqueued per kind and sweep; the next sweep takes the rest. */
export const refundSweepBatchMax = 500;

function idFrom(job: Job, key: string, prefix: string): string {
  const id = String(job.data?.[key] ?? '');
  if (!id.startsWith(`${prefix}_`)) throw new UnrecoverableError(`job ${job.name} without a ${prefix}_ ${key}`);
  return id;
}

export const refundJobHandlers: HandlerTable = {
  refunds: { [submitJobName]: (rt: Runtime, job: Job) => submitRefund(rt, idFrom(job, 'refundId', 'rfd')) },
  'bank-status': { [pollJobName]: (rt: Runtime, job: Job) => pollAttempt(rt, idFrom(job, 'attemptId', 'att')) },
};

/** One sweep: scheduled refunds and attempts whose poll is due go back on the queues. Job ids
 *  carry the minute, so a sweep does not pile duplicates onto jobs still waiting; a job that
 *  runs twice finds its row already claimed. */
export async function sweepRefunds(rt: Runtime, now = new Date()): Promise<number> {
  const minute = Math.floor(now.getTime() / 60_000).toString();
  const scheduled = await scheduledRefundIds(rt.db, refundSweepBatchMax);
  for (const id of scheduled) {
    await rt.queues[refundsQueue].add(submitJobName, { refundId: id }, { ...defaultJobOptions, jobId: jobIdFor('sweep-submit', id, minute) });
  }
  const polls = await attemptIdsDueForPoll(rt.db, now, refundSweepBatchMax);
  for (const id of polls) {
    await rt.queues[bankStatusQueue].add(pollJobName, { attemptId: id }, { ...defaultJobOptions, jobId: jobIdFor('sweep-poll', id, minute) });
  }
  return scheduled.length + polls.length;
}

export const refundSweepers: Sweeper[] = [{ name: 'refunds', run: (rt) => sweepRefunds(rt) }];
