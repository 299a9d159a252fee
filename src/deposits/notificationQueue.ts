// The job that works through a kept notification: one per notification, carrying only its keys.
import { createHash } from 'node:crypto';
import type { Tx } from '../db/knex';
import { enqueueJob } from '../queue/outbox';

export const notificationJobName = 'notification';

/** BullMQ ids must not hold ':' and message ids may hold anything: the id names the message by
 *  a digest. `attempt` makes a fresh id for a re-enqueue by the sweep (a completed job's id is
 *  remembered by BullMQ, and adding it again would do nothing). */
export function notificationJobId(bankId: string, messageId: string, attempt?: string): string {
  const digest = createHash('sha256').update(messageId).digest('hex').slice(0, 32);
  return ['notification', bankId, digest, ...(attempt ? [attempt] : [])].join('.');
}

export async function enqueueNotificationJob(tx: Tx, bankId: string, messageId: string, attempt?: string): Promise<void> {
  await enqueueJob(tx, { queue: 'deposits', name: notificationJobName, jobId: notificationJobId(bankId, messageId, attempt), payload: { bankId, messageId } });
}
