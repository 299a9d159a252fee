// Every credit has an end, through the sandbox bank's customer API: a booking the bank reports
// as a date only on the deadline's day and notifies after the deadline is held for the centre
// (R3), then decided; a payment to a section past its contract (R11) or terminated (R16) is
// returned at once; a date-only booking recovered from a statement (no notice at all) is held.
// Money that goes back reaches the payer's account exactly once.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { parseAmount } from '../../src/domain/money';
import { businessDate } from '../../src/domain/time';
import type { Runtime } from '../../src/runtime';
import { startWorkers, type RunningWorkers } from '../../src/queue/worker';
import { refundJobHandlers } from '../../src/refunds/jobs';
import { timingWith } from '../../src/timing';
import { bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bidderWithSubAccount, customerBankCode, digits, NotificationRelay, startBankWorld, waitFor, type BankWorld } from './reconciliation.support';

let rt: Runtime;
let app: Express;
let server: Server;
let relay: NotificationRelay;
let centre: string;
let bank: BankWorld;
let workers: RunningWorkers;
const worlds: BankWorld[] = [];
let isolated: IsolatedDatabase;
/** What each payer's basic account holds before it pays (bidderWithSubAccount). */
const openingBalanceFen = 20_000_000n;

async function world(): Promise<BankWorld> {
  const w = await startBankWorld(app, centre, relay);
  worlds.push(w);
  return w;
}

