// A statement is stored as it streams: its entries and their reconciliation lines go to the
// database in segments while the document is still being read (statements.ts). What that must
// keep: lines in statement order, a reference repeated across segments found as a duplicate,
// and a statement refused part way (by its parser or by the database) leaving nothing behind
// and the connection fit for the next one.
import request from 'supertest';
import type { Express } from 'express';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import { ReferenceRepeats, statementCopySegmentRows, statementSegmentsInFlightMax } from '../../src/reconciliation/statements';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, type Bank } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;
let isolated: IsolatedDatabase;

beforeAll(async () => {
  // A database of its own: one test adds a trigger that refuses a statement entry.
  isolated = await createIsolatedDatabase('reconstream');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
});

afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

const feeFen = 7n;
/** More entries than the segments the reader may hold in flight, so that some are stored
 *  before the document ends. */
const manyEntries = statementCopySegmentRows * (statementSegmentsInFlightMax + 2) + 123;

function fees(date: string, n: number, refOf: (i: number) => string = (i) => `SEG${date.replace(/-/g, '')}${String(i).padStart(6, '0')}`): StatementEntry[] {
  return Array.from({ length: n }, (_, k) => ({
    entryRef: refOf(k + 1), direction: 'debit' as const, amountFen: feeFen, currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date,
    counterparty: { name: '某银行手续费', accountNumber: '6222000000000000001' },
  }));
}

async function trustOf(bank: Bank): Promise<string> {
  return (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
}

function statementXml(trust: string, date: string, messageId: string, entries: StatementEntry[]): string {
  const total = entries.reduce((s, e) => s + e.amountFen, 0n);
  return [...camt053Chunks({ messageId, statementId: messageId, sequenceNumber: '1', account: trust, currency: 'CNY', date, openingBalanceFen: total, closingBalanceFen: 0n, createdAt: new Date() }, entries)].join('');
}

const upload = (bank: Bank, xml: string) => request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);

async function nothingRecorded(bank: Bank): Promise<void> {
  expect(await rt.db('statements').where({ bank_id: bank.id }).select('id')).toEqual([]);
  expect(await rt.db('reconciliations').where({ bank_id: bank.id }).select('id')).toEqual([]);
}

it('stores every line in statement order, finds a reference repeated segments apart, and keeps nothing of the same statement sent again', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const date = '2024-08-01';
  const entries = fees(date, manyEntries);
  const repeatAt = manyEntries - 5;
  entries[repeatAt - 1] = { ...entries[repeatAt - 1], entryRef: entries[1].entryRef };
  const xml = statementXml(await trustOf(bank), date, 'SEGORDER1', entries);
  const res = await upload(bank, xml);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ entries: manyEntries, result: 'differences' });

  // The same statement again: read and stored segment by segment before it is known to be the
  // same, then all of it rolled back; the answer is the first reconciliation.
  const again = await upload(bank, xml);
  expect(again.status).toBe(200);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body.id).toBe(res.body.id);
  expect(await rt.db('statements').where({ bank_id: bank.id }).select('id')).toHaveLength(1);
  expect(await rt.db('reconciliations').where({ bank_id: bank.id }).select('id')).toEqual([{ id: res.body.id }]);

  const lines = await rt.db('reconciliation_lines').where({ reconciliation_id: res.body.id }).orderBy('id').select('line_no', 'entry_ref', 'bank_amount_fen', 'result', 'detail');
  expect(lines.map((l: { line_no: number }) => l.line_no)).toEqual(Array.from({ length: manyEntries }, (_, k) => k + 1));
  expect(lines.every((l: { bank_amount_fen: bigint }) => l.bank_amount_fen === -feeFen)).toBe(true);
  const repeated = lines.filter((l: { result: string }) => l.result === 'duplicate');
  expect(repeated).toEqual([{ line_no: repeatAt, entry_ref: entries[1].entryRef, bank_amount_fen: -feeFen, result: 'duplicate', detail: 'bank reference repeated in this statement (first at line 2)' }]);
  const kinds = await rt.db('reconciliation_exception_rows').where({ reconciliation_id: res.body.id }).groupBy('kind').orderBy('kind').select('kind', rt.db.raw('count(*)::int AS n'));
  expect(kinds).toEqual([
    { kind: 'duplicate', n: 1 },
    { kind: 'missing_in_ledger', n: manyEntries - 1 },
  ]);
}, 120_000);

