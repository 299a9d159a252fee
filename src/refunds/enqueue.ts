// The refund jobs: each carries only an id; the handler claims the row. Job ids name the
// logical step (the refund's attempt number, the attempt's poll number) so that BullMQ keeps
// a repeat of the same step to one job, while the next step always gets a new one.
import type { Knex } from 'knex';
import { enqueueJob } from '../queue/outbox';

export const refundsQueue = 'refunds' as const;
export const submitJobName = 'submit';
export const bankStatusQueue = 'bank-status' as const;
export const pollJobName = 'poll';

export async function enqueueRefundSubmit(tx: Knex.Transaction, refundId: string, attemptNo: number, delayMs?: number): Promise<void> {
  await enqueueJob(tx, { queue: refundsQueue, name: submitJobName, jobId: `submit.${refundId}.${attemptNo}`, payload: { refundId }, delayMs });
}

export async function enqueueAttemptPoll(tx: Knex.Transaction, attemptId: string, pollNo: number, delayMs?: number): Promise<void> {
  await enqueueJob(tx, { queue: bankStatusQueue, name: pollJobName, jobId: `poll.${attemptId}.${pollNo}`, payload: { attemptId }, delayMs });
}
