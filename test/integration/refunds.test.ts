// Refunds end to end against the sandbox bank over HTTP: a bidder pays its deposit from its
// basic account, the centre opens, awards and signs (or terminates), and the worker sends each
// refund through the sandbox, polls it to a final status and settles it in the ledger. After
// every scenario: each bidder got principal + interest exactly once, and the ledger agrees with
// the bank.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { startSandboxBank, type SandboxBank } from '../../src/sandbox-bank';
import { ensureDevPki } from '../../src/pki/devPki';
import { parseAmount, formatAmount } from '../../src/domain/money';
import { addCalendarDays, businessDate } from '../../src/domain/time';
import type { Runtime } from '../../src/runtime';
import { startWorkers, type RunningWorkers } from '../../src/queue/worker';
import { refundJobHandlers, sweepRefunds } from '../../src/refunds/jobs';
import { pollAttempt, submitRefund } from '../../src/refunds/executor';
import * as mrepo from '../../src/refunds/messagesRepo';
import * as repo from '../../src/refunds/repo';
import { timingWith } from '../../src/timing';
import { registerRefundMetrics } from '../../src/refunds/metrics';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { freePort } from '../../src/db/embedded';

const customerBankCode = '103100000026';
const trustBankCode = '102100099996';
const depositYuan = '50000.00';
const openingBalanceYuan = '100000.00';
/** Interest for 30 days on ¥50,000 at 0.35% (R13): 5,000,000 × 0.0035 × 30 / 360 = 1458.33 fen. */
const interestFor30DaysFen = 1458n;

let rt: Runtime;
let app: Express;
let server: Server;
let sandbox: SandboxBank;
let centre: string;
let bankId: string;
let trustNumber: string;
let workers: RunningWorkers | undefined;
let isolated: IsolatedDatabase;

const digits = (n: number) => {
  let s = String(1 + randomInt(9));
  while (s.length < n) s += String(randomInt(10));
  return s;
};


async function bankApi(method: string, pathname: string, body?: unknown) {
  const res = await fetch(`${sandbox.url}${pathname}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status >= 400) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return json ?? text;
}


beforeAll(async () => {
  // A database and queue prefix of its own: its workers act on every refund and job they find,
  // and a test here empties the refunds queue.
  isolated = await createIsolatedDatabase('refunds');
  rt = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { bankTimeoutMs: 1_000, pollDelayMs: 150, pollDelayMaxMs: 1_000, noRecordGraceMs: 1_500, sendingStaleMs: 3_000, retryDelayMs: 100, retryAfterNoRecordMs: 0 } }) });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  centre = await keyFor(rt, 'centre');
  // The sandbox signs with a certificate of the development root the runtime trusts.
  const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  const certPem = readFileSync(pki.sandboxCert, 'utf8');
  const port = await freePort();
  trustNumber = `110${digits(12)}`;
  const prefix = digits(9);
  const bank = await request(app)
    .post('/v1/banks')
    .set(bearer(centre))
    .send({
      name: '沙箱银行',
      bankCode: trustBankCode,
      adapter: 'sandbox',
      endpoint: `http://127.0.0.1:${port}`,
      certificatePem: certPem,
      trustAccount: { number: trustNumber, name: '公共资源交易中心投标保证金专户' },
      virtualAccountPrefix: prefix,
    });
  expect(bank.status).toBe(201);
  bankId = bank.body.id;
  sandbox = await startSandboxBank({
    port,
    databaseUrl: isolated.url,
    schema: `sandbox_rf_${randomBytes(5).toString('hex')}`,
    dataDir: path.join(testDataDir(), 'sandbox'),
    signingKeyPath: pki.sandboxKey,
    signingCertPath: pki.sandboxCert,
    trustAccount: { number: trustNumber, name: '公共资源交易中心投标保证金专户', bankCode: trustBankCode },
    virtualPrefix: prefix,
    notifyUrl: `${appUrl}/v1/banks/${bankId}/notifications`,
    settleDelayMs: 50,
    lostStatusMs: 800,
    timeoutHangMs: 2_500,
    notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });
  // The certificate registered is the one the bank serves.
  expect(String(await bankApi('GET', '/sandbox/certificate')).trim()).toBe(certPem.trim());
  // Interest (R13) is paid out of the trust account on top of the deposits: fund it. The
  // payment lands in suspense (R15), which is what an unexplained credit should do.
  const funder = `62${digits(16)}`;
  await bankApi('POST', '/sandbox/accounts', { number: funder, name: '交易中心利息备付', bankCode: customerBankCode, balance: '10000.00' });
  await bankApi('POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: '5000.00', remittance: '利息备付金' });
  await waitFor('the funding credit', async () => (await rt.db('credits').where({ bank_id: bankId })).length === 1);
});