beforeAll(async () => {
  // A database and queue prefix of its own: its workers act on every refund and job they find.
  isolated = await createIsolatedDatabase('creditsend');
  rt = await startTestRuntime({ ...isolated.env }, { timing: timingWith({ refunds: { bankTimeoutMs: 1_000, pollDelayMs: 150, pollDelayMaxMs: 1_000, noRecordGraceMs: 1_500, sendingStaleMs: 3_000, retryDelayMs: 100, retryAfterNoRecordMs: 0 } }) });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  relay = new NotificationRelay(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await relay.start();
  centre = await keyFor(rt, 'centre');
  bank = await world();
  workers = await startWorkers(rt, process.env.REDIS_URL!, refundJobHandlers);
});

afterEach(() => {
  relay.drop = false;
});

afterAll(async () => {
  await workers?.close();
  for (const w of worlds) await w.sandbox.close();
  await relay?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

const post = (p: string, body: unknown = {}) => request(app).post(p).set(bearer(centre)).send(body as object);
const deposit = async (id: string) => (await request(app).get(`/v1/deposits/${id}`).set(bearer(centre)).expect(200)).body;

/** A deadline earlier today in Beijing: a booking dated today and notified now is after it. */
function deadlineEarlierToday(): Date {
  const now = Date.now();
  const startOfToday = new Date(`${businessDate(new Date(now))}T00:00:00+08:00`).getTime();
  return new Date(Math.max(startOfToday + 1, now - 60_000));
}

/** The bidder pays through its bank; resolves with the deposit the service made of it. */
async function pay(w: BankWorld, b: { account: string; virtualAccount: string; sectionId: string; bidderId: string }, amount: string, opts: { bookingDateOnly?: boolean } = {}) {
  const before = (await rt.db('deposits').where({ section_id: b.sectionId, bidder_id: b.bidderId }).pluck('id')) as string[];
  await w.bankApi('POST', '/sandbox/transfers', { fromAccount: b.account, toAccount: b.virtualAccount, amount, remittance: '投标保证金', ...opts });
  return waitFor(`the deposit of ${amount}`, async () => rt.db('deposits').where({ section_id: b.sectionId, bidder_id: b.bidderId }).whereNotIn('id', before).first());
}

/** Another bidder with money in its basic account and a sub-account on the section. */
async function joinSection(w: BankWorld, sectionId: string) {
  const name = `市政工程${digits(4)}有限公司`;
  const account = `62${digits(16)}`;
  await w.bankApi('POST', '/sandbox/accounts', { number: account, name, bankCode: customerBankCode, balance: '200000.00' });
  const bidder = await post('/v1/bidders', { name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number: account, name } });
  expect(bidder.status).toBe(201);
  const va = await post(`/v1/sections/${sectionId}/deposit-accounts`, { bidderId: bidder.body.id });
  expect(va.status).toBe(201);
  return { sectionId, bidderId: bidder.body.id as string, account, virtualAccount: va.body.virtualAccount as string };
}

/** Every refund of the deposit settled once, and the payer's account got exactly that back. */
async function expectReturnedOnce(w: BankWorld, depositId: string, payerAccount: string, paidFen: bigint) {
  const refunds = await waitFor('the refund settled', async () => {
    const rows = await rt.db('refunds').where({ deposit_id: depositId });
    return rows.length > 0 && rows.every((r) => r.status === 'settled') && rows;
  });
  expect(refunds).toHaveLength(1);
  expect(await rt.db('refund_attempts').where({ refund_id: refunds[0].id, status: 'settled' })).toHaveLength(1);
  const account = await w.bankApi('GET', `/sandbox/accounts/${payerAccount}`);
  const back = account.entries.filter((e: { direction: string }) => e.direction === 'credit');
  expect(back).toHaveLength(1);
  expect(parseAmount(back[0].amount)).toBe(refunds[0].principal_fen + refunds[0].interest_fen);
  expect(refunds[0].principal_fen).toBe(paidFen);
  // Paid once and returned once: the account holds what it held before, and any interest.
  expect(account.entries.filter((e: { direction: string }) => e.direction === 'debit')).toHaveLength(1);
  expect(parseAmount(account.balance, { allowZero: true })).toBe(openingBalanceFen + refunds[0].interest_fen);
  return refunds[0];
}

describe('R3 a booking the bank dates without a time', () => {
  it('R3 booked on the deadline\'s day and notified after the deadline: held with both facts, then decided late and paid back once', async () => {
    const b = await bidderWithSubAccount(app, centre, bank);
    const deadline = deadlineEarlierToday();
    await rt.db('sections').where({ id: b.sectionId }).update({ bid_deadline: deadline });
    const d = await pay(bank, b, '50000.00', { bookingDateOnly: true });
    expect(d.status).toBe('held');
    const shown = await deposit(d.id);
    expect(shown.held).toMatchObject({ bookingDate: businessDate(deadline), bookingDateOnly: true, notifiedAt: expect.any(String) });
    expect(new Date(shown.held.notifiedAt).getTime()).toBeGreaterThanOrEqual(deadline.getTime());
    expect(shown.credit.bookedAt).toBe(new Date(`${businessDate(deadline)}T00:00:00+08:00`).toISOString());
    // Held: nothing goes back while the centre has not decided.
    await new Promise((r) => setTimeout(r, 300));
    expect(await rt.db('refunds').where({ deposit_id: d.id })).toHaveLength(0);
    const decided = await post(`/v1/deposits/${d.id}/decision`, { decision: 'late', note: '开户行回函：入账时间 10:02，晚于投标截止时间' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'invalid', rules: ['R3'] });
    const refund = await expectReturnedOnce(bank, d.id, b.account, 5_000_000n);
    expect(refund.reason).toBe('invalid');
  });

  it('R3 held, then decided on time: the deposit secures the bid and nothing is returned', async () => {
    const b = await bidderWithSubAccount(app, centre, bank);
    await rt.db('sections').where({ id: b.sectionId }).update({ bid_deadline: deadlineEarlierToday() });
    const d = await pay(bank, b, '50000.00', { bookingDateOnly: true });
    expect(d.status).toBe('held');
    const decided = await post(`/v1/deposits/${d.id}/decision`, { decision: 'on_time', note: '开户行回单：入账时间 09:05' });
    expect(decided.body).toMatchObject({ status: 'valid', secured: '50000.00' });
    expect(await rt.db('refunds').where({ deposit_id: d.id })).toHaveLength(0);
  });

  it('R3 a lost date-only notification recovered from the statement on the deadline\'s day is held: a statement has no notice time', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await rt.db('sections').where({ id: b.sectionId }).update({ bid_deadline: deadlineEarlierToday() });
    relay.drop = true;
    await w.bankApi('POST', '/sandbox/transfers', { fromAccount: b.account, toAccount: b.virtualAccount, amount: '50000.00', remittance: '投标保证金', bookingDateOnly: true });
    await waitFor('the notification dropped', async () => relay.dropped > 0);
    relay.drop = false;
    const res = await post('/v1/reconciliations', { bankId: w.bankId, date: businessDate(new Date()) });
    expect(res.status).toBe(201);
    expect(res.body.matched.recovered).toBe(1);
    const d = await rt.db('deposits').where({ section_id: b.sectionId, bidder_id: b.bidderId }).first();
    expect(d.status).toBe('held');
    const shown = await deposit(d.id);
    expect(shown.held).toMatchObject({ bookingDateOnly: true, notifiedAt: null, reason: expect.stringContaining('statement') });
    expect(shown.credit).toMatchObject({ bookingDateOnly: true, notifiedAt: null });
  });
});

describe('a payment to a section with nothing left to secure goes back at once', () => {
  it('R11 a payment after the contract is returned to its payer once', async () => {
    const winner = await bidderWithSubAccount(app, centre, bank);
    await pay(bank, winner, '50000.00');
    // A second bidder of the same section, whose sub-account was opened before the deadline.
    const other = await joinSection(bank, winner.sectionId);
    await rt.db('sections').where({ id: winner.sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
    expect((await post(`/v1/sections/${winner.sectionId}/opening`)).status).toBe(201);
    const now = new Date();
    expect((await post(`/v1/sections/${winner.sectionId}/award`, { winnerBidderId: winner.bidderId, evaluationReportAt: new Date(now.getTime() - 86400e3).toISOString(), noticeAt: now.toISOString() })).status).toBe(200);
    expect((await post(`/v1/sections/${winner.sectionId}/contract`, { signedAt: now.toISOString() })).status).toBe(200);
    const late = await pay(bank, other, '50000.00');
    expect(late).toMatchObject({ status: 'invalid', failed_rules: ['R11'] });
    const refund = await expectReturnedOnce(bank, late.id, other.account, 5_000_000n);
    expect(refund.reason).toBe('invalid');
  });

  it('R16 a payment after the termination is returned to its payer once', async () => {
    const b = await bidderWithSubAccount(app, centre, bank);
    expect((await post(`/v1/sections/${b.sectionId}/termination`, { reason: '招标项目取消' })).status).toBe(200);
    const late = await pay(bank, b, '30000.00');
    expect(late).toMatchObject({ status: 'invalid', failed_rules: ['R16'] });
    expect((await deposit(late.id)).checks[0].detail).toMatch(/terminated/);
    await expectReturnedOnce(bank, late.id, b.account, 3_000_000n);
  });
});
