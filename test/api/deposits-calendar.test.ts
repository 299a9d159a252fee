// R19: a deployment's own calendar (BIDBOND_CALENDAR_FILE) dates every refund the deposits
// capability schedules: returns of invalid credits, withdrawals and suspense returns. The file
// here makes a holiday of the next working day of the built-in schedule, so every due date
// counted across it differs from the built-in one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { createCalendar, defaultCalendar, defaultCalendarTable, mergeCalendarTables, type CalendarTable } from '../../src/domain/calendar';
import { businessDate } from '../../src/domain/time';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';

const today = businessDate(new Date());
/** The day a refund owed one working day from today falls due under the built-in schedule. */
const builtInDue = defaultCalendar.addWorkingDays(today, 1);
const year = Number(builtInDue.slice(0, 4));
const inYear = (d: string) => Number(d.slice(0, 4)) === year;
/** The built-in year with that day made a holiday. */
const configured: CalendarTable = {
  years: [year],
  holidays: [...defaultCalendarTable.holidays.filter(inYear), builtInDue],
  makeupWorkdays: defaultCalendarTable.makeupWorkdays.filter((d) => inYear(d) && d !== builtInDue),
};
const calendar = createCalendar(mergeCalendarTables(defaultCalendarTable, configured));

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;

beforeAll(async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'bb-calendar-')), 'calendar.json');
  writeFileSync(file, JSON.stringify(configured));
  rt = await startTestRuntime({ BIDBOND_CALENDAR_FILE: file });
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
});
afterAll(async () => {
  await rt.close();
});

async function paidBidder(regime: 'tendering_law' | 'government_procurement', payerNumber?: string) {
  const section = await w.section(bank.id, { regime });
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: bidder.account.name, number: payerNumber ?? bidder.account.number })]));
  expect(res.status).toBe(200);
  return { section, bidder, depositId: res.body.depositIds[0] as string };
}

it('R19 R15 the return of an invalid credit falls due on the next working day of the configured calendar', async () => {
  expect(calendar.addWorkingDays(today, 1) > builtInDue).toBe(true);
  const { depositId } = await paidBidder('tendering_law', '6222000011112222333');
  const d = await request(app).get(`/v1/deposits/${depositId}`).set(bearer(w.centre));
  expect(d.body).toMatchObject({ status: 'invalid', rules: ['R5'] });
  expect(d.body.refunds).toMatchObject([{ reason: 'invalid', dueBy: calendar.addWorkingDays(today, 1) }]);
});

it('R19 R9 a withdrawal under government procurement is due 5 working days later on the configured calendar', async () => {
  const { section, bidder } = await paidBidder('government_procurement');
  const wd = await request(app).post(`/v1/sections/${section.id}/withdrawals`).set(bearer(w.centre)).send({ bidderId: bidder.id });
  expect(wd.status).toBe(201);
  expect(wd.body.refunds).toMatchObject([{ reason: 'withdrawal', dueBy: calendar.addWorkingDays(today, 5) }]);
});

it('R19 R15 a credit returned from suspense is due on the next working day of the configured calendar', async () => {
  const res = await w.notify(bank, jsonNotification([entry(`${bank.prefix}99999999999`, '1234.56', { name: '某公司', number: '6222333344445555666' })]));
  const returned = await request(app).post(`/v1/deposits/${res.body.depositIds[0]}/return`).set(bearer(w.centre)).send({ decision: '付款人未能说明用途，原路退回' });
  expect(returned.status).toBe(201);
  expect(returned.body).toMatchObject({ reason: 'suspense_return', status: 'scheduled', dueBy: calendar.nextWorkingDay(today) });
});