afterEach(async () => {
  await bankApi('POST', '/sandbox/faults', {});
  await workers?.close();
  workers = undefined;
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

interface Bidder {
  id: string;
  number: string;
  name: string;
  depositId: string;
}

/** A section and `n` bidders who each paid the deposit from their basic account, valued 30
 *  days ago so that interest is owed. */
async function paidSection(n: number, regime: 'tendering_law' | 'government_procurement' = 'tendering_law') {
  const tendereeId = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市交通运输局', uscc: uniqueUscc() })).body.id;
  const section = await request(app)
    .post('/v1/sections')
    .set(bearer(centre))
    .send({
      projectCode: `P-${digits(8)}`,
      sectionCode: `S-${digits(6)}`,
      name: '国道改扩建工程二标段',
      tendereeId,
      regime,
      estimatedPrice: '5000000.00',
      depositAmount: depositYuan,
      currency: 'CNY',
      bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
      bidValidityDays: 90,
      depositBankId: bankId,
      acceptedSecurity: ['cash'],
    });
  expect(section.status).toBe(201);
  const bidders: Bidder[] = [];
  for (let i = 0; i < n; i++) {
    const name = `路桥建设${digits(4)}有限公司`;
    const number = `62${digits(16)}`;
    await bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: openingBalanceYuan });
    const b = await request(app).post('/v1/bidders').set(bearer(centre)).send({ name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } });
    expect(b.status).toBe(201);
    const va = (await request(app).post(`/v1/sections/${section.body.id}/deposit-accounts`).set(bearer(centre)).send({ bidderId: b.body.id })).body.virtualAccount;
    await bankApi('POST', '/sandbox/transfers', { fromAccount: number, toAccount: va, amount: depositYuan, remittance: '投标保证金' });
    const dep = await waitFor(`deposit of ${name}`, async () => rt.db('deposits').where({ section_id: section.body.id, bidder_id: b.body.id, status: 'valid' }).first());
    await rt.db('credits').where({ id: dep.credit_id }).update({ value_date: addCalendarDays(businessDate(new Date()), -30) });
    bidders.push({ id: b.body.id, number, name, depositId: dep.id });
  }
  return { sectionId: section.body.id as string, bidders };
}

const post = (p: string, body: unknown = {}) => request(app).post(p).set(bearer(centre)).send(body as object);

