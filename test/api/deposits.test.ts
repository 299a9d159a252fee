import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, everyPage, jsonNotification, type Bank } from './deposits.support';

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

const deposit = (id: string) => request(app).get(`/v1/deposits/${id}`).set(bearer(w.centre));
const refundsOf = (depositId: string) => rt.db('refunds').where({ deposit_id: depositId }).orderBy('id');

describe('virtual sub-accounts', () => {
  it('gives a bidder one account per section, the same on every call and under the bank prefix', async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const key = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    const first = await request(app).post(`/v1/sections/${section.id}/deposit-accounts`).set(bearer(key)).send({ bidderId: bidder.id });
    expect(first.status).toBe(201);
    expect(first.body.virtualAccount.startsWith(bank.prefix)).toBe(true);
    const again = await request(app).post(`/v1/sections/${section.id}/deposit-accounts`).set(bearer(w.centre)).send({ bidderId: bidder.id });
    expect(again.status).toBe(200);
    expect(again.body.virtualAccount).toBe(first.body.virtualAccount);
  });

  it('hands out exactly one account when two requests arrive at once', async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const send = () => request(app).post(`/v1/sections/${section.id}/deposit-accounts`).set(bearer(w.centre)).send({ bidderId: bidder.id });
    const results = await Promise.all([send(), send(), send()]);
    expect(results.map((r) => r.status).every((s) => s === 200 || s === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.virtualAccount)).size).toBe(1);
    expect(await rt.db('deposit_accounts').where({ section_id: section.id })).toHaveLength(1);
  });

  it("answers 404 to a bidder asking for another bidder's account, 422 where cash is not accepted, 409 after the deadline", async () => {
    const section = await w.section(bank.id);
    const a = await w.bidder();
    const b = await w.bidder();
    const keyA = await keyFor(rt, 'bidder', { bidderId: a.id });
    expect((await request(app).post(`/v1/sections/${section.id}/deposit-accounts`).set(bearer(keyA)).send({ bidderId: b.id })).status).toBe(404);
    const noCash = await w.section(bank.id, { accepted: ['bank'] });
    const r = await request(app).post(`/v1/sections/${noCash.id}/deposit-accounts`).set(bearer(w.centre)).send({ bidderId: a.id });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('cash_not_accepted');
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const late = await request(app).post(`/v1/sections/${section.id}/deposit-accounts`).set(bearer(w.centre)).send({ bidderId: a.id });
    expect(late.status).toBe(409);
  });
});

