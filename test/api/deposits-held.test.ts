// R3 for bookings a bank reports as a date only (camt.054 BookgDt/Dt), and credits to a section
// that has nothing left to secure (R11, R16). A date-only booking is bounded by its notice: the
// bank books before it notifies. On the deadline's own day with the notice after the deadline,
// the deposit is held for the centre's decision, never accepted or rejected silently.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import { addCalendarDays, businessDate } from '../../src/domain/time';
import { hashKey } from '../../src/http/auth';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';

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
afterEach(async () => {
  await w.expectLedgerConsistent(bank.id);
});
afterAll(async () => {
  await rt.close();
});

async function setup(opts: Parameters<DepositWorld['section']>[1] = {}) {
  const section = await w.section(bank.id, opts);
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const payer = { name: bidder.account.name, number: bidder.account.number };
  return { section, bidder, va, payer };
}

const setDeadline = (sectionId: string, at: Date) => rt.db('sections').where({ id: sectionId }).update({ bid_deadline: at });
const deposit = (id: string, key = w.centre) => request(app).get(`/v1/deposits/${id}`).set(bearer(key));
const decide = (id: string, body: unknown, key = w.centre) => request(app).post(`/v1/deposits/${id}/decision`).set(bearer(key)).send(body as object);
const refundsOf = (depositId: string) => rt.db('refunds').where({ deposit_id: depositId }).orderBy('id');
const r3Of = (d: { checks: { rule: string; ok: boolean; detail: string }[] }) => d.checks.find((c) => c.rule === 'R3')!;

/** The bank notifies a credit booked on `bookedOn` and reports only that date (BookgDt/Dt). */
async function notifyDateOnly(va: string, payer: { name: string; number: string }, bookedOn: string, amount = '50000.00') {
  const credit = {
    entryRef: `D${randomDigits(12)}`,
    virtualAccount: va,
    amountFen: BigInt(amount.replace('.', '')),
    currency: 'CNY',
    bookedAt: new Date(`${bookedOn}T00:00:00+08:00`).toISOString(),
    bookingDateOnly: true,
    valueDate: bookedOn,
    debtor: { name: payer.name, accountNumber: payer.number, bankCode: '102100099996' },
    remittance: '投标保证金',
  };
  const xml = buildCamt054({ messageId: `M${randomDigits(14)}`, createdAt: new Date(), account: va, credits: [credit] });
  const res = await w.notify(bank, xml, 'application/xml');
  expect([res.status, res.body.accepted]).toEqual([200, 1]);
  return res.body.depositIds[0] as string;
}

/** A deadline earlier today in Beijing, and a notice now, after it: the case R3 cannot decide. */
function deadlineEarlierToday(): Date {
  const now = Date.now();
  const startOfToday = new Date(`${businessDate(new Date(now))}T00:00:00+08:00`).getTime();
  return new Date(Math.max(startOfToday + 1, now - 60_000));
}

/** A date-only deposit on the deadline's day, notified after the deadline: held. */
async function heldDeposit(amount = '50000.00') {
  const s = await setup();
  const deadline = deadlineEarlierToday();
  await setDeadline(s.section.id, deadline);
  const depositId = await notifyDateOnly(s.va, s.payer, businessDate(deadline), amount);
  return { ...s, deadline, depositId };
}

