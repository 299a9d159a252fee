// Job handlers of the refunds and bank-status queues, and the minute sweep that re-enqueues
// what PostgreSQL says is due, so an emptied Redis or a killed worker loses nothing.
import { UnrecoverableError, type Job } from 'bullmq';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { defaultJobOptions, jobIdFor } from '../queue/queues';
import type { Runtime } from '../runtime';
import { bankStatusQueue, pollJobName, refundsQueue, submitJobName } from './enqueue';
import { pollAttempt, pollMessage, submitDue, submitRefund } from './executor';
import { messageIdsDueForPoll } from './messagesRepo';
import { banksWithDueRefunds } from './repo';

/** Rows re-enqueued per kind and sweep; the next sweep takes the rest. */
export const refundSweepBatchMax = 500;

function idFrom(job: Job, key: string, prefix: string): string {
  const id = String(job.data?.[key] ?? '');
  if (!id.startsWith(`${prefix}_`)) throw new UnrecoverableError(`job ${job.name} without a ${prefix}_ ${key}`);
  return id;
}

/** What a job did, counted by outcome (a message's outcomes one by one would bloat Redis). */
function tally(outcomes: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes.values()) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

async function submit(rt: Runtime, job: Job): Promise<unknown> {
  if (job.data?.bankId !== undefined) return tally(await submitDue(rt, idFrom(job, 'bankId', 'bnk')));
  return submitRefund(rt, idFrom(job, 'refundId', 'rfd'));
}

async function poll(rt: Runtime, job: Job): Promise<unknown> {
  // Jobs enqueued before messages carried many refunds name an attempt.
  if (job.data?.attemptId !== undefined) return pollAttempt(rt, idFrom(job, 'attemptId', 'att'));
  const messageId = String(job.data?.messageId ?? '');
  if (!messageId) throw new UnrecoverableError(`job ${job.name} without a messageId`);
  return tally(await pollMessage(rt, messageId));
}

export const refundJobHandlers: HandlerTable = {
  refunds: { [submitJobName]: submit },
  'bank-status': { [pollJobName]: poll },
};

/** One sweep: a submit job per bank with refunds due, and a poll per message whose poll is due.
 *  Job ids carry the minute, so a sweep does not pile duplicates onto jobs still waiting; a job
 *  that runs twice finds its rows already claimed. */
export async function sweepRefunds(rt: Runtime, now = new Date()): Promise<number> {
  const minute = Math.floor(now.getTime() / 60_000).toString();
  const banks = await banksWithDueRefunds(rt.db, refundSweepBatchMax);
  for (const bankId of banks) {
    await rt.queues[refundsQueue].add(submitJobName, { bankId }, { ...defaultJobOptions, jobId: jobIdFor('sweep-submit', bankId, minute) });
  }
  const polls = await messageIdsDueForPoll(rt.db, now, refundSweepBatchMax);
  for (const id of polls) {
    await rt.queues[bankStatusQueue].add(pollJobName, { messageId: id }, { ...defaultJobOptions, jobId: jobIdFor('sweep-poll', id, minute) });
  }
  return banks.length + polls.length;
}

export const refundSweepers: Sweeper[] = [{ name: 'refunds', run: (rt) => sweepRefunds(rt) }];