describe('credit notifications (JSON) and the deposit rules', () => {
  it('R4 a credit of the full amount from the basic account is valid, with a receipt voucher and ledger postings', async () => {
    const { va, payer, section, bidder } = await setup();
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    expect([res.status, res.body.error?.code]).toEqual([200, undefined]);
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 0, ignored: 0 });
    const d = await deposit(res.body.depositIds[0]);
    expect(d.body).toMatchObject({ status: 'valid', sectionId: section.id, bidderId: bidder.id, amount: '50000.00', secured: '50000.00', excess: '0.00', rules: [] });
    expect(d.body.checks.map((c: { rule: string; ok: boolean }) => [c.rule, c.ok])).toEqual([['R3', true], ['R5', true], ['R4', true]]);
    expect(d.body.ledger[0].postings).toEqual([
      { account: `bank:${bank.id}:trust`, amount: '50000.00', side: 'debit' },
      { account: `deposit:${d.body.id}`, amount: '-50000.00', side: 'credit' },
    ]);
    const voucher = await rt.db('vouchers').where({ kind: 'deposit_receipt', subject_id: d.body.id }).first();
    expect(voucher).toBeDefined();
    expect(voucher.data.amountFen).toBe('5000000');
    expect(await refundsOf(d.body.id)).toHaveLength(0);
  });

  it('R3 rejects a credit booked at or after the bid deadline and schedules its return', async () => {
    const { va, payer, section } = await setup();
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 60_000) });
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    const d = await deposit(res.body.depositIds[0]);
    expect(d.body.status).toBe('invalid');
    expect(d.body.rules).toEqual(['R3']);
    const [refund] = await refundsOf(d.body.id);
    expect(refund).toMatchObject({ reason: 'invalid', principal_fen: 5000000n, status: 'scheduled', creditor_account_number: payer.number });
  });

  it('R3 counts the booking time, not when the bank tells us', async () => {
    const { va, payer, section } = await setup();
    const bookedAt = new Date(Date.now() - 120_000);
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 60_000) });
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer, { bookedAt })]));
    expect((await deposit(res.body.depositIds[0])).body.status).toBe('valid');
  });

  it('R4 a short first credit waits as received, and both become valid when topped up', async () => {
    const { va, payer } = await setup();
    const first = await w.notify(bank, jsonNotification([entry(va, '30000.00', payer)]));
    const d1 = await deposit(first.body.depositIds[0]);
    expect(d1.body.status).toBe('received');
    expect(d1.body.checks.find((c: { rule: string }) => c.rule === 'R4')).toMatchObject({ ok: false });
    const second = await w.notify(bank, jsonNotification([entry(va, '20000.00', payer)]));
    const d2 = await deposit(second.body.depositIds[0]);
    expect(d2.body.status).toBe('valid');
    expect((await deposit(d1.body.id)).body.status).toBe('valid');
    expect(await refundsOf(d2.body.id)).toHaveLength(0);
    expect(await rt.db('vouchers').whereIn('subject_id', [d1.body.id, d2.body.id]).where({ kind: 'deposit_receipt' })).toHaveLength(2);
  });

  it('R4 returns the excess over the required amount', async () => {
    const { va, payer } = await setup({ regime: 'government_procurement' });
    const res = await w.notify(bank, jsonNotification([entry(va, '30000.00', payer), entry(va, '25000.50', payer)]));
    const d2 = await deposit(res.body.depositIds[1]);
    expect(d2.body).toMatchObject({ status: 'valid', excess: '5000.50', secured: '20000.00' });
    const [refund] = await refundsOf(d2.body.id);
    expect(refund).toMatchObject({ reason: 'excess', principal_fen: 500050n, creditor_account_number: payer.number });
    // A further credit once the requirement is met is all excess.
    const more = await w.notify(bank, jsonNotification([entry(va, '100.00', payer)]));
    const d3 = await deposit(more.body.depositIds[0]);
    expect(d3.body).toMatchObject({ status: 'valid', excess: '100.00', secured: '0.00' });
    expect((await refundsOf(d3.body.id))[0].principal_fen).toBe(10000n);
  });

  it('R5 rejects a deposit paid from another account and returns it there (R17)', async () => {
    const { va, payer } = await setup();
    const other = { name: payer.name, number: '6222000011112222333' };
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', other)]));
    const d = await deposit(res.body.depositIds[0]);
    expect(d.body.status).toBe('invalid');
    expect(d.body.rules).toEqual(['R5']);
    const [refund] = await refundsOf(d.body.id);
    expect(refund.creditor_account_number).toBe('6222000011112222333');
  });

  it('R5 rejects a payer name that differs, and accepts a full-width rendering of the same name', async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder({ name: 'ABC建设（集团）有限公司' });
    const va = await w.virtualAccount(section.id, bidder.id);
    const wrong = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: 'ABC建设集团有限责任公司', number: bidder.account.number })]));
    expect((await deposit(wrong.body.depositIds[0])).body).toMatchObject({ status: 'invalid', rules: ['R5'] });
    const fullWidth = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: 'ａｂｃ建设 (集团) 有限公司', number: bidder.account.number })]));
    expect((await deposit(fullWidth.body.depositIds[0])).body.status).toBe('valid');
  });

  it('R15 a credit to an unknown sub-account goes to suspense, visible to the centre with all the bank sent, and is not returned automatically', async () => {
    const e = entry(`${bank.prefix}99999999999`, '1234.56', { name: '某公司', number: '6222333344445555666' });
    const res = await w.notify(bank, jsonNotification([e]));
    expect(res.body.accepted).toBe(1);
    const found = (await everyPage<any>(app, w.centre, '/v1/deposits?status=suspense')).find((d) => d.id === res.body.depositIds[0]);
    expect(found).toMatchObject({ status: 'suspense', amount: '1234.56', sectionId: null, bidderId: null });
    expect(found.credit).toMatchObject({ entryRef: e.entryRef, virtualAccount: e.virtualAccount, debtor: { name: '某公司', accountNumber: '6222333344445555666', bankCode: '102100099996' }, remittance: '投标保证金' });
    expect(await refundsOf(found.id)).toHaveLength(0);
    const [{ s }] = await rt.db('postings').where({ account: `bank:${bank.id}:suspense` }).sum({ s: 'amount_fen' });
    expect(BigInt(s)).toBeLessThanOrEqual(-123456n);
  });

  it('records nothing twice: the same message again, an overlapping message, and one entry in two messages at once', async () => {
    const { va, payer } = await setup();
    const e1 = entry(va, '20000.00', payer);
    const e2 = entry(va, '30000.00', payer);
    const body = jsonNotification([e1]);
    const first = await w.notify(bank, body);
    const replay = await w.notify(bank, body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const overlap = await w.notify(bank, jsonNotification([e1, e2]));
    expect(overlap.body).toMatchObject({ accepted: 1, duplicates: 1 });
    const e3 = entry(va, '10.00', payer);
    const both = await Promise.all([w.notify(bank, jsonNotification([e3])), w.notify(bank, jsonNotification([e3]))]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both.map((r) => r.body.accepted).sort()).toEqual([0, 1]);
    expect(await rt.db('credits').where({ bank_id: bank.id, entry_ref: e3.entryRef })).toHaveLength(1);
    expect(await rt.db('journals').where({ kind: 'credit', ref: `${bank.id}:${e3.entryRef}` })).toHaveLength(1);
  });

  it('refuses a message id reused with a different body, an unsigned notification, and malformed JSON, recording nothing', async () => {
    const { va, payer } = await setup();
    const before = (await rt.db('credits').where({ bank_id: bank.id })).length;
    const id = `evt-reuse-${Date.now()}`;
    expect((await w.notify(bank, jsonNotification([entry(va, '1.00', payer)], id))).status).toBe(200);
    const reused = await w.notify(bank, jsonNotification([entry(va, '2.00', payer)], id));
    expect(reused.status).toBe(409);
    const unsigned = await request(app).post(`/v1/banks/${bank.id}/notifications`).set('Content-Type', 'application/json').send(jsonNotification([entry(va, '3.00', payer)]));
    expect(unsigned.status).toBe(401);
    const broken = await w.notify(bank, '{"eventId": "x", "entries": [{"amount": 5}]}');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('bank_message_invalid');
    expect((await rt.db('credits').where({ bank_id: bank.id })).length).toBe(before + 1);
  });
});

