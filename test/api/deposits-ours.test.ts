// Only what is ours is booked: a bank's notice may list an account that is neither its trust
// account nor under its sub-account prefix, or money in another currency. Neither enters the
// yuan ledger, neither is refunded as yuan; the first is left alone with a reason, the second is
// an exception for the centre with the currency and amount as the bank said.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, everyPage, jsonNotification, type Bank } from './deposits.support';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
});
afterAll(async () => {
  await rt.close();
});

it('R15 a credit to an account that is not ours is ignored with a reason, never suspense, and counted in /metrics', async () => {
  const payer = { name: '某公司', number: '6222000099998888777' };
  const notOurs = entry('CH9300762011623852957', '1500.00', payer);
  const res = await w.notify(bank, jsonNotification([notOurs]));
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ accepted: 0, ignored: 1, ignoredReasons: { notOurAccount: 1 }, exceptions: 0, depositIds: [] });
  expect(await rt.db('credits').where({ bank_id: bank.id, entry_ref: notOurs.entryRef })).toEqual([]);
  const suspense = await everyPage<{ virtualAccount: string }>(app, w.centre, '/v1/deposits?status=suspense');
  expect(suspense.filter((d) => d.virtualAccount === notOurs.virtualAccount)).toEqual([]);
  const metrics = await request(app).get('/metrics');
  expect(metrics.text).toMatch(/^bidbond_notification_entries_ignored_total\{reason="not_our_account"\} [1-9]\d*$/m);
});

it('R4 a credit in another currency to our sub-account is an exception with its currency and amount, not a yuan deposit, and not refunded', async () => {
  const section = await w.section(bank.id);
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const chf = entry(va, '1500.00', { name: bidder.account.name, number: bidder.account.number }, { currency: 'CHF' });
  const res = await w.notify(bank, jsonNotification([chf]));
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ accepted: 0, exceptions: 1, depositIds: [] });
  const again = await w.notify(bank, jsonNotification([chf]));
  expect(again.body).toMatchObject({ accepted: 0, exceptions: 0, duplicates: 1 });
  expect(await rt.db('credits').where({ bank_id: bank.id, entry_ref: chf.entryRef })).toEqual([]);
  const list = await request(app).get(`/v1/bank-exceptions?bankId=${bank.id}&kind=foreign_currency`).set(bearer(w.centre));
  expect(list.status).toBe(200);
  expect(list.body.data).toHaveLength(1);
  expect(list.body.data[0]).toMatchObject({ kind: 'foreign_currency', currency: 'CHF', amount: '1500.00', status: 'open' });
  const deposits = await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(w.centre));
  expect(deposits.body.data).toEqual([]);
  await w.expectLedgerConsistent(bank.id);
});

it('R15 two different credits that share one bank reference are never one: the second is an exception for the centre, the same entry again a duplicate', async () => {
  const section = await w.section(bank.id);
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const payer = { name: bidder.account.name, number: bidder.account.number };
  const first = entry(va, '1537.00', payer);
  const second = entry(va, '1692.22', payer, { entryRef: first.entryRef });
  const one = await w.notify(bank, jsonNotification([first]));
  expect(one.body).toMatchObject({ accepted: 1, exceptions: 0 });
  const other = await w.notify(bank, jsonNotification([second]));
  expect(other.status).toBe(200);
  expect(other.body).toMatchObject({ accepted: 0, duplicates: 0, exceptions: 1 });
  const same = await w.notify(bank, jsonNotification([first]));
  expect(same.body).toMatchObject({ accepted: 0, duplicates: 1, exceptions: 0 });
  const clashes = await request(app).get(`/v1/bank-exceptions?bankId=${bank.id}&kind=reference_clash`).set(bearer(w.centre));
  expect(clashes.body.data).toHaveLength(1);
  expect(clashes.body.data[0]).toMatchObject({ amount: '1692.22', currency: 'CNY', status: 'open' });
  expect(clashes.body.data[0].detail).toContain(first.entryRef);
  // Repeating the clashing entry opens nothing new.
  const repeated = await w.notify(bank, jsonNotification([second]));
  expect(repeated.body).toMatchObject({ accepted: 0, exceptions: 1 });
  expect((await request(app).get(`/v1/bank-exceptions?bankId=${bank.id}&kind=reference_clash`).set(bearer(w.centre))).body.data).toHaveLength(1);
  await w.expectLedgerConsistent(bank.id);
});
