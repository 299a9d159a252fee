// Exceptions on statement lines are kept on the lines (migration 20261210001000). A database
// upgraded with exceptions written the earlier way, as rows of reconciliation_exceptions, keeps
// them under their ids: they are listed and resolved as before, and the exceptions written after
// the upgrade never take one of their ids. The earlier rows are made by the migration's own
// down step, from a reconciliation done through the API.
import request from 'supertest';
import type { Express } from 'express';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import { createDb } from '../../src/db/knex';
import { migrateLatest, migrationConfig } from '../../src/db/migrate';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, type Bank } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

const migration = '20261210001000_line_exceptions_on_lines.ts';

let isolated: IsolatedDatabase;
let rt: Runtime | undefined;
let app: Express;
let centre: string;
let bank: Bank;

async function start(): Promise<void> {
  rt = await startTestRuntime(isolated.env);
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
}

async function migrate(step: 'down' | 'latest'): Promise<void> {
  const db = createDb(isolated.url);
  try {
    if (step === 'down') await db.migrate.down({ ...migrationConfig, name: migration });
    else await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}

/** A statement of `n` debits the ledger never saw, closing at 5.00 where the ledger holds
 *  nothing: n open exceptions on lines, and one of the statement's own. */
async function reconcile(date: string, n: number): Promise<string> {
  const trust = (await rt!.db('banks').where({ id: bank.id }).first()).trust_account_number as string;
  const entries: StatementEntry[] = Array.from({ length: n }, (_, i) => ({
    entryRef: `MIG${date.replace(/-/g, '')}${i}`, direction: 'debit', amountFen: BigInt(100 * (i + 1)), currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date,
    counterparty: { name: '某建设有限公司', accountNumber: `6222000000000${i}`, bankCode: '103100000026' },
  }));
  const total = entries.reduce((s, e) => s + e.amountFen, 0n);
  const xml = [...camt053Chunks({ messageId: `MIG${date}`, statementId: `MIG${date}`, account: trust, currency: 'CNY', date, openingBalanceFen: total + 500n, closingBalanceFen: 500n, createdAt: new Date() }, entries)].join('');
  const res = await request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);
  expect(res.status).toBe(201);
  return res.body.id;
}

async function exceptionsOf(rid: string): Promise<{ id: string; kind: string; entryRef: string; amount: string; detail: string; status: string; lineId: string | null }[]> {
  const res = await request(app).get(`/v1/reconciliations/${rid}`).set(bearer(centre));
  expect(res.status).toBe(200);
  return res.body.exceptions.data;
}

beforeAll(async () => {
  isolated = await createIsolatedDatabase('lineexceptions');
  await start();
  bank = await new DepositWorld(rt!, app, centre).bank();
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

it('keeps exceptions written before the upgrade under their ids, listed and resolved as before, and gives later ones ids of their own', async () => {
  const earlier = await reconcile('2024-05-06', 3);
  const before = await exceptionsOf(earlier);
  expect(before.map((x) => x.kind)).toEqual(['missing_in_ledger', 'missing_in_ledger', 'missing_in_ledger', 'ledger_balance_difference']);
  // An exception on a line is named by its line.
  expect(before.slice(0, 3).every((x) => x.id === x.lineId)).toBe(true);

  // The database as it was before: every exception a row of reconciliation_exceptions.
  await rt!.close();
  rt = undefined;
  await migrate('down');
  await migrate('latest');
  await start();

  const kept = await rt!.db('reconciliation_exceptions').where({ reconciliation_id: earlier }).orderBy('id').pluck('id');
  expect(kept.map(String)).toEqual(before.map((x) => x.id));
  expect(await rt!.db('reconciliation_lines').where({ reconciliation_id: earlier }).whereNotNull('exception_status')).toEqual([]);
  // Listed as they were, text and all.
  expect(await exceptionsOf(earlier)).toEqual(before);

  // Resolved as before, once.
  const first = before[0];
  const resolved = await request(app).post(`/v1/reconciliations/${earlier}/exceptions/${first.id}/resolution`).set(bearer(centre)).send({ decision: 'explained', note: '银行手续费' });
  expect(resolved.status).toBe(200);
  expect(resolved.body).toMatchObject({ id: first.id, kind: 'missing_in_ledger', entryRef: first.entryRef, status: 'resolved', decision: 'explained', note: '银行手续费' });
  const twice = await request(app).post(`/v1/reconciliations/${earlier}/exceptions/${first.id}/resolution`).set(bearer(centre)).send({ decision: 'explained', note: '重复' });
  expect(twice.status).toBe(409);

  // The next day's exceptions, on its lines and of its statement, come after every earlier id.
  const later = await reconcile('2024-05-07', 2);
  const after = await exceptionsOf(later);
  expect(after.map((x) => x.kind)).toEqual(['missing_in_ledger', 'missing_in_ledger', 'ledger_balance_difference']);
  const newest = BigInt(before[before.length - 1].id);
  expect(after.every((x) => BigInt(x.id) > newest)).toBe(true);
  const correction = await request(app).post(`/v1/reconciliations/${later}/exceptions/${after[0].id}/resolution`).set(bearer(centre))
    .send({ decision: 'corrected', note: '银行扣款，转入待处理', correction: { counterAccount: 'suspense' } });
  expect(correction.status).toBe(200);
  expect(correction.body).toMatchObject({ id: after[0].id, status: 'resolved', decision: 'corrected', correctionJournalId: expect.stringMatching(/^jnl_/) });
  const line = await rt!.db('reconciliation_lines').where({ id: after[0].id }).first();
  expect(line).toMatchObject({ exception_status: 'resolved', decision: 'corrected', correction_journal_id: correction.body.correctionJournalId });
});
