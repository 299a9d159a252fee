// The deposits queue: a kept notification worked through in batches, each batch one transaction
// that acts on its entries and moves the notification's progress, so a worker that dies between
// batches resumes after the last one committed, and two workers on one notification take turns
// on its row instead of booking anything twice (the per-bank uniqueness of an entry guards too).
// Entries go in booking order (as kept when the notice came, notifications.ts), so a bidder's
// earlier credit is judged before its later top-up (R4), and each is judged by its booking time
// (R3), never by when the batch ran; a booking given as a date only is bounded by when the
// notice arrived.
//
// A batch of plain credits starts while the one before it is still open, once that one has
// claimed its credits and locked their sub-accounts: the next batch's JavaScript then runs while
// PostgreSQL writes and commits the previous one, where one after the other the process waited
// for the database about half the time. Order still holds: a credit to a sub-account the earlier
// batch holds waits for its commit (the lock) and is judged after it, as two notices arriving
// together are; each batch moves the progress only once the one before it committed, and if that
// one failed, rolls back with it. Any other batch (returns, interest, reversals, which find
// records by reference rather than by lock) starts after the one before it committed.
import { UnrecoverableError, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import { isLockTimeout, isRetryableAbort, retriedAfterAbort } from '../db/retry';
import { ensureAccount, suspenseAccountSpec, trustAccountSpec } from '../ledger';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { recordedJobs } from '../queue/outbox';
import { findBank, type BankRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import { creditBatchEntriesMax } from './creditBatch';
import { actOnEntries, creditKindOf, noCounts, readEntries, type NotifiedEntry } from './notifications';
import { enqueueNotificationJob, notificationJobName } from './notificationQueue';
import * as repo from './notificationsRepo';

/** Entries acted on per transaction: large enough that a 10,000-credit file takes a handful of
 *  commits, small enough that one batch holds its locks for well under a second. */
export const notificationBatchEntries = 1000;
/** A notification nobody has moved for this long is handed to the queue again by the sweep. */
export const notificationStaleSeconds = 120;
export const notificationSweepBatchMax = 100;
/** How long a batch started beside another waits for any one lock before it gives up, and the
 *  notification goes on one batch at a time from what committed. Far above a batch's own time.
 *  A later batch waits for the earlier one's commit in this process, where PostgreSQL cannot see
 *  it; should the earlier one ever wait for the later one (directly, or through another
 *  transaction waiting for it), no deadlock would be detected, and this bound ends the wait. */
export const overlappedBatchLockWaitMs = 30_000;
/** Batches of one notification open at once, each a connection of the pool. */
export const overlappedBatchesOpenMax = 2;

export interface ProcessOptions {
  batchEntries?: number;
  /** Stop after this many batches, as a worker stopped between two would. */
  batchesMax?: number;
}

type Status = 'processing' | 'done';

/** A kept notification, as one worker reads it once. */
interface Work {
  rt: Runtime;
  bank: BankRow;
  messageId: string;
  entries: NotifiedEntry[];
  batchEntries: number;
  receivedAt: Date;
}

/** The batch was not the one to move the progress: another worker moved it first, or the batch
 *  before it did not commit. Nothing of it was kept. */
class ProgressMoved extends Error {}

/** Works a kept notification through to its end; returns where it stands. */
export async function processStoredNotification(rt: Runtime, bankId: string, messageId: string, opts: ProcessOptions = {}): Promise<{ status: Status; batches: number }> {
  const batchEntries = opts.batchEntries ?? notificationBatchEntries;
  assert(Number.isInteger(batchEntries) && batchEntries >= 1 && batchEntries <= creditBatchEntriesMax, `a batch of 1 to ${creditBatchEntriesMax} entries`);
  const stored = await repo.findStoredEntries(rt.db, bankId, messageId);
  if (!stored) throw new UnrecoverableError(`no notification ${messageId} of ${bankId} is kept`);
  if (stored.status === 'done') return { status: 'done', batches: 0 };
  const bank = await findBank(rt.db, bankId);
  assert(bank, `bank ${bankId} of a kept notification exists`);
  const entries = readEntries(stored.entries);
  assert(entries.length === stored.entries_total, `notification ${messageId} keeps its ${stored.entries_total} entries`);
  const work: Work = { rt, bank, messageId, entries, batchEntries, receivedAt: stored.received_at };
  // Overlapping batches may only ever wait for the one before them. An entry repeated in the
  // file would be claimed by both, and a ledger account both create would be inserted by both;
  // the first case is left to one batch at a time, the second made not to arise.
  let overlap = entries.length > batchEntries && new Set(entries.map((e) => e.entry.entryRef)).size === entries.length;
  if (overlap) {
    await ensureAccount(rt.db, trustAccountSpec(bank.id));
    await ensureAccount(rt.db, suspenseAccountSpec(bank.id));
  }
  let batches = 0;
  for (;;) {
    const left = opts.batchesMax === undefined ? Infinity : opts.batchesMax - batches;
    if (left <= 0) return { status: 'processing', batches };
    if (overlap) {
      const run = await overlappedBatches(work, left);
      batches += run.batches;
      if (run.status === 'done') return { status: 'done', batches };
      if (run.gaveUp === undefined) continue;
      rt.log.warn({ bankId, messageId, err: run.gaveUp }, 'notification batches overlapped gave way; going on one at a time');
      overlap = false;
      continue;
    }
    // A worker's batch can deadlock with another worker's overlapped batches on the same
    // notification (each waits for the other's credits or row); the one PostgreSQL aborts did
    // nothing, and runs again from the progress then committed.
    const status = await retriedAfterAbort(() => runBatch(work, { from: null, after: null }));
    batches += 1;
    if (status === 'done') return { status, batches };
  }
}

/** Batches started one after another, each once the one before it locked what it books (plain
 *  credits) or committed (anything else), at most two open at once, until the end, `batchesMax`,
 *  or a failure: every batch after a failed one rolls back with it. `gaveUp` is a failure the
 *  notification recovers from by going on one batch at a time. */
async function overlappedBatches(work: Work, batchesMax: number): Promise<{ status: Status; batches: number; gaveUp?: unknown }> {
  const summary = await repo.findStoredSummary(work.rt.db, work.bank.id, work.messageId);
  assert(summary, `notification ${work.messageId} of ${work.bank.id} is kept`);
  if (summary.status === 'done') return { status: 'done', batches: 0 };
  const started: { claimed: Promise<void>; settled: Promise<{ ok: true; status: Status } | { ok: false; err: unknown }> }[] = [];
  let failed = false;
  for (let from = summary.next_entry; from < work.entries.length && started.length < batchesMax; from += work.batchEntries) {
    const prev = started.at(-1);
    const oldest = started.at(-overlappedBatchesOpenMax);
    if (prev) await (plainCredits(work, from) ? prev.claimed : prev.settled);
    if (oldest) await oldest.settled;
    if (failed) break;
    let claimed!: () => void;
    const claimedP = new Promise<void>((resolve) => (claimed = resolve));
    const after = prev ? prev.settled.then((o) => o.ok) : null;
    const settled = runBatch(work, { from, after }, claimed).then(
      (status) => ({ ok: true as const, status }),
      (err: unknown) => {
        failed = true;
        return { ok: false as const, err };
      },
    );
    void settled.then(() => claimed());
    started.push({ claimed: claimedP, settled });
  }
  assert(started.length > 0, `notification ${work.messageId} still processing has entries left at ${summary.next_entry}`);
  const outcomes = await Promise.all(started.map((s) => s.settled));
  // Batches commit in order, so those that did are the first ones.
  const committed = outcomes.filter((o) => o.ok);
  const status = committed.at(-1)?.status ?? 'processing';
  const firstFailure = outcomes.find((o) => !o.ok);
  if (!firstFailure || firstFailure.ok) return { status, batches: committed.length };
  const { err } = firstFailure;
  if (err instanceof ProgressMoved || isRetryableAbort(err) || isLockTimeout(err)) return { status, batches: committed.length, gaveUp: err };
  throw err;
}

/** A batch of the notification's own deposits and money not ours only, which finds nothing
 *  another batch writes except through the sub-accounts' locks. */
function plainCredits(work: Work, from: number): boolean {
  return work.entries.slice(from, from + work.batchEntries).every((e) => e.kind === 'credit' && ['deposit', 'not_ours'].includes(creditKindOf(work.bank, e.entry)));
}

/** One batch in one transaction: from the progress it locks (`from` null), or from `from`
 *  after the batch before it (`after`: whether that one committed) when it started beside it. */
async function runBatch(work: Work, plan: { from: number | null; after: Promise<boolean> | null }, onClaimed?: () => void): Promise<Status> {
  const { rt, bank, messageId } = work;
  let jobs = false;
  let notOurAccount = 0;
  const status = await rt.db.transaction(async (tx) => {
    if (plan.from !== null) await tx.raw(`SELECT set_config('lock_timeout', ?, true)`, [`${overlappedBatchLockWaitMs}ms`]);
    let from = plan.from;
    if (plan.after === null) {
      const row = await repo.lockStoredNotification(tx, bank.id, messageId);
      assert(row, `notification ${messageId} of ${bank.id} is kept`);
      if (row.status === 'done') return 'done' as const;
      if (from !== null && row.next_entry !== from) throw new ProgressMoved(`notification ${messageId} moved to entry ${row.next_entry}`);
      from = row.next_entry;
    }
    assert(from !== null, 'a batch started beside another knows where it starts');
    const slice = work.entries.slice(from, from + work.batchEntries);
    const counts = noCounts();
    await actOnEntries(tx, rt.tables.calendar, bank, messageId, slice, work.receivedAt, counts, onClaimed);
    if (plan.after !== null && !(await plan.after)) throw new ProgressMoved(`the batch before entry ${from} of ${messageId} did not commit`);
    notOurAccount = counts.ignoredReasons.notOurAccount;
    const to = from + slice.length;
    const done = to === work.entries.length;
    const moved = await repo.advanceStoredNotification(tx, { bankId: bank.id, messageId }, { from, to, counts, done });
    if (moved !== 1) {
      assert(plan.from !== null, `notification ${messageId} moved from entry ${from} once`);
      throw new ProgressMoved(`notification ${messageId} moved from entry ${from} by another worker`);
    }
    if (done) await auditProcessed(tx, bank.id, messageId);
    jobs = recordedJobs(tx);
    return done ? ('done' as const) : ('processing' as const);
  });
  if (jobs) rt.outbox.kick();
  // Counted as the route counts a notice answered at once, once the batch is committed.
  if (notOurAccount > 0) rt.metrics.notificationEntriesIgnored.inc({ reason: 'not_our_account' }, notOurAccount);
  return status;
}

async function auditProcessed(tx: Knex.Transaction, bankId: string, messageId: string): Promise<void> {
  const total = await repo.lockStoredNotification(tx, bankId, messageId);
  assert(total, `notification ${messageId} of ${bankId} is kept`);
  await appendAudit(tx, {
    actor: { type: 'bank', id: bankId },
    action: 'bank.notification_processed',
    entityType: 'bank',
    entityId: bankId,
    data: { messageId, entries: total.entries_total, accepted: total.accepted, duplicates: total.duplicates, ignored: total.ignored, reversals: total.reversals, exceptions: total.exceptions },
  });
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
