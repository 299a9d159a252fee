import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../src/runtime';
import { statementCatchUpDaysMax, statementCron, statementDaysOwed, statementSchedulerId, sweepStatements } from '../../src/reconciliation/jobs';
import { jobIdFor } from '../../src/queue/queues';
import { addCalendarDays, businessDate, startOfBusinessDay } from '../../src/domain/time';
import { keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld } from '../api/deposits.support';

let rt: Runtime;
beforeAll(async () => {
  // A queue prefix of its own: the sweeps below run at future times and queue catch-ups for
  // every bank of the run's database, which no other test should see.
  rt = await startTestRuntime({ BIDBOND_STATEMENT_TIME: '06:30', BIDBOND_QUEUE_PREFIX: `bbsched${randomBytes(4).toString('hex')}` });
});
afterAll(async () => {
  await rt.queues.statements.obliterate({ force: true });
  await rt.close();
});

/** `hhmm` in Shanghai on the business day `days` after today. */
const shanghai = (days: number, hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return new Date(startOfBusinessDay(addCalendarDays(businessDate(new Date()), days)).getTime() + (h * 60 + m) * 60_000);
};

describe('statement schedule', () => {
  it('turns the configured Shanghai time into a daily cron pattern', () => {
    expect(statementCron('06:30')).toBe('30 6 * * *');
    expect(statementCron('23:05')).toBe('5 23 * * *');
    expect(() => statementCron('24:00')).toThrow();
  });

  it('owes a statement for every day since the bank was registered, to yesterday once the statement time has passed', () => {
    const registered = shanghai(0, '15:00');
    const today = businessDate(new Date());
    const day = (n: number) => addCalendarDays(today, n);
    expect(statementDaysOwed(shanghai(3, '07:00'), '06:30', registered)).toEqual([day(0), day(1), day(2)]);
    expect(statementDaysOwed(shanghai(3, '06:00'), '06:30', registered)).toEqual([day(0), day(1)]);
    expect(statementDaysOwed(shanghai(0, '23:00'), '06:30', registered)).toEqual([]);
    const longAgo = statementDaysOwed(shanghai(100, '07:00'), '06:30', registered);
    expect(longAgo).toHaveLength(statementCatchUpDaysMax);
    expect([longAgo[0], longAgo[longAgo.length - 1]]).toEqual([day(100 - statementCatchUpDaysMax), day(99)]);
  });

  it('keeps one job scheduler per deposit bank, at the configured time in Asia/Shanghai', async () => {
    const bank = await new DepositWorld(rt, testApp(rt), await keyFor(rt, 'centre')).bank();
    await sweepStatements(rt);
    await sweepStatements(rt);
    const schedulers = await rt.queues.statements.getJobSchedulers(0, -1);
    const mine = schedulers.filter((s) => s.key === statementSchedulerId(bank.id));
    expect(mine).toHaveLength(1);
    expect(mine[0].pattern).toBe('30 6 * * *');
    expect(mine[0].tz).toBe('Asia/Shanghai');
  });

  it('catches up every missed day, back to statementCatchUpDaysMax and never before the bank existed, once each', async () => {
    const bank = await new DepositWorld(rt, testApp(rt), await keyFor(rt, 'centre')).bank();
    const today = businessDate(new Date());
    const catchUp = (date: string) => rt.queues.statements.getJob(jobIdFor('statement-catchup', bank.id, date));
    // Five days later, after the statement time: the day of registration and the four after it.
    await sweepStatements(rt, shanghai(5, '12:00'));
    for (let n = 0; n < 5; n++) expect((await catchUp(addCalendarDays(today, n)))?.data).toEqual({ bankId: bank.id, date: addCalendarDays(today, n) });
    expect(await catchUp(addCalendarDays(today, -1))).toBeUndefined();
    expect(await catchUp(addCalendarDays(today, 5))).toBeUndefined();
    // A second sweep queues no day twice.
    const first = (await catchUp(today))!.timestamp;
    await sweepStatements(rt, shanghai(5, '12:00'));
    expect((await catchUp(today))!.timestamp).toBe(first);
    // Sixty days later only the last statementCatchUpDaysMax days are caught up.
    await sweepStatements(rt, shanghai(60, '12:00'));
    expect(await catchUp(addCalendarDays(today, 60 - statementCatchUpDaysMax - 1))).toBeUndefined();
    expect(await catchUp(addCalendarDays(today, 60 - statementCatchUpDaysMax))).toBeDefined();
    expect(await catchUp(addCalendarDays(today, 59))).toBeDefined();
  });
});
