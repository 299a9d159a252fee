// Notifications kept to be worked through in batches (bank_notifications), and what a message
// came to. Each function takes the unit of work first.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import type { NotificationCounts } from './notifications';

export interface StoredNotificationRow {
  bank_id: string;
  message_id: string;
  content_type: string;
  body: Buffer;
  /** The entries as read when it came, in the order they are acted on (notifications.ts). */
  entries: string;
  entries_total: number;
  /** Entries done, in booking order: the next batch starts here. */
  next_entry: number;
  status: 'processing' | 'done';
  accepted: number;
  duplicates: number;
  ignored: number;
  ignored_not_our_account: number;
  reversals: number;
  exceptions: number;
  received_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export type StoredNotificationSummary = Omit<StoredNotificationRow, 'body' | 'content_type' | 'entries'>;
const summaryColumns = ['bank_id', 'message_id', 'entries_total', 'next_entry', 'status', 'accepted', 'duplicates', 'ignored', 'ignored_not_our_account', 'reversals', 'exceptions', 'received_at', 'updated_at', 'completed_at'];

export async function insertStoredNotification(
  tx: Knex.Transaction,
  row: Pick<StoredNotificationRow, 'bank_id' | 'message_id' | 'content_type' | 'body' | 'entries' | 'entries_total' | 'ignored' | 'received_at'>,
): Promise<void> {
  await tx('bank_notifications').insert({ ...row, status: 'processing', updated_at: row.received_at });
}

/** The entries to act on and where they stand (not the raw body, kept as evidence). */
export const findStoredEntries = (tx: Tx, bankId: string, messageId: string) =>
  tx('bank_notifications').where({ bank_id: bankId, message_id: messageId }).first('entries', 'entries_total', 'status', 'received_at') as Promise<Pick<StoredNotificationRow, 'entries' | 'entries_total' | 'status' | 'received_at'> | undefined>;

export const findStoredSummary = (tx: Tx, bankId: string, messageId: string) =>
  tx('bank_notifications').where({ bank_id: bankId, message_id: messageId }).first(summaryColumns) as Promise<StoredNotificationSummary | undefined>;

/** The row, locked: one batch of a notification at a time, whichever worker runs it. */
export const lockStoredNotification = (tx: Knex.Transaction, bankId: string, messageId: string) =>
  tx('bank_notifications').where({ bank_id: bankId, message_id: messageId }).forUpdate().first(summaryColumns) as Promise<StoredNotificationSummary | undefined>;

/** A batch is done: its counts added, the progress moved from `from` (guarded: a second worker
 *  that read the same start acts on nothing), and the notification done when `done`. */
export async function advanceStoredNotification(
  tx: Knex.Transaction,
  key: { bankId: string; messageId: string },
  f: { from: number; to: number; counts: NotificationCounts; done: boolean },
): Promise<number> {
  const c = f.counts;
  return tx('bank_notifications')
    .where({ bank_id: key.bankId, message_id: key.messageId, next_entry: f.from, status: 'processing' })
    .update({
      next_entry: f.to,
      accepted: tx.raw('accepted + ?', [c.accepted]),
      duplicates: tx.raw('duplicates + ?', [c.duplicates]),
      ignored: tx.raw('ignored + ?', [c.ignored]),
      ignored_not_our_account: tx.raw('ignored_not_our_account + ?', [c.ignoredReasons.notOurAccount]),
      reversals: tx.raw('reversals + ?', [c.reversals]),
      exceptions: tx.raw('exceptions + ?', [c.exceptions]),
      status: f.done ? 'done' : 'processing',
      updated_at: tx.fn.now(),
      completed_at: f.done ? tx.fn.now() : null,
    });
}

/** Notifications still processing that nobody has moved for `staleSeconds`: their job was lost
 *  (Redis emptied) or keeps failing. */
export async function staleStoredNotifications(tx: Tx, staleSeconds: number, limit: number): Promise<{ bank_id: string; message_id: string }[]> {
  return tx('bank_notifications')
    .where({ status: 'processing' })
    .where('updated_at', '<', tx.raw(`now() - make_interval(secs => ?)`, [staleSeconds]))
    .orderBy('updated_at')
    .limit(limit)
    .select('bank_id', 'message_id');
}

/** The first answer given to a notification acted on at once (webhook replay record). */
export async function inlineAnswerOf(tx: Tx, bankId: string, messageId: string): Promise<{ response_status: number; response_body: unknown; created_at: Date } | undefined> {
  return tx('webhook_events').where({ sender_type: 'bank', sender_id: bankId, event_id: messageId }).first('response_status', 'response_body', 'created_at');
}

/** The deposits a message made (each credit row names the message that first brought it), a
 *  page in id order after `cursor`. */
export async function depositIdsOfMessage(tx: Tx, bankId: string, messageId: string, page: { limit: number; cursor?: string }): Promise<string[]> {
  const q = tx('deposits').join('credits', 'credits.id', 'deposits.credit_id').where({ 'credits.bank_id': bankId, 'credits.message_id': messageId });
  if (page.cursor !== undefined) q.where('deposits.id', '>', page.cursor);
  const rows = (await q.orderBy('deposits.id').limit(page.limit).select('deposits.id')) as { id: string }[];
  return rows.map((r) => r.id);
}