describe('R3 with a booking date only', () => {
  it('R3 a booking dated a day before the deadline\'s is on time, though notified after the deadline', async () => {
    const { section, va, payer } = await setup();
    const deadline = new Date(Date.now() - 60_000);
    await setDeadline(section.id, deadline);
    const id = await notifyDateOnly(va, payer, addCalendarDays(businessDate(deadline), -1));
    const d = (await deposit(id)).body;
    expect(d).toMatchObject({ status: 'valid', secured: '50000.00', rules: [], held: null });
    expect(r3Of(d)).toMatchObject({ ok: true });
    expect(d.credit).toMatchObject({ bookingDateOnly: true, notifiedAt: expect.any(String) });
  });

  it('R3 a booking dated the deadline\'s day and notified before the deadline is on time: the bank booked before it notified', async () => {
    const { section, va, payer } = await setup();
    const deadline = new Date(Date.now() + 10 * 60_000);
    await setDeadline(section.id, deadline);
    const id = await notifyDateOnly(va, payer, businessDate(deadline));
    const d = (await deposit(id)).body;
    expect(d).toMatchObject({ status: 'valid', secured: '50000.00' });
    expect(r3Of(d).detail).toContain('notified');
    expect(new Date(d.credit.notifiedAt).getTime()).toBeLessThan(deadline.getTime());
  });

  it('R3 a booking dated a later day than the deadline\'s is late: invalid and returned to its source', async () => {
    const { section, va, payer } = await setup();
    const deadline = new Date(Date.now() - 2 * 86400e3);
    await setDeadline(section.id, deadline);
    const id = await notifyDateOnly(va, payer, businessDate(new Date()));
    const d = (await deposit(id)).body;
    expect(d).toMatchObject({ status: 'invalid', rules: ['R3'], secured: '0.00' });
    expect(await refundsOf(id)).toEqual([expect.objectContaining({ reason: 'invalid', principal_fen: 5000000n, creditor_account_number: payer.number })]);
  });

  it('R3 a booking dated the deadline\'s day and notified after it is held with both facts shown, secures nothing and is not refunded', async () => {
    const { depositId, deadline, section, bidder } = await heldDeposit();
    const d = (await deposit(depositId)).body;
    expect(d).toMatchObject({ status: 'held', secured: '0.00', rules: [] });
    expect(d.held).toEqual({ reason: expect.stringContaining('cannot be told'), bookingDate: businessDate(deadline), bookingDateOnly: true, notifiedAt: d.credit.notifiedAt });
    expect(new Date(d.held.notifiedAt).getTime()).toBeGreaterThanOrEqual(deadline.getTime());
    expect(d.held.reason).toContain(`booked on ${businessDate(deadline)}`);
    expect(d.held.reason).toContain(`notified ${d.credit.notifiedAt}`);
    expect(await refundsOf(depositId)).toHaveLength(0);
    // The money is in the trust account, owed to the deposit: posted, not returned.
    expect(d.ledger[0].postings).toEqual([
      { account: `bank:${bank.id}:trust`, amount: '50000.00', side: 'debit' },
      { account: `deposit:${depositId}`, amount: '-50000.00', side: 'credit' },
    ]);
    expect(await rt.db('vouchers').where({ kind: 'deposit_receipt', subject_id: depositId })).toHaveLength(0);
    const list = await request(app).get(`/v1/deposits?status=held&sectionId=${section.id}`).set(bearer(w.centre));
    expect(list.body.data.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[depositId, 'held']]);
    // The bidder sees its own held deposit and why.
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    expect((await deposit(depositId, bidderKey)).body).toMatchObject({ status: 'held', held: { bookingDate: businessDate(deadline) } });
    const audit = await rt.db('audit_events').where({ entity_id: depositId, action: 'deposit.held' });
    expect(audit).toHaveLength(1);
  });

  it('R3 the centre decides a held deposit on time: judged by R4 as usual, the excess returned, the decision audited with its key', async () => {
    const { depositId, payer } = await heldDeposit('60000.00');
    const res = await decide(depositId, { decision: 'on_time', note: '银行回单显示入账时间 09:12，早于截止时间' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'valid', secured: '50000.00', excess: '10000.00', rules: [] });
    expect(r3Of(res.body)).toMatchObject({ ok: true, detail: expect.stringContaining('decided on time') });
    expect(res.body.checks.find((c: { rule: string }) => c.rule === 'R4')).toMatchObject({ ok: true });
    expect(await refundsOf(depositId)).toEqual([expect.objectContaining({ reason: 'excess', principal_fen: 1000000n, creditor_account_number: payer.number })]);
    expect(await rt.db('vouchers').where({ kind: 'deposit_receipt', subject_id: depositId })).toHaveLength(1);
    const [event] = await rt.db('audit_events').where({ entity_id: depositId, action: 'deposit.held_decided' });
    const centreKeyId = (await rt.db('api_keys').where({ key_hash: hashKey(w.centre) }).first()).id;
    expect(event).toMatchObject({ actor_type: 'centre', actor_id: centreKeyId });
    expect(event.data).toMatchObject({ decision: 'on_time', note: '银行回单显示入账时间 09:12，早于截止时间', decidedBy: centreKeyId, status: 'valid' });
    // Decided once: a second decision finds it no longer held.
    const again = await decide(depositId, { decision: 'late', note: 'x' });
    expect([again.status, again.body.error?.code]).toEqual([409, 'not_held']);
  });

  it('R3 the centre decides a held deposit late: invalid with R3 and returned to its source', async () => {
    const { depositId, payer } = await heldDeposit();
    const res = await decide(depositId, { decision: 'late', note: '银行确认入账时间 10:05，晚于截止时间' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'invalid', rules: ['R3'], secured: '0.00' });
    expect(r3Of(res.body)).toMatchObject({ ok: false, detail: expect.stringContaining('decided late') });
    expect(res.body.refunds).toEqual([expect.objectContaining({ reason: 'invalid', principal: '50000.00' })]);
    expect(await refundsOf(depositId)).toEqual([expect.objectContaining({ reason: 'invalid', creditor_account_number: payer.number })]);
  });

  it('R3 two decisions at once: one is applied, the other finds the deposit no longer held', async () => {
    const { depositId } = await heldDeposit();
    const answers = await Promise.all([decide(depositId, { decision: 'on_time', note: 'a' }), decide(depositId, { decision: 'late', note: 'b' })]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const applied = answers.find((a) => a.status === 200)!.body;
    expect(await rt.db('audit_events').where({ entity_id: depositId, action: 'deposit.held_decided' })).toHaveLength(1);
    expect((await refundsOf(depositId)).map((r) => r.reason)).toEqual(applied.status === 'invalid' ? ['invalid'] : []);
  });

  it('R4 a timely credit notified only after the opening and still short goes back: it can no longer be topped up in time', async () => {
    const { section, va, payer } = await setup();
    await setDeadline(section.id, new Date(Date.now() - 60_000));
    expect((await request(app).post(`/v1/sections/${section.id}/opening`).set(bearer(w.centre)).send({})).status).toBe(201);
    const res = await w.notify(bank, jsonNotification([entry(va, '30000.00', payer, { bookedAt: new Date(Date.now() - 86400e3) })]));
    const d = (await deposit(res.body.depositIds[0])).body;
    expect(d).toMatchObject({ status: 'invalid', rules: ['R4'] });
    expect(d.checks.find((c: { rule: string }) => c.rule === 'R4').detail).toContain('opened');
    expect((await refundsOf(d.id)).map((r) => [r.reason, r.principal_fen])).toEqual([['invalid', 3000000n]]);
  });

  it('only the centre decides, only a held deposit, only on_time or late with a note', async () => {
    const { depositId, bidder } = await heldDeposit();
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    expect([403, 404]).toContain((await decide(depositId, { decision: 'on_time', note: 'mine' }, bidderKey)).status);
    expect((await decide(depositId, { decision: 'maybe', note: 'x' })).status).toBe(400);
    expect((await decide(depositId, { decision: 'late' })).status).toBe(400);
    const { va, payer } = await setup();
    const valid = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    const notHeld = await decide(valid.body.depositIds[0], { decision: 'late', note: 'x' });
    expect([notHeld.status, notHeld.body.error?.code]).toEqual([409, 'not_held']);
    expect((await deposit(depositId)).body.status).toBe('held');
    // A deposit held for another reason (a refund that came back, R17) is not decided here.
    const returned = valid.body.depositIds[0];
    await rt.db('deposits').where({ id: returned }).update({ status: 'held', held_reason: 'the refund came back (AC04)' });
    const notOnR3 = await decide(returned, { decision: 'on_time', note: 'x' });
    expect([notOnR3.status, notOnR3.body.error?.code]).toEqual([409, 'not_held']);
    expect(notOnR3.body.error.message).toContain('held for another reason');
  });

  it('R3 the opening roster shows a bidder whose only deposit is held as not secured, naming R3', async () => {
    const { section, bidder, va, payer } = await setup();
    const other = await w.bidder();
    const otherVa = await w.virtualAccount(section.id, other.id);
    await w.notify(bank, jsonNotification([entry(otherVa, '50000.00', { name: other.account.name, number: other.account.number })]));
    const deadline = deadlineEarlierToday();
    await setDeadline(section.id, deadline);
    const depositId = await notifyDateOnly(va, payer, businessDate(deadline));
    const res = await request(app).post(`/v1/sections/${section.id}/opening`).set(bearer(w.centre)).send({});
    expect(res.status).toBe(201);
    const byBidder = new Map(res.body.entries.map((e: { bidderId: string }) => [e.bidderId, e]));
    expect(byBidder.get(bidder.id)).toMatchObject({ security: 'cash', status: 'insufficient', rules: ['R3'], depositIds: [depositId], amount: '0.00' });
    expect(byBidder.get(other.id)).toMatchObject({ status: 'secured' });
    // Still held after the opening: the centre's decision, not the opening, ends it.
    expect((await deposit(depositId)).body.status).toBe('held');
  });
});

