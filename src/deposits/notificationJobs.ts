// The deposits queue: a kept notification worked through in batches, each batch one transaction
// that acts on its entries and moves the notification's progress, so a worker that dies between
// batches resumes after the last one committed, and two workers on one notification take turns
// on its row instead of booking anything twice (the per-bank uniqueness of an entry guards too).
// Entries go in booking order (as kept when the notice came, notifications.ts), so a bidder's
// earlier credit is judged before its later top-up (R4), and each is judged by its booking time
// (R3), never by when the batch ran; a booking given as a date only is bounded by when the
// notice arrived.
import { UnrecoverableError, type Job } from 'bullmq';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { recordedJobs } from '../queue/outbox';
import { findBank } from '../registry/repo';
import type { Runtime } from '../runtime';
import { creditBatchEntriesMax } from './creditBatch';
import { actOnEntries, noCounts, readEntries } from './notifications';
import { enqueueNotificationJob, notificationJobName } from './notificationQueue';
import * as repo from './notificationsRepo';

/** Entries acted on per transaction: large enough that a 10,000-credit file takes a handful of
 *  commits, small enough that one batch holds its locks for well under a second. */
export const notificationBatchEntries = 1000;
/** A notification nobody has moved for this long is handed to the queue again by the sweep. */
export const notificationStaleSeconds = 120;
export const notificationSweepBatchMax = 100;

export interface ProcessOptions {
  batchEntries?: number;
  /** Stop after this many batches, as a worker stopped between two would. */
  batchesMax?: number;
}

/** Works a kept notification through to its end; returns where it stands. */
export async function processStoredNotification(rt: Runtime, bankId: string, messageId: string, opts: ProcessOptions = {}): Promise<{ status: 'processing' | 'done'; batches: number }> {
  const batchEntries = opts.batchEntries ?? notificationBatchEntries;
  assert(Number.isInteger(batchEntries) && batchEntries >= 1 && batchEntries <= creditBatchEntriesMax, `a batch of 1 to ${creditBatchEntriesMax} entries`);
  const stored = await repo.findStoredEntries(rt.db, bankId, messageId);
  if (!stored) throw new UnrecoverableError(`no notification ${messageId} of ${bankId} is kept`);
  if (stored.status === 'done') return { status: 'done', batches: 0 };
  const bank = await findBank(rt.db, bankId);
  assert(bank, `bank ${bankId} of a kept notification exists`);
  const entries = readEntries(stored.entries);
  assert(entries.length === stored.entries_total, `notification ${messageId} keeps its ${stored.entries_total} entries`);
  let batches = 0;
  for (;;) {
    if (opts.batchesMax !== undefined && batches >= opts.batchesMax) return { status: 'processing', batches };
    let jobs = false;
    let notOurAccount = 0;
    const status = await rt.db.transaction(async (tx) => {
      const row = await repo.lockStoredNotification(tx, bankId, messageId);
      assert(row, `notification ${messageId} of ${bankId} is kept`);
      if (row.status === 'done') return 'done' as const;
      const slice = entries.slice(row.next_entry, row.next_entry + batchEntries);
      const counts = noCounts();
      await actOnEntries(tx, rt.tables.calendar, bank, messageId, slice, row.received_at, counts);
      notOurAccount = counts.ignoredReasons.notOurAccount;
      const to = row.next_entry + slice.length;
      const done = to === row.entries_total;
      const moved = await repo.advanceStoredNotification(tx, { bankId, messageId }, { from: row.next_entry, to, counts, done });
      assert(moved === 1, `notification ${messageId} moved from entry ${row.next_entry} once`);
      if (done) {
        const total = await repo.lockStoredNotification(tx, bankId, messageId);
        await appendAudit(tx, {
          actor: { type: 'bank', id: bankId },
          action: 'bank.notification_processed',
          entityType: 'bank',
          entityId: bankId,
          data: { messageId, entries: total!.entries_total, accepted: total!.accepted, duplicates: total!.duplicates, ignored: total!.ignored, reversals: total!.reversals, exceptions: total!.exceptions },
        });
      }
      jobs = recordedJobs(tx);
      return done ? ('done' as const) : ('processing' as const);
    });
    if (jobs) rt.outbox.kick();
    // Counted as the route counts a notice answered at once, once the batch is committed.
    if (notOurAccount > 0) rt.metrics.notificationEntriesIgnored.inc({ reason: 'not_our_account' }, notOurAccount);
    batches += 1;
    if (status === 'done') return { status, batches };
  }
}

async function notificationJob(rt: Runtime, job: Job): Promise<unknown> {
  const bankId = String(job.data?.bankId ?? '');
  const messageId = String(job.data?.messageId ?? '');
  if (!bankId.startsWith('bnk_') || !messageId) throw new UnrecoverableError(`job ${job.name} without a bankId and messageId`);
  return processStoredNotification(rt, bankId, messageId);
}

/** Hands notifications nobody has moved for a while to the queue again. */
async function resumeStaleNotifications(rt: Runtime): Promise<number> {
  const stale = await repo.staleStoredNotifications(rt.db, notificationStaleSeconds, notificationSweepBatchMax);
  if (stale.length === 0) return 0;
  await rt.db.transaction(async (tx) => {
    for (const n of stale) await enqueueNotificationJob(tx, n.bank_id, n.message_id, String(Date.now()));
  });
  rt.outbox.kick();
  return stale.length;
}

export const depositJobHandlers: HandlerTable = { deposits: { [notificationJobName]: notificationJob } };
export const depositSweepers: Sweeper[] = [{ name: 'notificationsResumed', run: resumeStaleNotifications }];