it('reconciles a statement sent twice at once exactly once', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const date = '2024-08-04';
  const xml = statementXml(await trustOf(bank), date, 'SEGTWICE1', fees(date, manyEntries));
  const [a, b] = await Promise.all([upload(bank, xml), upload(bank, xml)]);
  expect([a.status, b.status].sort()).toEqual([200, 201]);
  expect(a.body.id).toBe(b.body.id);
  expect(await rt.db('reconciliations').where({ bank_id: bank.id }).select('id')).toEqual([{ id: a.body.id }]);
  const lines = await rt.db('reconciliation_lines').where({ reconciliation_id: a.body.id }).count({ n: '*' }).first();
  expect(Number(lines!.n)).toBe(manyEntries);
}, 120_000);

it('leaves nothing of a statement its parser refuses after segments of it were stored, and reads the next', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const trust = await trustOf(bank);
  const date = '2024-08-02';
  const whole = statementXml(trust, date, 'SEGCUT1', fees(date, manyEntries));
  // Cut inside the last entries: everything before is well-formed and has been stored.
  const cut = whole.slice(0, whole.lastIndexOf('<Ntry>') + 20);
  const refused = await upload(bank, cut);
  expect(refused.status).toBe(400);
  expect(refused.body.error).toMatchObject({ code: 'statement_invalid' });
  expect(JSON.stringify(refused.body)).not.toMatch(/ at .*\.ts:\d+/);
  await nothingRecorded(bank);

  const next = await upload(bank, statementXml(trust, date, 'SEGCUT2', fees(date, 3)));
  expect(next.status).toBe(201);
  expect(next.body).toMatchObject({ entries: 3 });
}, 120_000);

it('leaves nothing of a statement whose entry the database refuses part way, and reads the next', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const trust = await trustOf(bank);
  const date = '2024-08-03';
  const refusedRef = `REFUSE${bank.id.slice(-8)}`;
  // The database fails on one entry of the third segment (a fault, not a rule the caller broke).
  await rt.db.raw(`
    CREATE FUNCTION test_refuse_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.entry_ref = '${refusedRef}' THEN RAISE EXCEPTION 'entry % refused', NEW.entry_ref; END IF;
      RETURN NEW;
    END $$`);
  await rt.db.raw('CREATE TRIGGER test_refuse_entry BEFORE INSERT ON statement_entries FOR EACH ROW EXECUTE FUNCTION test_refuse_entry()');
  try {
    const entries = fees(date, manyEntries);
    const at = statementCopySegmentRows * 2 + 17;
    entries[at - 1] = { ...entries[at - 1], entryRef: refusedRef };
    const refused = await upload(bank, statementXml(trust, date, 'SEGDB1', entries));
    expect(refused.status).toBe(500);
    expect(refused.body.error).toMatchObject({ code: 'internal_error' });
    expect(JSON.stringify(refused.body)).not.toContain(refusedRef);
    await nothingRecorded(bank);
  } finally {
    await rt.db.raw('DROP TRIGGER test_refuse_entry ON statement_entries');
    await rt.db.raw('DROP FUNCTION test_refuse_entry()');
  }
  const next = await upload(bank, statementXml(trust, date, 'SEGDB2', fees(date, 3)));
  expect(next.status).toBe(201);
  expect(next.body).toMatchObject({ entries: 3 });
}, 120_000);

describe('ReferenceRepeats', () => {
  it('finds no repeat among distinct references, however many', () => {
    const seen = new ReferenceRepeats();
    for (let i = 0; i < 300_000; i++) seen.add(`B${String(i).padStart(9, '0')}`);
    expect(seen.possible).toBe(false);
  });

  it('finds a repeat, wherever it comes', () => {
    for (const at of [1, 4_095, 250_000]) {
      const seen = new ReferenceRepeats();
      for (let i = 0; i < 250_001; i++) seen.add(i === at ? 'REF7' : `REF${i}`);
      expect(seen.possible).toBe(true);
    }
  });

  it('tells apart references that differ in one character, or only in case or width', () => {
    const seen = new ReferenceRepeats();
    for (const ref of ['银行流水1', '银行流水2', 'abc', 'ABC', 'ａｂｃ', 'abc ', ' abc', '']) seen.add(ref);
    expect(seen.possible).toBe(false);
    seen.add('银行流水2');
    expect(seen.possible).toBe(true);
  });
});