describe('a credit to a section with nothing left to secure is returned at once', () => {
  async function validDeposit() {
    const s = await setup();
    const res = await w.notify(bank, jsonNotification([entry(s.va, '50000.00', s.payer)]));
    return { ...s, firstId: res.body.depositIds[0] as string };
  }
  const centrePost = (p: string, body: unknown) => request(app).post(p).set(bearer(w.centre)).send(body as object);

  it('R11 a credit after the contract is invalid and returned to its source, nothing else refunded twice', async () => {
    const { section, bidder, va, payer, firstId } = await validDeposit();
    await setDeadline(section.id, new Date(Date.now() - 1000));
    expect((await centrePost(`/v1/sections/${section.id}/opening`, {})).status).toBe(201);
    const now = new Date();
    expect((await centrePost(`/v1/sections/${section.id}/award`, { winnerBidderId: bidder.id, evaluationReportAt: new Date(now.getTime() - 86400e3).toISOString(), noticeAt: now.toISOString() })).status).toBe(200);
    expect((await centrePost(`/v1/sections/${section.id}/contract`, { signedAt: now.toISOString() })).status).toBe(200);
    // Booked before the deadline but notified only now: it would pass R3, yet the section is done.
    const late = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer, { bookedAt: new Date(Date.now() - 86400e3) })]));
    const d = (await deposit(late.body.depositIds[0])).body;
    expect(d).toMatchObject({ status: 'invalid', rules: ['R11'], secured: '0.00' });
    expect(d.checks).toEqual([{ rule: 'R11', ok: false, detail: expect.stringMatching(/contracted.*returned/) }]);
    expect(await refundsOf(d.id)).toEqual([expect.objectContaining({ reason: 'invalid', principal_fen: 5000000n, creditor_account_number: payer.number })]);
    expect((await refundsOf(firstId)).map((r) => r.reason)).toEqual(['contract']);
  });

  it('R16 a credit after a termination is invalid and returned to its source', async () => {
    const { section, va, payer, firstId } = await validDeposit();
    expect((await centrePost(`/v1/sections/${section.id}/termination`, { reason: '项目取消' })).status).toBe(200);
    const late = await w.notify(bank, jsonNotification([entry(va, '20000.00', payer, { bookedAt: new Date(Date.now() - 60_000) })]));
    const d = (await deposit(late.body.depositIds[0])).body;
    expect(d).toMatchObject({ status: 'invalid', rules: ['R16'], secured: '0.00' });
    expect(d.checks[0].detail).toMatch(/terminated/);
    expect(await refundsOf(d.id)).toEqual([expect.objectContaining({ reason: 'invalid', principal_fen: 2000000n })]);
    expect((await refundsOf(firstId)).map((r) => r.reason)).toEqual(['termination']);
  });

  it('R16 a held deposit decided on time after a termination is refunded as the termination refunds every deposit', async () => {
    const { section, depositId } = await heldDeposit();
    expect((await centrePost(`/v1/sections/${section.id}/termination`, { reason: '项目取消' })).status).toBe(200);
    const res = await decide(depositId, { decision: 'on_time', note: '入账早于截止时间' });
    expect(res.body).toMatchObject({ status: 'valid' });
    expect((await refundsOf(depositId)).map((r) => r.reason)).toEqual(['termination']);
  });
});
