// A worker process killed with SIGKILL after it sent a refund to the bank and before the bank's
// answer: the next worker asks the bank, finds the instruction, and settles it; nothing is sent
// twice. Runs on a database and queue prefix of its own, since the worker processes started
// here act on everything they find.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { startSandboxBank, type SandboxBank } from '../../src/sandbox-bank';
import { freePort } from '../../src/db/embedded';
import { parseAmount } from '../../src/domain/money';
import { ensureDevPki } from '../../src/pki/devPki';
import type { Runtime } from '../../src/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';

const repoRoot = path.resolve(__dirname, '../..');
const customerBankCode = '103100000026';
const trustBankCode = '102100099996';
const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');

let isolated: IsolatedDatabase;
let dbUrl: string;
let prefix: string;
let rt: Runtime;
let app: Express;
let server: Server;
let sandbox: SandboxBank;
const children: ChildProcess[] = [];


function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/bidbond.js'), 'worker'], {
    env: { ...process.env, DATABASE_URL: dbUrl, BIDBOND_QUEUE_PREFIX: prefix, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function bankApi(method: string, p: string, body?: unknown) {
  const res = await fetch(`${sandbox.url}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

beforeAll(async () => {
  isolated = await createIsolatedDatabase('crash');
  dbUrl = isolated.url;
  prefix = isolated.queuePrefix;
  rt = await startTestRuntime({ DATABASE_URL: dbUrl, BIDBOND_QUEUE_PREFIX: prefix });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sandbox?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

it('a worker killed between sending a refund and the bank\u2019s answer loses nothing and pays once', async () => {
  const centre = await keyFor(rt, 'centre');
  const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  const port = await freePort();
  const trustNumber = `110${digits(12)}`;
  const vaPrefix = digits(9);
  const bank = await request(app).post('/v1/banks').set(bearer(centre)).send({
    name: '沙箱银行', bankCode: trustBankCode, adapter: 'sandbox', endpoint: `http://127.0.0.1:${port}`,
    certificatePem: readFileSync(pki.sandboxCert, 'utf8'), trustAccount: { number: trustNumber, name: '保证金专户' }, virtualAccountPrefix: vaPrefix,
  });
  expect(bank.status).toBe(201);
  // Settlement is slow on purpose: the worker is killed while the bank still says "pending".
  sandbox = await startSandboxBank({
    port, databaseUrl: dbUrl, schema: `sandbox_crash_${randomBytes(4).toString('hex')}`, dataDir: path.join(testDataDir(), 'sandbox-crash'),
    signingKeyPath: pki.sandboxKey, signingCertPath: pki.sandboxCert,
    trustAccount: { number: trustNumber, name: '保证金专户', bankCode: trustBankCode }, virtualPrefix: vaPrefix,
    notifyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/banks/${bank.body.id}/notifications`,
    settleDelayMs: 4_000, notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });

  const tenderee = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市水务局', uscc: uniqueUscc() })).body.id;
  const section = (await request(app).post('/v1/sections').set(bearer(centre)).send({
    projectCode: `P-${digits(6)}`, sectionCode: 'S-1', name: '供水管网改造', tendereeId: tenderee, regime: 'tendering_law',
    estimatedPrice: '1000000.00', depositAmount: '20000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
    bidValidityDays: 90, depositBankId: bank.body.id, acceptedSecurity: ['cash'],
  })).body.id;
  const name = '水利建设有限公司';
  const number = `62${digits(16)}`;
  await bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: '50000.00' });
  const bidder = (await request(app).post('/v1/bidders').set(bearer(centre)).send({ name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } })).body.id;
  const va = (await request(app).post(`/v1/sections/${section}/deposit-accounts`).set(bearer(centre)).send({ bidderId: bidder })).body.virtualAccount;
  await bankApi('POST', '/sandbox/transfers', { fromAccount: number, toAccount: va, amount: '20000.00', remittance: '投标保证金' });
  await waitFor('the deposit', async () => rt.db('deposits').where({ section_id: section, status: 'valid' }).first());

  expect((await request(app).post(`/v1/sections/${section}/termination`).set(bearer(centre)).send({ reason: '项目取消' })).status).toBeLessThan(300);
  const refund = await waitFor('the refund', async () => rt.db('refunds').where({ section_id: section }).first());

  const first = startWorkerProcess();
  const sent = await waitFor('the attempt sent to the bank', async () => rt.db('refund_attempts').where({ refund_id: refund.id }).whereNotIn('status', ['sending']).first());
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  expect((await rt.db('refunds').where({ id: refund.id }).first()).status).toBe('submitted');

  startWorkerProcess();
  const settled = await waitFor('the refund settled', async () => rt.db('refunds').where({ id: refund.id, status: 'settled' }).first(), 60_000);
  expect(await rt.db('refund_attempts').where({ refund_id: refund.id })).toHaveLength(1);
  expect((await rt.db('refund_attempts').where({ refund_id: refund.id }).first()).id).toBe(sent.id);
  const account = await bankApi('GET', `/sandbox/accounts/${number}`);
  expect(account.entries.filter((e: { direction: string }) => e.direction === 'credit')).toHaveLength(1);
  expect(parseAmount(account.balance)).toBe(parseAmount('30000.00') + settled.principal_fen + settled.interest_fen);
  const [{ total }] = await rt.db('postings').sum({ total: 'amount_fen' });
  expect(BigInt(total ?? 0)).toBe(0n);
}, 120_000);
