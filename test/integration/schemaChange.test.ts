// A migration that adds a column while the service runs (a rolling upgrade: the new version
// migrates, the old one still serves): the statements the service keeps prepared on its
// connections go on working on those same connections. One connection in the pool, so the
// requests after the change run on the very connection that prepared the statements before it.
import request from 'supertest';
import type { Express } from 'express';
import { Client } from 'pg';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('schemachange');
  rt = await startTestRuntime({ ...isolated.env, BIDBOND_DB_POOL_MAX: '1' });
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

it('credit notifications, their replays and the ledger keep working on the same connection after columns are added to the tables they read', async () => {
  const section = await w.section(bank.id);
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const payer = { name: bidder.account.name, number: bidder.account.number };
  const before = entry(va, '20000.00', payer);
  const first = await w.notify(bank, jsonNotification([before]));
  expect([first.status, first.body.accepted]).toEqual([200, 1]);

  const admin = new Client({ connectionString: isolated.url });
  await admin.connect();
  try {
    for (const table of ['banks', 'sections', 'credits', 'journals', 'postings']) await admin.query(`ALTER TABLE ${table} ADD COLUMN added_later text`);
  } finally {
    await admin.end();
  }

  // A new credit (the bank, the claim and the sections' locks, the ledger's batch), the same
  // entry again in another message (the credit on record is read to compare), and the deposits
  // read back through the API.
  const after = entry(va, '30000.00', payer);
  const second = await w.notify(bank, jsonNotification([after]));
  expect([second.status, second.body.accepted]).toEqual([200, 1]);
  const again = await w.notify(bank, jsonNotification([after]));
  expect([again.status, again.body.accepted, again.body.duplicates]).toEqual([200, 0, 1]);
  const deposits = await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(w.centre));
  expect(deposits.status).toBe(200);
  expect(deposits.body.data.map((d: { amount: string }) => d.amount).sort()).toEqual(['20000.00', '30000.00']);
  await w.expectLedgerConsistent(bank.id);
});
