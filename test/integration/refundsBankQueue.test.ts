// At most one payment per refund whatever the bank does: an instruction that sits in the bank's
// queue (invisible to status inquiries) while the worker that sent it is paused or killed past
// every grace period, a new attempt that the bank refuses as a duplicate of it, and an
// instruction that never gets a final status within the horizon. A database and queue prefix of
// its own, since the worker processes started here act on everything they find.
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
import { formatAmount, parseAmount } from '../../src/domain/money';
import { ensureDevPki } from '../../src/pki/devPki';
import { pollAttempt, submitRefund } from '../../src/refunds/executor';
import type { Runtime } from '../../src/runtime';
import { timingWith } from '../../src/timing';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';

const repoRoot = path.resolve(__dirname, '../..');
const customerBankCode = '103100000026';
const trustBankCode = '102100099996';
const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
/** Longer than every grace period of the workers here: the bank's queue outlives them all. */
const lateArrivalMs = 8_000;
/** The bank answers a "timed out" submission this late: the worker sits in `sending` meanwhile. */
const timeoutHangMs = 5_000;
const timing = { sendingStaleMs: 1_000, noRecordGraceMs: 500, retryAfterNoRecordMs: 0, pollDelayMs: 200, pollDelayMaxMs: 500, retryDelayMs: 100 };

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let server: Server;
let sandbox: SandboxBank;
let centre: string;
let bankId: string;
let trustNumber: string;
const children: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/bidbond.js'), 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: isolated.url,
      BIDBOND_QUEUE_PREFIX: isolated.queuePrefix,
      BIDBOND_DATA_DIR: testDataDir(),
      LOG_LEVEL: 'silent',
      // Waits for the bank's late answer rather than timing out first: the pause lands in `sending`.
      BIDBOND_BANK_TIMEOUT_MS: '60000',
      BIDBOND_REFUND_SENDING_STALE_MS: String(timing.sendingStaleMs),
      BIDBOND_REFUND_NO_RECORD_GRACE_MS: String(timing.noRecordGraceMs),
      BIDBOND_REFUND_RETRY_AFTER_NO_RECORD_MS: '0',
      BIDBOND_REFUND_POLL_DELAY_MS: String(timing.pollDelayMs),
      BIDBOND_REFUND_POLL_DELAY_MAX_MS: String(timing.pollDelayMaxMs),
    },
    stdio: 'ignore',
    detached: false,
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
  isolated = await createIsolatedDatabase('bankqueue');
  rt = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { ...timing, bankTimeoutMs: 2_000 } }) });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  centre = await keyFor(rt, 'centre');
  const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  const port = await freePort();
  trustNumber = `110${digits(12)}`;
  const vaPrefix = digits(9);
  const bank = await request(app).post('/v1/banks').set(bearer(centre)).send({
    name: '沙箱银行', bankCode: trustBankCode, adapter: 'sandbox', endpoint: `http://127.0.0.1:${port}`,
    certificatePem: readFileSync(pki.sandboxCert, 'utf8'), trustAccount: { number: trustNumber, name: '保证金专户' }, virtualAccountPrefix: vaPrefix,
  });
  expect(bank.status).toBe(201);
  bankId = bank.body.id;
  sandbox = await startSandboxBank({
    port, databaseUrl: isolated.url, schema: `sandbox_queue_${randomBytes(4).toString('hex')}`, dataDir: path.join(testDataDir(), 'sandbox-queue'),
    signingKeyPath: pki.sandboxKey, signingCertPath: pki.sandboxCert,
    trustAccount: { number: trustNumber, name: '保证金专户', bankCode: trustBankCode }, virtualPrefix: vaPrefix,
    notifyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/banks/${bankId}/notifications`,
    settleDelayMs: 200, timeoutHangMs, notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });
}, 60_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
  }
  await sandbox?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

/** A terminated section with one bidder's deposit: its refund is scheduled at once (R16). */
async function refundOwed(): Promise<{ refundId: string; number: string; principalFen: bigint }> {
  const tenderee = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市水务局', uscc: uniqueUscc() })).body.id;
  const section = (await request(app).post('/v1/sections').set(bearer(centre)).send({
    projectCode: `P-${digits(6)}`, sectionCode: 'S-1', name: '供水管网改造', tendereeId: tenderee, regime: 'tendering_law',
    estimatedPrice: '1000000.00', depositAmount: '20000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
    bidValidityDays: 90, depositBankId: bankId, acceptedSecurity: ['cash'],
  })).body.id;
  const name = `水利建设${digits(4)}有限公司`;
  const number = `62${digits(16)}`;
  await bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: '50000.00' });
  const bidder = (await request(app).post('/v1/bidders').set(bearer(centre)).send({ name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } })).body.id;
  const va = (await request(app).post(`/v1/sections/${section}/deposit-accounts`).set(bearer(centre)).send({ bidderId: bidder })).body.virtualAccount;
  await bankApi('POST', '/sandbox/transfers', { fromAccount: number, toAccount: va, amount: '20000.00', remittance: '投标保证金' });
  await waitFor('the deposit', async () => rt.db('deposits').where({ section_id: section, status: 'valid' }).first());
  expect((await request(app).post(`/v1/sections/${section}/termination`).set(bearer(centre)).send({ reason: '项目取消' })).status).toBeLessThan(300);
  const refund = await waitFor('the refund', async () => rt.db('refunds').where({ section_id: section }).first());
  return { refundId: refund.id, number, principalFen: refund.principal_fen };
}

/** The bidder got its money back exactly once, and the ledger's trust account equals the bank's. */
async function expectPaidOnce(refundId: string, number: string) {
  const refund = await rt.db('refunds').where({ id: refundId }).first();
  expect(refund.status).toBe('settled');
  expect(await rt.db('refund_attempts').where({ refund_id: refundId, status: 'settled' })).toHaveLength(1);
  const account = await bankApi('GET', `/sandbox/accounts/${number}`);
  expect(account.entries.filter((e: { direction: string }) => e.direction === 'credit')).toHaveLength(1);
  expect(parseAmount(account.balance)).toBe(parseAmount('30000.00') + refund.principal_fen + refund.interest_fen + refund.late_fee_fen);
  const balance = async (acct: string) => BigInt((await rt.db('postings').where({ account: acct }).sum({ s: 'amount_fen' }))[0].s ?? 0);
  await waitFor('nothing left in flight', async () => (await balance(`bank:${bankId}:refunds_in_flight`)) === 0n, 10_000);
  const trust = await bankApi('GET', `/sandbox/accounts/${trustNumber}`);
  expect(formatAmount(await balance(`bank:${bankId}:trust`))).toBe(formatAmount(parseAmount(trust.balance, { allowZero: true })));
}

/** Polls an attempt as a second worker would, until it is final. */
async function pollUntilFinal(attemptId: string, what: string, timeoutMs = 30_000) {
  return waitFor(what, async () => {
    const outcome = await pollAttempt(rt, attemptId);
    return outcome !== 'pending' && outcome !== 'unreachable' && outcome;
  }, timeoutMs, 200);
}

describe.each([
  ['paused (SIGSTOP) and resumed', 'SIGSTOP'],
  ['killed (SIGKILL)', 'SIGKILL'],
] as const)('a worker %s while sending, past every grace period, with the instruction in the bank\u2019s queue', (_label, signal) => {
  it('the next attempt carries the same end-to-end id, the bank refuses it as a duplicate, and the refund is paid once', async () => {
    const { refundId, number } = await refundOwed();
    const refund = await rt.db('refunds').where({ id: refundId }).first();
    // Every instruction goes into the bank's queue for longer than any grace, and the answer to
    // this first one comes late: the worker is caught in `sending`.
    await bankApi('POST', '/sandbox/faults', { seed: 3, timeoutRate: 1, lateArrivalRate: 1, lateArrivalMs });
    const worker = startWorkerProcess();
    const first = await waitFor('the first attempt sending', async () => rt.db('refund_attempts').where({ refund_id: refundId, status: 'sending' }).first(), 30_000);
    expect(first.end_to_end_id).toBe(refund.end_to_end_id);
    // The worker is caught only once the bank holds the instruction (its answer comes late by
    // design): the bank's own record of the message says so.
    const held = await waitFor('the bank holding the first instruction', async () => {
      const res = await fetch(`${sandbox.url}/sandbox/payments/${encodeURIComponent(first.message_id)}`);
      return res.status === 200 && ((await res.json()) as { instructions: { endToEndId: string }[] });
    }, 30_000);
    expect(held.instructions.map((i) => i.endToEndId)).toEqual([first.end_to_end_id]);
    worker.kill(signal);
    await bankApi('POST', '/sandbox/faults', { seed: 3, lateArrivalRate: 1, lateArrivalMs });

    // Another worker asks the bank: no record (it is queued), past the staleness and the grace.
    expect(await pollUntilFinal(first.id, 'the first attempt given up as no record')).toBe('no_record');
    expect((await rt.db('refunds').where({ id: refundId }).first()).status).toBe('scheduled');
    // A new attempt: new message id, the same end-to-end id; the bank says it has one already.
    expect(await submitRefund(rt, refundId)).toBe('unknown');
    const second = await rt.db('refund_attempts').where({ refund_id: refundId, seq: 2 }).first();
    expect(second.end_to_end_id).toBe(first.end_to_end_id);
    expect(second.message_id).not.toBe(first.message_id);
    expect(second.last_error).toMatch(/DUPL/);
    // It follows the first instruction until the bank's queue releases it and it settles.
    expect(await pollUntilFinal(second.id, 'the second attempt following the first to settlement', 30_000)).toBe('settled');
    if (signal === 'SIGSTOP') {
      // The paused worker wakes, gets the bank's late answer to the first attempt, and changes nothing.
      worker.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, timeoutHangMs + 1_000));
      worker.kill('SIGTERM');
    }
    await expectPaidOnce(refundId, number);
    const attempts = await rt.db('refund_attempts').where({ refund_id: refundId }).orderBy('seq');
    expect(attempts.map((a) => a.status)).toEqual(['no_record', 'settled']);
    await bankApi('POST', '/sandbox/faults', {});
  }, 90_000);
});

it('an instruction with no final status within the horizon goes to a person as status_unknown; a retry follows it and pays once', async () => {
  const brief = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { ...timing, bankTimeoutMs: 2_000, statusHorizonMs: 3_000 } }) });
  const { refundId, number } = await refundOwed();
  await bankApi('POST', '/sandbox/faults', { seed: 4, lateArrivalRate: 1, lateArrivalMs });
  expect(await submitRefund(brief, refundId)).toBe('sent');
  const first = await rt.db('refund_attempts').where({ refund_id: refundId }).first();
  // The bank acknowledged it, so silence is not "no record": we wait, up to the horizon (3 s here).
  try {
    expect(await waitFor('the horizon passing', async () => {
      const outcome = await pollAttempt(brief, first.id);
      return outcome !== 'pending' && outcome;
    }, 20_000, 200)).toBe('manual');
  } finally {
    await brief.close();
  }
  const r = await request(app).get(`/v1/refunds/${refundId}`).set(bearer(centre));
  expect(r.body).toMatchObject({ status: 'manual', manualCode: 'status_unknown', overdue: true, endToEndId: first.end_to_end_id });
  const overdue = await request(app).get('/v1/refunds?overdue=true&limit=100').set(bearer(centre));
  expect(overdue.body.data.map((x: { id: string }) => x.id)).toContain(refundId);
  const metrics = await request(app).get('/metrics');
  expect(metrics.text).toMatch(/^bidbond_refunds_status_unknown [1-9]\d*$/m);
  // The centre retries once the bank has had its time: the same end-to-end id goes again, the
  // bank refuses it as a duplicate of the first, and the first is what settles.
  await bankApi('POST', '/sandbox/faults', {});
  const retried = await request(app).post(`/v1/refunds/${refundId}/retry`).set(bearer(centre)).send({ decision: '已向银行查询，原指令在途，重新提交以跟踪' });
  expect(retried.status).toBe(200);
  expect(await submitRefund(rt, refundId)).toBe('unknown');
  const second = await rt.db('refund_attempts').where({ refund_id: refundId, seq: 2 }).first();
  expect(second.end_to_end_id).toBe(first.end_to_end_id);
  expect(await pollUntilFinal(second.id, 'the retry following the first to settlement', 30_000)).toBe('settled');
  await expectPaidOnce(refundId, number);
}, 90_000);

it('after "no record" a new attempt is held back for retryAfterNoRecordMs (hours by default), on the database clock', async () => {
  const held = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { ...timing, bankTimeoutMs: 2_000, retryAfterNoRecordMs: 2_500 } }) });
  try {
    const { refundId, number } = await refundOwed();
    await bankApi('POST', '/sandbox/faults', { seed: 5, http500Rate: 1 });
    expect(await submitRefund(held, refundId)).toBe('unknown');
    await bankApi('POST', '/sandbox/faults', {});
    const first = await held.db('refund_attempts').where({ refund_id: refundId }).first();
    await new Promise((r) => setTimeout(r, timing.noRecordGraceMs + 100));
    expect(await pollAttempt(held, first.id)).toBe('no_record');
    const refund = await held.db('refunds').where({ id: refundId }).first();
    expect(refund.status).toBe('scheduled');
    const dbNow = (await held.db.raw('SELECT now() AS now')).rows[0].now as Date;
    expect(refund.not_before.getTime() - dbNow.getTime()).toBeGreaterThan(2_000);
    expect(await submitRefund(held, refundId)).toBe('not_claimable');
    const r = await request(app).get(`/v1/refunds/${refundId}`).set(bearer(centre));
    expect(r.body).toMatchObject({ status: 'scheduled', notBefore: refund.not_before.toISOString() });
    await new Promise((res) => setTimeout(res, refund.not_before.getTime() - dbNow.getTime() + 200));
    expect(await submitRefund(held, refundId)).toBe('sent');
    const second = await held.db('refund_attempts').where({ refund_id: refundId, seq: 2 }).first();
    expect(await pollUntilFinal(second.id, 'settled')).toBe('settled');
    await expectPaidOnce(refundId, number);
  } finally {
    await held.close();
  }
}, 60_000);
