// R19: the service knows how far ahead its working-day calendar holds the official schedule, says
// so where an operator looks, and takes the next year from `bidbond calendar load` or the API.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { createCalendar, defaultCalendarTable } from '../../src/domain/calendar';
import { businessDate } from '../../src/domain/time';
import type { Runtime } from '../../src/runtime';
import { defaultBusinessTables } from '../../src/tables';
import { waitFor } from '../support/wait';
import { DepositWorld, entry, jsonNotification } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir } from '../support/runtime';

const bin = path.resolve(__dirname, '../../bin/bidbond.js');
// A schedule shaped like the State Council's, for the test only: New Year on Friday 1 January
// 2027 with the weekend after it, and one make-up Saturday.
const table2027 = { years: [2027], holidays: ['2027-01-01', '2027-01-02', '2027-01-03'], makeupWorkdays: ['2027-02-06'] };

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let centre: string;

function bidbond(args: string[]) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, DATABASE_URL: isolated.url, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent' })) if (v !== undefined) env[k] = v;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(async () => {
  isolated = await createIsolatedDatabase('calendar');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
}, 60_000);

afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

describe('R19 calendar coverage', () => {
  it('GET /v1/calendar says how many days ahead the schedule is known', async () => {
    const r = await request(app).get('/v1/calendar').set(bearer(centre));
    expect(r.status).toBe(200);
    const today = businessDate(new Date());
    expect(r.body.today).toBe(today);
    expect(r.body.years).toEqual(expect.arrayContaining([2025, 2026]));
    expect(r.body.coveredThrough).toBe(rt.tables.calendar.coveredThrough(today) ?? null);
    expect(r.body.storedYears).toEqual([]);
  });

  it('R19 a calendar that does not cover today makes /readyz degraded (not down) and /metrics shows 0 days', async () => {
    const only2025 = createCalendar({ ...defaultCalendarTable, years: [2025], holidays: defaultCalendarTable.holidays.filter((d) => d < '2026'), makeupWorkdays: defaultCalendarTable.makeupWorkdays.filter((d) => d < '2026') });
    const stale = await startTestRuntime({ ...isolated.env });
    try {
      stale.tables = { ...defaultBusinessTables, calendar: only2025, configuredCalendar: only2025 };
      await waitFor('redis ready', async () => stale.redis.status === 'ready');
      const staleApp = testApp(stale);
      const ready = await request(staleApp).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.checks.calendar).toBe('degraded');
      expect(ready.body.calendar).toEqual({ coveredThrough: null, daysCoveredAhead: 0 });
      const metrics = await request(staleApp).get('/metrics');
      expect(metrics.text).toMatch(/^bidbond_calendar_days_covered_ahead 0$/m);
    } finally {
      await stale.close();
    }
  });

  it('R19 refuses a table that is not a complete, valid schedule, and stores nothing', async () => {
    const outside = await request(app).post('/v1/calendar').set(bearer(centre)).send({ years: [2027], holidays: ['2028-01-01'], makeupWorkdays: [] });
    expect(outside.status).toBe(422);
    expect(outside.body.error).toMatchObject({ code: 'invalid_calendar', rule: 'R19' });
    const weekday = await request(app).post('/v1/calendar').set(bearer(centre)).send({ years: [2027], holidays: [], makeupWorkdays: ['2027-02-03'] });
    expect(weekday.status).toBe(422);
    expect(weekday.body.error.message).toMatch(/not a Saturday or Sunday/);
    const unknown = await request(app).post('/v1/calendar').set(bearer(centre)).send({ ...table2027, makeUpWorkdays: [] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_field');
    const badDate = await request(app).post('/v1/calendar').set(bearer(centre)).send({ years: [2027], holidays: ['2027-02-30'], makeupWorkdays: [] });
    expect(badDate.status).toBe(400);
    const tooMany = await request(app).post('/v1/calendar').set(bearer(centre)).send({ years: [2027, 2028, 2029, 2030, 2031, 2032], holidays: [], makeupWorkdays: [] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('years');
    const bidder = await request(app).post('/v1/calendar').set(bearer(await keyFor(rt, 'auditor'))).send(table2027);
    expect(bidder.status).toBe(404);
    expect((await request(app).get('/v1/calendar').set(bearer(centre))).body.storedYears).toEqual([]);
  });

  it('R19 bidbond calendar load adds 2027: audited, and the edge at 2026-12-31 counts its holidays', async () => {
    // Without 2027, 1 January 2027 (a Friday) counts as a working day.
    expect(rt.tables.calendar.covers('2027-01-04')).toBe(false);
    expect(rt.tables.calendar.addWorkingDays('2026-12-31', 1)).toBe('2027-01-01');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bidbond-calendar-'));
    const file = path.join(dir, '2027.json');
    writeFileSync(file, JSON.stringify(table2027));
    const r = bidbond(['calendar', 'load', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^loaded 2027$/m);
    expect(r.stdout).toMatch(/covered through: /);
    const audit = await rt.db('audit_events').where({ action: 'calendar.loaded', entity_id: '2027' }).first();
    expect(audit.data).toMatchObject({ years: [2027], holidays: 3, makeupWorkdays: 1, source: file });
    // A process started now (and every running one within a minute) counts 2027's holidays.
    const fresh = await startTestRuntime({ ...isolated.env });
    try {
      expect(fresh.tables.calendar.covers('2027-01-04')).toBe(true);
      expect(fresh.tables.calendar.addWorkingDays('2026-12-31', 1)).toBe('2027-01-04');
      expect(fresh.tables.calendar.isWorkingDay('2027-02-06')).toBe(true);
      expect(fresh.tables.calendar.coveredThrough('2026-12-31')).toBe('2027-12-31');
      const coverage = await request(testApp(fresh)).get('/v1/calendar').set(bearer(centre));
      expect(coverage.body.storedYears.map((y: { year: number }) => y.year)).toEqual([2027]);
    } finally {
      await fresh.close();
    }
    const show = bidbond(['calendar', 'show']);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/2027: loaded .* from /);
  }, 60_000);

  it('R19 a bad file is refused by the command with the reason and no stack trace', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bidbond-calendar-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ years: [2028], holidays: ['2028-13-01'], makeupWorkdays: [] }));
    const r = bidbond(['calendar', 'load', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid_calendar/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('R19 provisional due dates', () => {
  it('a working-day due date past the known calendar is provisional, shown as such, and recomputed when the year is loaded', async () => {
    // A deployment whose calendar stops at 2025: today's working-day periods count weekends only.
    const only2025 = createCalendar({ ...defaultCalendarTable, years: [2025], holidays: defaultCalendarTable.holidays.filter((d) => d < '2026'), makeupWorkdays: defaultCalendarTable.makeupWorkdays.filter((d) => d < '2026') });
    const stale = await startTestRuntime({ ...isolated.env });
    try {
      stale.tables = { ...defaultBusinessTables, calendar: only2025, configuredCalendar: only2025 };
      const staleApp = testApp(stale);
      const w = new DepositWorld(stale, staleApp, centre);
      const bank = await w.bank();
      const section = await w.section(bank.id, { regime: 'tendering_law' });
      const bidder = await w.bidder();
      const va = await w.virtualAccount(section.id, bidder.id);
      // Paid from an account that is not the basic account (R5): returned on the next working day.
      const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: bidder.account.name, number: '6222000011112222333' })]));
      expect(res.status).toBe(200);
      const depositId = res.body.depositIds[0] as string;
      const before = (await request(staleApp).get(`/v1/deposits/${depositId}`).set(bearer(centre))).body.refunds[0];
      const today = businessDate(new Date());
      expect(before).toMatchObject({ reason: 'invalid', dueBy: only2025.nextWorkingDay(today) });
      const refund = await request(staleApp).get(`/v1/refunds/${before.id}`).set(bearer(centre));
      expect(refund.body).toMatchObject({ dueBy: only2025.nextWorkingDay(today), dueByProvisional: true });
      // The year's schedule arrives (here: the built-in one for this year).
      const year = Number(today.slice(0, 4));
      const yearTable = {
        years: [year],
        holidays: defaultCalendarTable.holidays.filter((d) => d.startsWith(String(year))),
        makeupWorkdays: defaultCalendarTable.makeupWorkdays.filter((d) => d.startsWith(String(year))),
      };
      const loaded = await request(staleApp).post('/v1/calendar').set(bearer(centre)).send(yearTable);
      expect(loaded.status).toBe(200);
      const after = await request(staleApp).get(`/v1/refunds/${before.id}`).set(bearer(centre));
      const full = createCalendar(defaultCalendarTable);
      expect(after.body).toMatchObject({ dueBy: full.nextWorkingDay(today), dueByProvisional: full.nextWorkingDay(today) > `${year}-12-31` });
      const audit = await stale.db('audit_events').where({ action: 'refund.due_date_recomputed', entity_id: before.id });
      expect(audit).toHaveLength(after.body.dueBy === before.dueBy && after.body.dueByProvisional ? 0 : 1);
    } finally {
      await stale.close();
    }
  }, 60_000);
});
