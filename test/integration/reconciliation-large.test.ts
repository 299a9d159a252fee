// A day of 100,000 statement entries uploaded over HTTP and reconciled with bounded memory: the
// document streams from the generator through the request into batched INSERTs and set-wise
// matching, never held whole (as a DOM, a string or an array of entries).
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Express } from 'express';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import type { Runtime } from '../../src/runtime';
import request from 'supertest';
import { recoveryPageRows } from '../../src/reconciliation/service';
import { DepositWorld } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

const entriesN = 100_000;
const feeFen = 123n;
/** What the whole reconciliation may add to the heap (and to Buffers outside it). The document
 *  alone is several times this; holding it, or its entries, would blow the bound. */
const memoryGrowthBytesMax = 32 * 1024 * 1024;

let rt: Runtime;
let app: Express;
let server: Server;
let centre: string;

let isolated: IsolatedDatabase;

beforeAll(async () => {
  // A database of its own: a day of 100,000 lines and hundreds of suspense deposits would crowd
  // the lists other files of the run read.
  isolated = await createIsolatedDatabase('reconlarge');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  centre = await keyFor(rt, 'centre');
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

function* entries(date: string): Generator<StatementEntry> {
  for (let i = 1; i <= entriesN; i++) {
    yield { entryRef: `BIG${date.replace(/-/g, '')}${String(i).padStart(7, '0')}`, direction: 'debit', amountFen: feeFen, currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date, counterparty: { name: '某银行手续费', accountNumber: '6222000000000000001' } };
  }
}

it('reconciles a 100,000-entry camt.053 upload within bounded memory, every line recorded and named', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const trust = (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
  const date = '2024-06-28';
  const total = feeFen * BigInt(entriesN);
  const doc = Readable.from(camt053Chunks({ messageId: 'BIGDAY1', statementId: 'BIGDAY1', sequenceNumber: '1', account: trust, currency: 'CNY', date, openingBalanceFen: total, closingBalanceFen: 0n, createdAt: new Date() }, entries(date)));
  let docBytes = 0;
  doc.on('data', (c: string | Buffer) => (docBytes += Buffer.byteLength(c)));

  // Retained memory, not garbage not yet collected: a full collection before each sample.
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const baseline = used();
  let peak = baseline;
  // A full collection costs more the more this jest worker has loaded before; once a second
  // keeps the sampling from becoming the work.
  const sampler = setInterval(() => (peak = Math.max(peak, used())), 1000);
  const { port } = server.address() as AddressInfo;
  const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: `/v1/reconciliations?bankId=${bank.id}`, headers: { ...bearer(centre), 'Content-Type': 'application/xml' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
    });
    req.on('error', reject);
    doc.pipe(req);
  });
  clearInterval(sampler);
  peak = Math.max(peak, used());
  process.stdout.write(`100k statement: ${(docBytes / 1048576).toFixed(1)} MiB document, heap+external growth ${((peak - baseline) / 1048576).toFixed(1)} MiB\n`);

  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ entries: entriesN, balances: { opening: '123000.00', closingBank: '0.00' } });
  expect(docBytes).toBeGreaterThan(2 * memoryGrowthBytesMax);
  expect(peak - baseline).toBeLessThan(memoryGrowthBytesMax);
  const counts = await rt.db('reconciliation_lines').where({ reconciliation_id: answer.body.id }).groupBy('result').select('result', rt.db.raw('count(*)::int AS n'));
  expect(counts).toEqual([{ result: 'missing_in_ledger', n: entriesN }]);
  // The voucher lists a bounded number of exceptions and says how many more there are.
  const voucher = await rt.db('vouchers').where({ id: answer.body.voucherId }).first();
  expect(voucher.data.exceptions.length).toBeLessThanOrEqual(202);
}, 300_000);

it('recovers every lost credit of a day with more of them than one page, once each, in line order', async () => {
  const bank = await new DepositWorld(rt, app, centre).bank();
  const trust = (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
  const date = '2024-07-01';
  // Credits to sub-accounts no bidder holds (held in suspense) between fees the ledger never
  // saw, so that the pages of credits are cut among lines that are not theirs.
  const lines = 2 * recoveryPageRows + 101;
  const creditFen = 1_000n;
  const list: StatementEntry[] = [];
  for (let i = 1; i <= lines; i++) {
    const entryRef = `PG${date.replace(/-/g, '')}${String(i).padStart(6, '0')}`;
    if (i % 2 === 1) list.push({ entryRef, direction: 'credit', amountFen: creditFen, currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date, account: `${bank.prefix}${String(i).padStart(8, '0')}`, counterparty: { name: '某投标人', accountNumber: `6222${String(i).padStart(12, '0')}` } });
    else list.push({ entryRef, direction: 'debit', amountFen: feeFen, currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date, counterparty: { name: '某银行手续费', accountNumber: '6222000000000000001' } });
  }
  const credits = list.filter((e) => e.direction === 'credit');
  const closing = creditFen * BigInt(credits.length) - feeFen * BigInt(lines - credits.length);
  const xml = [...camt053Chunks({ messageId: `PAGES${date}`, statementId: 'PAGES1', sequenceNumber: '1', account: trust, currency: 'CNY', date, openingBalanceFen: 0n, closingBalanceFen: closing, createdAt: new Date() }, list)].join('');
  const answer = await request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);
  expect(answer.status).toBe(201);
  expect(credits.length).toBeGreaterThan(recoveryPageRows);
  expect(answer.body).toMatchObject({ entries: lines, matched: { recovered: credits.length } });
  const recovered = await rt.db('reconciliation_lines').where({ reconciliation_id: answer.body.id, result: 'recovered' }).orderBy('line_no').select('line_no', 'entry_ref');
  expect(recovered.map((l: { entry_ref: string }) => l.entry_ref)).toEqual(credits.map((e) => e.entryRef));
  const booked = await rt.db('credits').where({ bank_id: bank.id }).select('entry_ref');
  expect(booked.map((c: { entry_ref: string }) => c.entry_ref).sort()).toEqual(credits.map((e) => e.entryRef).sort());
  const open = await rt.db('reconciliation_lines').where({ reconciliation_id: answer.body.id, result: 'missing_in_ledger' }).count({ n: '*' }).first();
  expect(Number(open!.n)).toBe(lines - credits.length);
}, 120_000);
