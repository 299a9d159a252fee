// R15 and R17 end to end: a payment to a virtual account nobody holds waits in suspense; the
// centre decides to return it, and the worker sends it back through the sandbox bank to the
// account it came from, once, with the ledger balanced and suspense emptied.
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
import type { RunningWorkers } from '../../src/queue/worker';
import { buildWorker } from '../../src/app/worker';
import { timingWith } from '../../src/timing';
import type { Runtime } from '../../src/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir } from '../support/runtime';
import { waitFor } from '../support/wait';

const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let server: Server;
let sandbox: SandboxBank;
let workers: RunningWorkers;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('suspense');
  rt = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { pollDelayMs: 150, pollDelayMaxMs: 1_000, retryDelayMs: 100 } }) });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  workers = await buildWorker(rt, process.env.REDIS_URL!);
});

afterAll(async () => {
  await workers?.close();
  await sandbox?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

async function bankApi(method: string, p: string, body?: unknown) {
  const res = await fetch(`${sandbox.url}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

it('R15 R17 a credit to an unknown virtual account waits in suspense and goes back to its source once, by a recorded decision', async () => {
  const centre = await keyFor(rt, 'centre');
  const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  const port = await freePort();
  const trustNumber = `110${digits(12)}`;
  const vaPrefix = digits(9);
  const bank = await request(app).post('/v1/banks').set(bearer(centre)).send({
    name: '沙箱银行', bankCode: '102100099996', adapter: 'sandbox', endpoint: `http://127.0.0.1:${port}`,
    certificatePem: readFileSync(pki.sandboxCert, 'utf8'), trustAccount: { number: trustNumber, name: '保证金专户' }, virtualAccountPrefix: vaPrefix,
  });
  expect(bank.status).toBe(201);
  sandbox = await startSandboxBank({
    port, databaseUrl: isolated.url, schema: `sandbox_susp_${randomBytes(4).toString('hex')}`, dataDir: path.join(testDataDir(), 'sandbox-suspense'),
    signingKeyPath: pki.sandboxKey, signingCertPath: pki.sandboxCert,
    trustAccount: { number: trustNumber, name: '保证金专户', bankCode: '102100099996' }, virtualPrefix: vaPrefix,
    notifyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/banks/${bank.body.id}/notifications`,
    settleDelayMs: 50, notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });
  const payer = `62${digits(16)}`;
  await bankApi('POST', '/sandbox/accounts', { number: payer, name: '不知名公司', bankCode: '103100000026', balance: '60000.00' });
  await bankApi('POST', '/sandbox/transfers', { fromAccount: payer, toAccount: `${vaPrefix}99999999`, amount: '50000.00', remittance: '保证金' });

  const held = await waitFor('the credit in suspense', async () => rt.db('deposits').where({ bank_id: bank.body.id, status: 'suspense' }).first());
  const listed = await request(app).get('/v1/deposits?status=suspense').set(bearer(centre));
  expect(listed.body.data.map((d: { id: string }) => d.id)).toContain(held.id);

  const noDecision = await request(app).post(`/v1/deposits/${held.id}/return`).set(bearer(centre)).send({});
  expect(noDecision.status).toBe(400);
  const returned = await request(app).post(`/v1/deposits/${held.id}/return`).set(bearer(centre)).send({ decision: '付款人未能说明用途，原路退回' });
  expect([returned.status, returned.body.error]).toEqual([201, undefined]);
  expect(returned.body).toMatchObject({ reason: 'suspense_return', principal: '50000.00', status: 'scheduled', creditor: { number: payer } });
  const twice = await request(app).post(`/v1/deposits/${held.id}/return`).set(bearer(centre)).send({ decision: 'again' });
  expect([twice.status, twice.body.error.rule]).toEqual([409, 'R15']);

  const settled = await waitFor('the return settled', async () => rt.db('refunds').where({ id: returned.body.id, status: 'settled' }).first());
  expect(settled.interest_fen).toBe(0n);
  const account = await bankApi('GET', `/sandbox/accounts/${payer}`);
  expect(parseAmount(account.balance)).toBe(parseAmount('60000.00'));
  const balance = async (acct: string) => BigInt((await rt.db('postings').where({ account: acct }).sum({ s: 'amount_fen' }))[0].s ?? 0);
  expect(await balance(`bank:${bank.body.id}:suspense`)).toBe(0n);
  expect(await balance(`bank:${bank.body.id}:trust`)).toBe(0n);
  expect(BigInt((await rt.db('postings').sum({ s: 'amount_fen' }))[0].s ?? 0)).toBe(0n);
  const detail = await request(app).get(`/v1/refunds/${returned.body.id}`).set(bearer(centre));
  expect(detail.body.decisions[0].decision).toBe('付款人未能说明用途，原路退回');
}, 60_000);