describe('withdrawals and forfeiture', () => {
  it('R9 a withdrawal before the deadline schedules refunds of valid deposits within 5 days (tendering law)', async () => {
    const { va, payer, section, bidder } = await setup();
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    const key = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    const wd = await request(app).post(`/v1/sections/${section.id}/withdrawals`).set(bearer(key)).send({ bidderId: bidder.id });
    expect(wd.status).toBe(201);
    expect(wd.body).toMatchObject({ afterDeadline: false, rule: 'R9' });
    expect(wd.body.refunds).toHaveLength(1);
    const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
    const expected = new Date(Date.parse(`${today}T00:00:00Z`) + 5 * 86400e3).toISOString().slice(0, 10);
    expect(wd.body.refunds[0]).toMatchObject({ depositId: res.body.depositIds[0], reason: 'withdrawal', principal: '50000.00', dueBy: expected });
    const again = await request(app).post(`/v1/sections/${section.id}/withdrawals`).set(bearer(key)).send({ bidderId: bidder.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_withdrawn');
    // Being refunded, it cannot be forfeited.
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const f = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'false_documents' });
    expect(f.status).toBe(409);
  });

  it('R10/R12 a withdrawal after the deadline schedules no refund and lets the centre forfeit the deposit to the tenderee', async () => {
    const { va, payer, section, bidder } = await setup();
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    const depositId = res.body.depositIds[0];
    const early = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'withdrawal_after_deadline' });
    expect(early.status).toBe(422);
    expect(early.body.error.rule).toBe('R12');
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const none = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'withdrawal_after_deadline' });
    expect(none.status).toBe(422);
    const wd = await request(app).post(`/v1/sections/${section.id}/withdrawals`).set(bearer(w.centre)).send({ bidderId: bidder.id });
    expect(wd.body).toMatchObject({ afterDeadline: true, rule: 'R10', refunds: [] });
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    expect((await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(bidderKey)).send({ bidderId: bidder.id, reason: 'withdrawal_after_deadline' })).status).toBe(404);
    const f = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'withdrawal_after_deadline' });
    expect(f.status).toBe(201);
    expect(f.body).toMatchObject({ reason: 'withdrawal_after_deadline', rule: 'R12', deposits: [{ depositId, amount: '50000.00' }] });
    const d = await deposit(depositId);
    expect(d.body.status).toBe('forfeited');
    expect(d.body.forfeiture.reason).toBe('withdrawal_after_deadline');
    expect(d.body.ledger.map((j: { kind: string }) => j.kind)).toEqual(['credit', 'forfeiture']);
    const [{ s }] = await rt.db('postings').where({ account: `section:${section.id}:forfeit` }).sum({ s: 'amount_fen' });
    expect(BigInt(s)).toBe(-5000000n);
    const audit = await rt.db('audit_events').where({ action: 'deposit.forfeited', entity_id: depositId }).first();
    expect(audit.data).toMatchObject({ reason: 'withdrawal_after_deadline', rule: 'R12' });
    expect((await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'false_documents' })).status).toBe(409);
  });

  it('R12 refuses winner-only reasons unless the section is awarded to that bidder', async () => {
    const { va, payer, section, bidder } = await setup();
    await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const refused = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'refused_to_sign' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.rule).toBe('R12');
    const bad = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'felt_like_it' });
    expect(bad.status).toBe(400);
    await rt.db('sections').where({ id: section.id }).update({ status: 'awarded', winner_bidder_id: bidder.id });
    const ok = await request(app).post(`/v1/sections/${section.id}/forfeitures`).set(bearer(w.centre)).send({ bidderId: bidder.id, reason: 'refused_to_sign' });
    expect(ok.status).toBe(201);
  });
});