async function openAwardContract(sectionId: string, winnerId: string) {
  await rt.db('sections').where({ id: sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
  expect((await post(`/v1/sections/${sectionId}/opening`)).status).toBe(201);
  const now = new Date();
  const award = await post(`/v1/sections/${sectionId}/award`, { winnerBidderId: winnerId, evaluationReportAt: new Date(now.getTime() - 86400e3).toISOString(), noticeAt: now.toISOString() });
  expect(award.status).toBe(200);
  const contract = await post(`/v1/sections/${sectionId}/contract`, { signedAt: now.toISOString() });
  expect(contract.status).toBe(200);
  return contract.body.refundIds as string[];
}

async function allFinal(sectionId: string, timeoutMs = 45_000) {
  return waitFor(
    'every refund final',
    async () => {
      const rows = await rt.db('refunds').where({ section_id: sectionId });
      return rows.length > 0 && rows.every((r) => r.status === 'settled' || r.status === 'manual') && rows;
    },
    timeoutMs,
  );
}

/** Each bidder's account got its deposit back with interest exactly once, the ledger balances
 *  and the trust account in the ledger equals the bank's. */
async function expectPaidOnceAndLedgerAgrees(bidders: Bidder[], opts: { expectAllSettled?: boolean } = {}) {
  for (const b of bidders) {
    const refunds = await rt.db('refunds').where({ deposit_id: b.depositId });
    const settled = refunds.filter((r) => r.status === 'settled');
    if (opts.expectAllSettled !== false) expect(settled).toHaveLength(1);
    const account = await bankApi('GET', `/sandbox/accounts/${b.number}`);
    const credits = account.entries.filter((e: { direction: string }) => e.direction === 'credit');
    expect(credits).toHaveLength(settled.length);
    const paidBack = settled.reduce((s: bigint, r: any) => s + r.principal_fen + r.interest_fen + r.late_fee_fen, 0n);
    expect(parseAmount(account.balance, { allowZero: true })).toBe(parseAmount(openingBalanceYuan) - parseAmount(depositYuan) + paidBack);
    // Never two settled attempts for one refund.
    for (const r of refunds) {
      expect(await rt.db('refund_attempts').where({ refund_id: r.id, status: 'settled' })).toHaveLength(r.status === 'settled' ? 1 : 0);
    }
  }
  const [{ total }] = await rt.db('postings').sum({ total: 'amount_fen' });
  expect(BigInt(total ?? 0)).toBe(0n);
  const balance = async (account: string) => BigInt((await rt.db('postings').where({ account }).sum({ s: 'amount_fen' }))[0].s ?? 0);
  await waitFor('no refund in flight', async () => (await balance(`bank:${bankId}:refunds_in_flight`)) === 0n, 10_000);
  const trust = await bankApi('GET', `/sandbox/accounts/${trustNumber}`);
  expect(formatAmount(await balance(`bank:${bankId}:trust`))).toBe(formatAmount(parseAmount(trust.balance, { allowZero: true })));
}

describe('refunds through the sandbox bank', () => {
  it('R11 R13 credit → opening → award → contract → every deposit back with 30 days of interest, settled once, with a voucher', async () => {
    const { sectionId, bidders } = await paidSection(2);
    const refundIds = await openAwardContract(sectionId, bidders[0].id);
    expect(refundIds).toHaveLength(2);
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    const rows = await allFinal(sectionId);
    expect(rows.map((r) => [r.status, r.interest_fen, r.late_fee_fen])).toEqual([
      ['settled', interestFor30DaysFen, 0n],
      ['settled', interestFor30DaysFen, 0n],
    ]);
    await expectPaidOnceAndLedgerAgrees(bidders);
    const one = await request(app).get(`/v1/refunds/${refundIds[0]}`).set(bearer(centre));
    expect(one.body).toMatchObject({ status: 'settled', principal: '50000.00', interest: '14.58', lateFee: '0.00', total: '50014.58', overdue: false });
    expect(one.body.attempts).toHaveLength(1);
    expect(one.body.attempts[0]).toMatchObject({ status: 'settled', bankStatus: 'ACSC', amount: '50014.58', creditor: { number: expect.any(String) } });
    const voucher = await rt.db('vouchers').where({ kind: 'refund_voucher', subject_id: refundIds[0] }).first();
    expect(voucher.data).toMatchObject({ principalFen: '5000000', interestFen: '1458', totalFen: '5001458', rules: ['R11', 'R13', 'R17'], reason: 'contract_signed' });
    expect((await rt.db('deposits').where({ id: bidders[0].depositId }).first()).status).toBe('refunded');
    // A bidder sees its own refunds and nobody else's.
    const key = await keyFor(rt, 'bidder', { bidderId: bidders[1].id });
    const mine = await request(app).get('/v1/refunds').set(bearer(key));
    expect(mine.body.data.map((r: { bidderId: string }) => r.bidderId)).toEqual([bidders[1].id]);
    expect((await request(app).get(`/v1/refunds/${refundIds[0]}`).set(bearer(key))).status).toBe(rows.find((r) => r.id === refundIds[0])!.bidder_id === bidders[1].id ? 200 : 404);
  });

  it('R16 termination under faults (rejects, timeouts, lost statuses, 500s): every refund settles exactly once, none is sent twice', async () => {
    const { sectionId, bidders } = await paidSection(6, 'government_procurement');
    await bankApi('POST', '/sandbox/faults', { seed: 20261127, rejectRate: 0.25, timeoutRate: 0.25, lostStatusRate: 0.3, http500Rate: 0.2 });
    const res = await post(`/v1/sections/${sectionId}/termination`, { reason: '项目取消' });
    expect(res.status).toBe(200);
    expect(res.body.refundIds).toHaveLength(6);
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    const rows = await allFinal(sectionId, 90_000);
    expect(rows.every((r) => r.status === 'settled')).toBe(true);
    await expectPaidOnceAndLedgerAgrees(bidders);
    const attempts = await rt.db('refund_attempts').whereIn('refund_id', rows.map((r) => r.id));
    // Faults happened and were recovered from by new attempts in new messages, each carrying its
    // refund's one end-to-end id, so the bank could never pay one refund twice.
    expect(attempts.length).toBeGreaterThan(6);
    expect(new Set(attempts.map((a) => a.end_to_end_id)).size).toBe(rows.length);
    for (const r of rows) expect(new Set(attempts.filter((a) => a.refund_id === r.id).map((a) => a.end_to_end_id))).toEqual(new Set([r.end_to_end_id]));
    // A refund's attempts went in different messages, and no message carried a refund twice.
    for (const r of rows) {
      const mine = attempts.filter((a) => a.refund_id === r.id);
      expect(new Set(mine.map((a) => a.message_id)).size).toBe(mine.length);
    }
    for (const a of attempts.filter((x) => x.status === 'rejected')) expect(a.reason_code).toBeTruthy();
  }, 120_000);

  it('R17 a closed account sends the refund to manual handling; only a recorded decision pays another account', async () => {
    const { sectionId, bidders } = await paidSection(1);
    await bankApi('POST', `/sandbox/accounts/${bidders[0].number}/close`);
    const [refundId] = await openAwardContract(sectionId, bidders[0].id);
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    await allFinal(sectionId);
    const manual = await request(app).get(`/v1/refunds/${refundId}`).set(bearer(centre));
    expect(manual.body).toMatchObject({ status: 'manual', lastReasonCode: 'AC04' });
    expect(manual.body.attempts).toHaveLength(1);
    expect(manual.body.attempts[0]).toMatchObject({ status: 'rejected', reasonCode: 'AC04' });
    const [{ s: inFlight }] = await rt.db('postings').where({ account: `bank:${bankId}:refunds_in_flight` }).sum({ s: 'amount_fen' });
    expect(BigInt(inFlight ?? 0)).toBe(0n);

    const newNumber = `62${digits(16)}`;
    await bankApi('POST', '/sandbox/accounts', { number: newNumber, name: bidders[0].name, bankCode: customerBankCode, balance: '0.00' });
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: bidders[0].id });
    expect((await request(app).post(`/v1/refunds/${refundId}/retry`).set(bearer(bidderKey)).send({ decision: 'x' })).status).toBe(404);
    const retry = await post(`/v1/refunds/${refundId}/retry`, { decision: '基本账户已销户，凭开户许可证变更为新基本账户', account: { number: newNumber, name: bidders[0].name, bankCode: customerBankCode } });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'scheduled', decisions: [{ account: { number: newNumber } }] });
    const again = await post(`/v1/refunds/${refundId}/retry`, { decision: 'twice' });
    expect([again.status, again.body.error?.code]).toEqual([409, 'illegal_transition']);
    await waitFor('the refund settles to the decided account', async () => (await rt.db('refunds').where({ id: refundId }).first()).status === 'settled');
    const paid = await bankApi('GET', `/sandbox/accounts/${newNumber}`);
    expect(parseAmount(paid.balance, { allowZero: true })).toBe(5000000n + interestFor30DaysFen);
    const closed = await bankApi('GET', `/sandbox/accounts/${bidders[0].number}`);
    expect(closed.entries.filter((e: { direction: string }) => e.direction === 'credit')).toHaveLength(0);
  });

  /** A transaction that locks a refund's row (waiting its turn) and holds it until released. */
  function holdRefundRow(refundId: string) {
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const released = new Promise<void>((r) => (release = r));
    const done = rt.db.transaction(async (tx) => {
      await repo.lockRefund(tx, refundId);
      locked();
      await released;
    });
    return { isLocked, release: async () => (release(), done) };
  }

  it('a submit job whose refund another transaction holds at its claim waits for that one to end and sends the refund, once', async () => {
    const { sectionId, bidders } = await paidSection(1);
    const [refundId] = await openAwardContract(sectionId, bidders[0].id);
    // What a person's retry does before it is refused (the refund is not in manual handling):
    // it holds the refund's row, and the claim's SKIP LOCKED passes over it.
    const holder = holdRefundRow(refundId);
    await holder.isLocked;
    let answered = false;
    const submitted = submitRefund(rt, refundId).finally(() => (answered = true));
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false);
    } finally {
      await holder.release();
    }
    expect(await submitted).not.toBe('not_claimable');
    const attempts = await rt.db('refund_attempts').where({ refund_id: refundId });
    expect(attempts).toHaveLength(1);
    await waitFor('settled', async () => (await pollAttempt(rt, attempts[0].id)) === 'settled' || (await rt.db('refunds').where({ id: refundId }).first()).status === 'settled');
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('a submit job whose refund is held again the moment it is free fails, for its back-off to try again, and has sent nothing', async () => {
    const { sectionId, bidders } = await paidSection(1);
    const [refundId] = await openAwardContract(sectionId, bidders[0].id);
    const first = holdRefundRow(refundId);
    await first.isLocked;
    const submitted = submitRefund(rt, refundId).then(
      (o) => ({ outcome: o }),
      (err: Error) => ({ error: err.message }),
    );
    // The job's claim has passed over the row and it waits for the row's holder; a second holder
    // queues behind it and takes the row as soon as the job's wait has ended.
    await new Promise((r) => setTimeout(r, 300));
    const second = holdRefundRow(refundId);
    await new Promise((r) => setTimeout(r, 300));
    await first.release();
    await second.isLocked;
    try {
      expect(await submitted).toEqual({ error: `refund ${refundId} is due but was held by another transaction at two claims in a row` });
    } finally {
      await second.release();
    }
    expect(await rt.db('refund_attempts').where({ refund_id: refundId })).toHaveLength(0);
    expect((await request(app).get(`/v1/refunds/${refundId}`).set(bearer(centre))).body).toMatchObject({ status: 'scheduled', attempts: [] });
    // Tried again (as the job's back-off does), it is sent once.
    expect(await submitRefund(rt, refundId)).not.toBe('not_claimable');
    const attempts = await rt.db('refund_attempts').where({ refund_id: refundId });
    expect(attempts).toHaveLength(1);
    await waitFor('settled', async () => (await pollAttempt(rt, attempts[0].id)) === 'settled' || (await rt.db('refunds').where({ id: refundId }).first()).status === 'settled');
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('two workers racing for the same refunds put each in exactly one message, and submit it once', async () => {
    const { sectionId, bidders } = await paidSection(3);
    const refundIds = await openAwardContract(sectionId, bidders[0].id);
    const rt2 = await startTestRuntime({ ...isolated.env });
    try {
      const outcomes = await Promise.all(refundIds.flatMap((id) => [submitRefund(rt, id), submitRefund(rt2, id), submitRefund(rt, id)]));
      // Whichever call claimed first took every refund due at the bank into its message; each
      // refund was claimed by exactly one call.
      expect(outcomes.filter((o) => o !== 'not_claimable').length).toBeGreaterThanOrEqual(1);
      expect(outcomes.filter((o) => o !== 'not_claimable').length).toBeLessThanOrEqual(refundIds.length);
      // Both processes poll every attempt until it is final; each is applied once.
      await waitFor(
        'settled',
        async () => {
          const live = await rt.db('refund_attempts').whereIn('refund_id', refundIds).whereIn('status', ['sending', 'sent', 'sent_unknown']).pluck('id');
          await Promise.all(live.flatMap((id: string) => [pollAttempt(rt, id), pollAttempt(rt2, id)]));
          return live.length === 0;
        },
        30_000,
        200,
      );
    } finally {
      await rt2.close();
    }
    const rows = await rt.db('refunds').whereIn('id', refundIds);
    expect(rows.every((r) => r.status === 'settled')).toBe(true);
    expect(await rt.db('refund_attempts').whereIn('refund_id', refundIds)).toHaveLength(refundIds.length);
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('a poll counted while a status is being applied to the same message waits for it instead of deadlocking', async () => {
    const { sectionId, bidders } = await paidSection(2);
    const refundIds = await openAwardContract(sectionId, bidders[0].id);
    for (const id of refundIds) await submitRefund(rt, id);
    const attempts = await rt.db('refund_attempts').whereIn('refund_id', refundIds).whereIn('status', ['sending', 'sent', 'sent_unknown']);
    expect(attempts.length).toBe(refundIds.length);
    const message = (await mrepo.findMessage(rt.db, attempts[0].message_id))!;
    const ours = attempts.filter((a) => a.message_id === message.id);
    let counted: Promise<number> | undefined;
    // As applyStatuses does: the attempts locked first, then settled, the message finished last
    // (then rolled back here, having shown the order). The poll counted meanwhile on another
    // connection must queue behind it, not take the message first.
    const rolledBack = new Error('rolled back');
    await expect(
      rt.db.transaction(async (tx) => {
        await mrepo.lockInFlight(tx, ours.map((a) => a.id));
        counted = rt.db.transaction((other) => mrepo.countMessagePoll(other, message, { nextPollAt: new Date(Date.now() + 60_000), lastError: null, now: new Date() }));
        await new Promise((r) => setTimeout(r, 300));
        await mrepo.markAttemptsSettled(tx, ours.map((a) => ({ id: a.id, bankStatus: 'ACSC', bankReference: null })), new Date());
        await mrepo.finishMessageIfDone(tx, message.id, new Date());
        expect((await tx('refund_messages').where({ id: message.id }).first()).status).toBe('finished');
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    await expect(counted).resolves.toBe(1);
    expect((await mrepo.findMessage(rt.db, message.id))!.polls).toBe(message.polls + 1);
  });

  it('an emptied Redis loses nothing: the sweep finds the scheduled refunds again', async () => {
    const { sectionId, bidders } = await paidSection(2);
    await openAwardContract(sectionId, bidders[1].id);
    // Hand the jobs to Redis, then lose them all.
    await waitFor('outbox relayed', async () => (await rt.db('outbox').whereNull('dispatched_at').where({ queue: 'refunds' })).length === 0);
    await rt.queues.refunds.obliterate({ force: true });
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    // One submit job for the bank, whose message takes both refunds.
    expect(await sweepRefunds(rt)).toBeGreaterThanOrEqual(1);
    await allFinal(sectionId);
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('a 500 from the bank is an unknown outcome: status is asked, and only "no record" after the grace period allows a new attempt', async () => {
    const { sectionId, bidders } = await paidSection(1);
    const [refundId] = await openAwardContract(sectionId, bidders[0].id);
    await bankApi('POST', '/sandbox/faults', { seed: 1, http500Rate: 1 });
    expect(await submitRefund(rt, refundId)).toBe('unknown');
    await bankApi('POST', '/sandbox/faults', {});
    const first = await rt.db('refund_attempts').where({ refund_id: refundId }).first();
    expect(first.status).toBe('sent_unknown');
    // The bank has no record (404), but a request that timed out might still arrive: wait.
    expect(await pollAttempt(rt, first.id)).toBe('pending');
    await new Promise((r) => setTimeout(r, rt.timing.refunds.noRecordGraceMs + 50));
    expect(await pollAttempt(rt, first.id)).toBe('no_record');
    expect(await submitRefund(rt, refundId)).toBe('sent');
    const second = await rt.db('refund_attempts').where({ refund_id: refundId, seq: 2 }).first();
    await waitFor('settled', async () => (await pollAttempt(rt, second.id)) === 'settled' || (await rt.db('refunds').where({ id: refundId }).first()).status === 'settled');
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('a timed-out submission the bank did record is never sent again: polling finds it settled', async () => {
    const { sectionId, bidders } = await paidSection(1);
    const [refundId] = await openAwardContract(sectionId, bidders[0].id);
    await bankApi('POST', '/sandbox/faults', { seed: 2, timeoutRate: 1 });
    expect(await submitRefund(rt, refundId)).toBe('unknown');
    await bankApi('POST', '/sandbox/faults', {});
    const attempt = await rt.db('refund_attempts').where({ refund_id: refundId }).first();
    await waitFor('settled', async () => (await pollAttempt(rt, attempt.id)) === 'settled', 15_000, 300);
    expect(await rt.db('refund_attempts').where({ refund_id: refundId })).toHaveLength(1);
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('R13 R11 a non-winner refunded late under government procurement gets interest and the late fee', async () => {
    const { sectionId, bidders } = await paidSection(2, 'government_procurement');
    await rt.db('sections').where({ id: sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
    expect((await post(`/v1/sections/${sectionId}/opening`)).status).toBe(201);
    const now = new Date();
    const award = await post(`/v1/sections/${sectionId}/award`, { winnerBidderId: bidders[0].id, evaluationReportAt: new Date(now.getTime() - 86400e3).toISOString(), noticeAt: now.toISOString() });
    const [refundId] = award.body.refundIds;
    // Ten days past its due date before the worker gets to it.
    await rt.db('refunds').where({ id: refundId }).update({ due_by: addCalendarDays(businessDate(new Date()), -10) });
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    await waitFor('settled', async () => (await rt.db('refunds').where({ id: refundId }).first()).status === 'settled');
    // 5,000,000 × 3.00% × 1.2 × 10 / 360 = 5000 fen.
    expect(await rt.db('refunds').where({ id: refundId }).first()).toMatchObject({ interest_fen: interestFor30DaysFen, late_fee_fen: 5000n });
    await expectPaidOnceAndLedgerAgrees([bidders[1]]);
    const voucher = await rt.db('vouchers').where({ kind: 'refund_voucher', subject_id: refundId }).first();
    expect(voucher.data).toMatchObject({ lateFeeFen: '5000', reason: 'not_awarded', lateFee: { days: 10, annualRatePercent: '3.60' } });
  });

  it('R9 a withdrawal before the deadline is refunded through the bank', async () => {
    const { sectionId, bidders } = await paidSection(1);
    const res = await post(`/v1/sections/${sectionId}/withdrawals`, { bidderId: bidders[0].id });
    expect(res.status).toBeLessThan(300);
    const refund = await waitFor('withdrawal refund', async () => rt.db('refunds').where({ deposit_id: bidders[0].depositId, reason: 'withdrawal' }).first());
    expect(refund.due_by).toBe(addCalendarDays(businessDate(new Date()), 5));
    workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
    // The submit job recorded with the withdrawal waits on the queue for these workers; the
    // sweep enqueues the refund again while it is still scheduled, and the claim lets only one
    // of the two jobs send it: the bidder is paid once.
    await sweepRefunds(rt);
    await allFinal(sectionId);
    await expectPaidOnceAndLedgerAgrees(bidders);
  });

  it('reports refund gauges and lists overdue refunds', async () => {
    registerRefundMetrics(rt.metrics.registry, rt.db);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/bidbond_refunds_due \d+/);
    expect(metrics.text).toMatch(/bidbond_refunds_manual \d+/);
    const { sectionId, bidders } = await paidSection(1);
    await openAwardContract(sectionId, bidders[0].id);
    const [refund] = await rt.db('refunds').where({ section_id: sectionId });
    // Make it look ten days old and unpaid (no worker runs here).
    await rt.db.raw(`UPDATE refunds SET due_by = due_by - 10 WHERE id = ?`, [refund.id]);
    const overdue = await request(app).get(`/v1/refunds?sectionId=${sectionId}&overdue=true`).set(bearer(centre));
    expect(overdue.body.data.map((r: { id: string; overdue: boolean }) => [r.id, r.overdue])).toEqual([[refund.id, true]]);
    const gauges = await request(app).get('/metrics');
    expect(Number(/bidbond_refunds_overdue (\d+)/.exec(gauges.text)![1])).toBeGreaterThanOrEqual(1);
  });
});
