// The daily statement pull. Each deposit bank has a BullMQ job scheduler firing at
// BIDBOND_STATEMENT_TIME (Asia/Shanghai) that fetches the statement of the day just ended and
// reconciles it. The minute sweep keeps the schedulers in place (a new bank, an emptied Redis)
// and enqueues any past day still without a reconciliation, so a lost Redis loses no day. A
// job run twice finds the same statement already reconciled and does nothing (service.ts).
import { UnrecoverableError, type Job } from 'bullmq';
import type { JobHandler, Sweeper } from '../queue/handlers';
import { jobIdFor } from '../queue/queues';
import { addCalendarDays, businessDate, endOfBusinessDay, isBusinessDate } from '../domain/time';
import { ApiError } from '../errors';
import type { Runtime } from '../runtime';
import { reconcileFromBank } from './service';

export const statementsQueue = 'statements' as const;
export const fetchStatementJobName = 'fetch';
/** Banks given a scheduler per sweep (a service has a handful; the bound keeps a sweep short). */
export const statementSchedulerBanksMax = 500;
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

export async function sweepStatements(rt: Runtime, now = new Date()): Promise<number> {
  const banks = (await rt.db('banks').orderBy('id').limit(statementSchedulerBanksMax).select('id', 'created_at')) as { id: string; created_at: Date }[];
  const pattern = statementCron(rt.config.BIDBOND_STATEMENT_TIME);
  const yesterday = addCalendarDays(businessDate(now), -1);
  const [hh, mm] = rt.config.BIDBOND_STATEMENT_TIME.split(':').map(Number);
  const dueToday = businessDate(now) === businessDate(new Date(now.getTime() - (hh * 60 + mm) * 60_000));
  let enqueued = 0;
  for (const b of banks) {
    await rt.queues[statementsQueue].upsertJobScheduler(statementSchedulerId(b.id), { pattern, tz: 'Asia/Shanghai' }, { name: fetchStatementJobName, data: { bankId: b.id }, opts: jobOptions });
    // Catch-up: once today's run is due, yesterday must have a reconciliation (only for banks
    // that existed then; a bank registered today has no statement for yesterday).
    if (!dueToday || b.created_at > endOfBusinessDay(yesterday)) continue;
    const done = await rt.db('reconciliations').where({ bank_id: b.id, statement_date: yesterday }).first('id');
    if (done) continue;
    await rt.queues[statementsQueue].add(fetchStatementJobName, { bankId: b.id, date: yesterday }, { ...jobOptions, jobId: jobIdFor('statement-catchup', b.id, yesterday) });
    enqueued += 1;
  }
  return enqueued;
}

export const reconciliationSweepers: Sweeper[] = [{ name: 'statements', run: (rt) => sweepStatements(rt) }];