describe('reading deposits (R18)', () => {
  it('shows a bidder only its own, a tenderee nothing before opening, the centre and auditor everything', async () => {
    const { va, payer, section, bidder } = await setup();
    const other = await w.bidder();
    const otherVa = await w.virtualAccount(section.id, other.id);
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer), entry(otherVa, '50000.00', { name: other.account.name, number: other.account.number })]));
    const [mine, theirs] = res.body.depositIds;
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    const tendereeKey = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    const auditor = await keyFor(rt, 'auditor');
    const asBidder = await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(bidderKey));
    expect(asBidder.body.data.map((d: { id: string }) => d.id)).toEqual([mine]);
    expect((await request(app).get(`/v1/deposits/${theirs}`).set(bearer(bidderKey))).status).toBe(404);
    expect((await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(tendereeKey))).body.data).toEqual([]);
    expect((await request(app).get(`/v1/deposits/${mine}`).set(bearer(tendereeKey))).status).toBe(404);
    expect((await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(auditor))).body.data).toHaveLength(2);
    await rt.db('sections').where({ id: section.id }).update({ status: 'opened', opened_at: new Date() });
    expect((await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(tendereeKey))).body.data).toHaveLength(2);
    expect((await request(app).get(`/v1/deposits/${mine}`).set(bearer(tendereeKey))).status).toBe(200);
  });

  it('pages through a section by keyset', async () => {
    const { va, payer, section } = await setup();
    await w.notify(bank, jsonNotification([entry(va, '10.00', payer), entry(va, '20.00', payer), entry(va, '30.00', payer)]));
    const p1 = await request(app).get(`/v1/deposits?sectionId=${section.id}&limit=2`).set(bearer(w.centre));
    expect(p1.body).toMatchObject({ object: 'list', hasMore: true });
    const p2 = await request(app).get(`/v1/deposits?sectionId=${section.id}&limit=2&cursor=${p1.body.nextCursor}`).set(bearer(w.centre));
    expect(p2.body.hasMore).toBe(false);
    expect([...p1.body.data, ...p2.body.data].map((d: { amount: string }) => d.amount)).toEqual(['10.00', '20.00', '30.00']);
  });
});
