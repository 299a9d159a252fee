// The daily statement pull. Each deposit bank has a BullMQ job scheduler firing at
// BIDBOND_STATEMENT_TIME (Asia/Shanghai) that fetches the statement of the day just ended and
// reconciles it. The minute sweep keeps the schedulers in place (a new bank, an emptied Redis)
// and enqueues every past day still without a reconciliation, as far back as
// `statementCatchUpDaysMax` and no earlier than the bank's registration, so a lost Redis or a
// worker down over a long holiday loses no day. A job run twice finds the same statement already
// reconciled and does nothing (service.ts).
import { UnrecoverableError, type Job } from 'bullmq';
import type { JobHandler, Sweeper } from '../queue/handlers';
import { jobIdFor } from '../queue/queues';
import { addCalendarDays, businessDate, compareDates, isBusinessDate } from '../domain/time';
import { ApiError } from '../errors';
import type { Runtime } from '../runtime';
import { banksForStatements, reconciledDates } from './repo';
import { reconcileFromBank } from './service';

export const statementsQueue = 'statements' as const;
export const fetchStatementJobName = 'fetch';
/** Banks given a scheduler per sweep (a service has a handful; the bound keeps a sweep short). */
export const statementSchedulerBanksMax = 500;
/** Days back the sweep catches up on its own: a month covers any outage over the longest public
 *  holidays; older days are a person's to fetch (`bidbond reconcile`, or an upload). */
export const statementCatchUpDaysMax = 31;
export const statementJobAttempts = 6;
export const statementJobBackoffMs = 60_000;
const jobOptions = {
  attempts: statementJobAttempts,
  backoff: { type: 'exponential' as const, delay: statementJobBackoffMs, jitter: 0.5 },
  removeOnComplete: { count: 500 },
  removeOnFail: { count: 1000 },
};

export const statementSchedulerId = (bankId: string) => jobIdFor('statement', bankId);

/** "06:00" → the cron pattern "0 6 * * *". */
export function statementCron(hhmm: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`assertion: statement time ${JSON.stringify(hhmm)} is not HH:MM`);
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}

export async function fetchAndReconcile(rt: Runtime, job: Job) {
  const bankId = String(job.data?.bankId ?? '');
  if (!bankId.startsWith('bnk_')) throw new UnrecoverableError(`job ${job.name} without a bnk_ bankId`);
  // A scheduled run carries no date: it reconciles the Shanghai day that has just ended.
  const date = job.data?.date === undefined ? addCalendarDays(businessDate(new Date()), -1) : String(job.data.date);
  if (!isBusinessDate(date)) throw new UnrecoverableError(`job ${job.name}: bad date ${JSON.stringify(date)}`);
  try {
    const out = await reconcileFromBank(rt, bankId, date, { source: 'schedule', actor: { type: 'system' } });
    rt.outbox.kick();
    return out;
  } catch (e) {
    // A refusal on the merits (unknown bank, wrong account, unreadable statement) will not get
    // better by retrying; an unreachable bank (503) will.
    if (e instanceof ApiError && e.status !== 503) throw new UnrecoverableError(`${e.code}: ${e.message}`);
    throw e;
  }
}

export const reconciliationJobHandlers: Partial<Record<typeof statementsQueue, Record<string, JobHandler>>> = {
  statements: { [fetchStatementJobName]: fetchAndReconcile },
};

/** The days a bank's statements are owed for, oldest first: from `statementCatchUpDaysMax` days
 *  back, or the day the bank was registered if later (its trust account had no statement with
 *  us before), to the last day whose scheduled run is due (yesterday once today's statement time
 *  has passed, the day before until then). */
export function statementDaysOwed(now: Date, statementTime: string, bankCreatedAt: Date): string[] {
  const [hh, mm] = statementTime.split(':').map(Number);
  const today = businessDate(now);
  const dueToday = today === businessDate(new Date(now.getTime() - (hh * 60 + mm) * 60_000));
  const latest = addCalendarDays(today, dueToday ? -1 : -2);
  const registered = businessDate(bankCreatedAt);
  const bound = addCalendarDays(today, -statementCatchUpDaysMax);
  const days: string[] = [];
  for (let d = compareDates(registered, bound) > 0 ? registered : bound; compareDates(d, latest) <= 0; d = addCalendarDays(d, 1)) days.push(d);
  return days;
}

export async function sweepStatements(rt: Runtime, now = new Date()): Promise<number> {
  const banks = await banksForStatements(rt.db, statementSchedulerBanksMax);
  const pattern = statementCron(rt.config.BIDBOND_STATEMENT_TIME);
  let enqueued = 0;
  for (const b of banks) {
    await rt.queues[statementsQueue].upsertJobScheduler(statementSchedulerId(b.id), { pattern, tz: 'Asia/Shanghai' }, { name: fetchStatementJobName, data: { bankId: b.id }, opts: jobOptions });
    const owed = statementDaysOwed(now, rt.config.BIDBOND_STATEMENT_TIME, b.created_at);
    if (owed.length === 0) continue;
    const done = await reconciledDates(rt.db, b.id, owed[0]);
    for (const date of owed) {
      if (done.has(date)) continue;
      // The job id names the bank and day: a day already queued, running or kept after it ran
      // (removeOnComplete, removeOnFail) is not queued again by the next sweep.
      await rt.queues[statementsQueue].add(fetchStatementJobName, { bankId: b.id, date }, { ...jobOptions, jobId: jobIdFor('statement-catchup', b.id, date) });
      enqueued += 1;
    }
  }
  return enqueued;
}

export const reconciliationSweepers: Sweeper[] = [{ name: 'statements', run: (rt) => sweepStatements(rt) }];
