// The refund jobs: each carries only an id; the handler claims the rows. Job ids name the
// logical step (the refund's attempt number, the message's poll number) so that BullMQ keeps
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

const banksSubmittedIn = new WeakMap<object, Set<string>>();

/** The first refund a transaction schedules at a bank gets a submit job; the others of the same
 *  transaction go in the message that job claims (it takes every refund due at the bank), so a
 *  contract that owes thousands of refunds hands the queue one job, not thousands. */
export async function enqueueFirstRefundSubmit(tx: Knex.Transaction, bankId: string, refundId: string): Promise<void> {
  const banks = banksSubmittedIn.get(tx) ?? new Set<string>();
  banksSubmittedIn.set(tx, banks);
  if (banks.has(bankId)) return;
  banks.add(bankId);
  await enqueueRefundSubmit(tx, refundId, 1);
}

/** A submit job for whatever is due at a bank, named by the message that found more waiting. */
export async function enqueueBankSubmit(tx: Knex.Transaction, bankId: string, afterMessageId: string): Promise<void> {
  await enqueueJob(tx, { queue: refundsQueue, name: submitJobName, jobId: `submit.${bankId}.${afterMessageId}`, payload: { bankId } });
}

export async function enqueueMessagePoll(tx: Knex.Transaction, messageId: string, pollNo: number, delayMs?: number): Promise<void> {
  await enqueueJob(tx, { queue: bankStatusQueue, name: pollJobName, jobId: `poll.${messageId}.${pollNo}`, payload: { messageId }, delayMs });
}
