// The section lifecycle as the trading centre drives it: opening (roster and voucher), award
// (R14, R11 under government procurement), contract (R11), termination (R16), each guarded,
// audited and idempotent.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { businessDate } from '../../src/domain/time';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { World } from './guaranteesFixtures';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;
let centre: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  w = new DepositWorld(rt, app, centre);
  bank = await w.bank();
});
afterAll(async () => {
  await rt.close();
});

type Regime = 'tendering_law' | 'government_procurement';

/** A section with three bidders: two paid the full deposit, one paid short, one only opened
 *  an account. */
async function world(regime: Regime = 'tendering_law') {
  const section = await w.section(bank.id, { regime });
  const bidders = [];
  for (const amount of ['50000.00', '50000.00', '30000.00', null]) {
    const b = await w.bidder();
    const va = await w.virtualAccount(section.id, b.id);
    let depositId: string | undefined;
    if (amount) {
      const res = await w.notify(bank, jsonNotification([entry(va, amount, { name: b.account.name, number: b.account.number })]));
      expect(res.status).toBe(200);
      depositId = res.body.depositIds[0];
    }
    bidders.push({ ...b, va, depositId });
  }
  return { section, bidders };
}

const pastDeadline = (sectionId: string) => rt.db('sections').where({ id: sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
const post = (path: string, body: unknown = {}, key = centre) => request(app).post(path).set(bearer(key)).send(body as object);
const refundsOf = (sectionId: string) => rt.db('refunds').where({ section_id: sectionId }).orderBy('id');

describe('opening', () => {
  it('answers 409 before the bid deadline and fixes the roster after it, cash secured, short invalid (R4), account-only missing', async () => {
    const { section, bidders } = await world();
    const early = await post(`/v1/sections/${section.id}/opening`);
    expect([early.status, early.body.error.code]).toEqual([409, 'before_deadline']);
    await pastDeadline(section.id);
    const res = await post(`/v1/sections/${section.id}/opening`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'roster', sectionId: section.id, requiredDeposit: '50000.00' });
    const byBidder = Object.fromEntries(res.body.entries.map((e: { bidderId: string }) => [e.bidderId, e]));
    expect(byBidder[bidders[0].id]).toMatchObject({ security: 'cash', status: 'secured', amount: '50000.00', depositIds: [bidders[0].depositId] });
    expect(byBidder[bidders[1].id]).toMatchObject({ security: 'cash', status: 'secured' });
    expect(byBidder[bidders[2].id]).toMatchObject({ security: 'cash', status: 'invalid', rules: ['R4'] });
    expect(byBidder[bidders[3].id]).toMatchObject({ security: null, status: 'missing', depositIds: [] });
    // The short credit goes back to where it came from.
    const [shortRefund] = await rt.db('refunds').where({ deposit_id: bidders[2].depositId });
    expect(shortRefund).toMatchObject({ reason: 'invalid', status: 'scheduled', creditor_account_number: bidders[2].account.number });
    const voucher = await rt.db('vouchers').where({ kind: 'opening_roster', subject_id: res.body.id }).first();
    expect(voucher.id).toBe(res.body.voucherId);
    expect(voucher.data.entries).toHaveLength(4);
    expect((await rt.db('sections').where({ id: section.id }).first()).status).toBe('opened');
    expect(await rt.db('audit_events').where({ action: 'section.opened', entity_id: section.id })).toHaveLength(1);
    const again = await post(`/v1/sections/${section.id}/opening`);
    expect([again.status, again.body.error.code]).toEqual([409, 'illegal_transition']);
  });

  it('R18 shows the roster to the centre and to the section\'s tenderee after opening, to nobody else', async () => {
    const { section } = await world();
    const own = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    const other = await keyFor(rt, 'tenderee', { tendereeId: await w.tenderee() });
    expect((await request(app).get(`/v1/sections/${section.id}/roster`).set(bearer(own))).status).toBe(404);
    await pastDeadline(section.id);
    await post(`/v1/sections/${section.id}/opening`);
    const seen = await request(app).get(`/v1/sections/${section.id}/roster`).set(bearer(own));
    expect([seen.status, seen.body.entries.length]).toEqual([200, 4]);
    expect((await request(app).get(`/v1/sections/${section.id}/roster`).set(bearer(other))).status).toBe(404);
    expect((await request(app).get(`/v1/sections/${section.id}/roster`).set(bearer(centre))).status).toBe(200);
  });

  it('replays an opening sent twice with the same Idempotency-Key', async () => {
    const { section } = await world();
    await pastDeadline(section.id);
    const first = await request(app).post(`/v1/sections/${section.id}/opening`).set(bearer(centre)).set('Idempotency-Key', `open-${section.id}`).send({});
    const second = await request(app).post(`/v1/sections/${section.id}/opening`).set(bearer(centre)).set('Idempotency-Key', `open-${section.id}`).send({});
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(await rt.db('rosters').where({ section_id: section.id })).toHaveLength(1);
  });
});

async function opened(regime: Regime) {
  const ctx = await world(regime);
  await pastDeadline(ctx.section.id);
  expect((await post(`/v1/sections/${ctx.section.id}/opening`)).status).toBe(201);
  return ctx;
}

describe('award', () => {
  it('R14 refuses an award more than 20 days after the evaluation report, and accepts one on the 20th day', async () => {
    const { section, bidders } = await opened('tendering_law');
    const late = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[0].id, evaluationReportAt: '2026-09-01T10:00:00+08:00', noticeAt: '2026-09-22T10:00:00+08:00' });
    expect([late.status, late.body.error.rule]).toEqual([422, 'R14']);
    const ok = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[0].id, evaluationReportAt: '2026-09-01T10:00:00+08:00', noticeAt: '2026-09-21T10:00:00+08:00' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'awarded', winnerBidderId: bidders[0].id, refundIds: [] });
  });

  it('refuses a winner the roster does not show as secured, and an award before the opening (409)', async () => {
    const { section, bidders } = await world('tendering_law');
    const before = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[0].id, evaluationReportAt: '2026-09-01T10:00:00+08:00', noticeAt: '2026-09-02T10:00:00+08:00' });
    expect([before.status, before.body.error.code]).toEqual([409, 'illegal_transition']);
    await pastDeadline(section.id);
    await post(`/v1/sections/${section.id}/opening`);
    const unsecured = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[2].id, evaluationReportAt: '2026-09-01T10:00:00+08:00', noticeAt: '2026-09-02T10:00:00+08:00' });
    expect([unsecured.status, unsecured.body.error.code]).toEqual([422, 'winner_not_secured']);
  });

  it('R11 R19 under government procurement refunds non-winners within 5 working days of the award notice, over the National Day holiday', async () => {
    const { section, bidders } = await opened('government_procurement');
    const res = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[0].id, evaluationReportAt: '2026-09-25T10:00:00+08:00', noticeAt: '2026-09-30T10:00:00+08:00' });
    expect(res.status).toBe(200);
    const refunds = await rt.db('refunds').where({ section_id: section.id, reason: 'award_non_winner' });
    expect(refunds).toHaveLength(1);
    // 10-01..07 holidays, 10-10 a make-up working Saturday: 10-08, 10-09, 10-10, 10-12, 10-13.
    expect(refunds[0]).toMatchObject({ deposit_id: bidders[1].depositId, due_by: '2026-10-13', principal_fen: 5000000n, status: 'scheduled' });
    expect(res.body.refundIds).toEqual([refunds[0].id]);
    // The winner waits for the contract: 5 working days from 10-09 is 10-15.
    const contract = await post(`/v1/sections/${section.id}/contract`, { signedAt: '2026-10-09T10:00:00+08:00' });
    expect(contract.status).toBe(200);
    const winner = await rt.db('refunds').where({ deposit_id: bidders[0].depositId, reason: 'contract' }).first();
    expect(winner).toMatchObject({ due_by: '2026-10-15' });
    expect(await rt.db('refunds').where({ deposit_id: bidders[1].depositId })).toHaveLength(1);
  });
});

describe('contract', () => {
  it('R11 under the tendering law refunds winner and non-winners within 5 calendar days of the contract', async () => {
    const { section, bidders } = await opened('tendering_law');
    const award = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: bidders[1].id, evaluationReportAt: '2026-09-20T10:00:00+08:00', noticeAt: '2026-09-25T10:00:00+08:00' });
    expect(award.body.refundIds).toEqual([]);
    const res = await post(`/v1/sections/${section.id}/contract`, { signedAt: '2026-09-30T10:00:00+08:00' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('contracted');
    const refunds = await rt.db('refunds').where({ section_id: section.id, reason: 'contract' }).orderBy('deposit_id');
    expect(refunds.map((r) => [r.deposit_id, r.due_by])).toEqual(
      [[bidders[0].depositId, '2026-10-05'], [bidders[1].depositId, '2026-10-05']].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const again = await post(`/v1/sections/${section.id}/contract`, { signedAt: '2026-09-30T10:00:00+08:00' });
    expect([again.status, again.body.error.code]).toEqual([409, 'illegal_transition']);
    expect(await rt.db('audit_events').where({ action: 'section.contracted', entity_id: section.id })).toHaveLength(1);
    // A job to send them was recorded with the state change (one submit job takes every refund
    // due at the bank, so a transaction owing many may record one for all).
    const jobs = await rt.db('outbox').where({ queue: 'refunds' }).whereIn('job_id', refunds.map((r) => `submit.${r.id}.1`));
    expect(jobs.length).toBeGreaterThanOrEqual(1);
  });
});

describe('termination', () => {
  it('R16 refunds every deposit at once, before or after opening, and refuses after the contract', async () => {
    const { section, bidders } = await world('government_procurement');
    const res = await post(`/v1/sections/${section.id}/termination`, { reason: '招标人取消采购项目' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('terminated');
    const refunds = await refundsOf(section.id);
    // The two full deposits and the short one, still being checked, all go back today.
    expect(refunds.map((r) => r.reason)).toEqual(['termination', 'termination', 'termination']);
    expect(new Set(refunds.map((r) => r.deposit_id))).toEqual(new Set([bidders[0].depositId, bidders[1].depositId, bidders[2].depositId]));
    expect(refunds.every((r) => r.due_by === businessDate(new Date()))).toBe(true);
    const again = await post(`/v1/sections/${section.id}/termination`, { reason: 'again' });
    expect([again.status, again.body.error.code]).toEqual([409, 'illegal_transition']);

    const done = await opened('tendering_law');
    await post(`/v1/sections/${done.section.id}/award`, { winnerBidderId: done.bidders[0].id, evaluationReportAt: '2026-09-20T10:00:00+08:00', noticeAt: '2026-09-25T10:00:00+08:00' });
    await post(`/v1/sections/${done.section.id}/contract`, { signedAt: '2026-09-30T10:00:00+08:00' });
    const late = await post(`/v1/sections/${done.section.id}/termination`, { reason: 'too late' });
    expect([late.status, late.body.error.code]).toEqual([409, 'illegal_transition']);
  });
});

describe('guarantees on the roster', () => {
  it('R8 an issued guarantee secures the bid like cash and is released after the contract; a rejected one shows invalid with its rules', async () => {
    const g = await new World(rt, app).init();
    const scene = await g.scene('bank');
    const issued = await g.issue(scene.issuer, g.issuance(scene));
    expect([issued.status, issued.body.status]).toEqual([201, 'issued']);
    const other = await g.bidder(scene.issuer.bankCode!);
    const short = await g.issue(scene.issuer, g.issuance({ ...scene, bidder: other }, { amount: '30000.00' }));
    expect(short.body.status).toBe('rejected');
    await pastDeadline(scene.section.id);
    const res = await post(`/v1/sections/${scene.section.id}/opening`);
    expect(res.status).toBe(201);
    const byBidder = Object.fromEntries(res.body.entries.map((e: { bidderId: string }) => [e.bidderId, e]));
    expect(byBidder[scene.bidder.id]).toMatchObject({ security: 'guarantee', status: 'secured', amount: '50000.00', guaranteeId: issued.body.id });
    expect(byBidder[other.id]).toMatchObject({ security: 'guarantee', status: 'invalid', rules: ['R4'] });
    expect((await rt.db('guarantees').where({ id: issued.body.id }).first()).status).toBe('secured');
    const voucher = await rt.db('vouchers').where({ kind: 'opening_roster', subject_id: res.body.id }).first();
    expect(voucher.data.entries.find((e: { status: string }) => e.status === 'secured')).toMatchObject({ security: 'guarantee', reference: issued.body.number });

    await post(`/v1/sections/${scene.section.id}/award`, { winnerBidderId: scene.bidder.id, evaluationReportAt: '2026-09-20T10:00:00+08:00', noticeAt: '2026-09-25T10:00:00+08:00' });
    const contract = await post(`/v1/sections/${scene.section.id}/contract`, { signedAt: '2026-09-30T10:00:00+08:00' });
    expect(contract.body.releasedGuaranteeIds).toEqual([issued.body.id]);
    expect((await rt.db('guarantees').where({ id: issued.body.id }).first()).status).toBe('released');
    expect(await refundsOf(scene.section.id)).toHaveLength(0);
  });
});

/** A section whose bid deadline is a few seconds away: long enough to open accounts and pay
 *  before it, short enough for a test to wait it out and go on through the API. */
const closingSoonMs = 4_000;
async function sectionClosingSoon(regime: Regime = 'tendering_law') {
  const tendereeId = await w.tenderee();
  const bidDeadline = new Date(Date.now() + closingSoonMs);
  const res = await post('/v1/sections', {
    projectCode: `P-${randomDigits(8)}`, sectionCode: `S-${randomDigits(6)}`, name: '道路改造工程二标段', tendereeId, regime,
    estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: bidDeadline.toISOString(), bidValidityDays: 90,
    depositBankId: bank.id, acceptedSecurity: ['cash', 'bank'],
  });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, tendereeId, bidDeadline };
}
const untilPast = async (deadline: Date) => {
  while (Date.now() <= deadline.getTime()) await new Promise((r) => setTimeout(r, Math.max(10, deadline.getTime() - Date.now() + 5)));
};
async function pays(sectionId: string, amounts: string[]) {
  const b = await w.bidder();
  const va = await w.virtualAccount(sectionId, b.id);
  const depositIds: string[] = [];
  for (const amount of amounts) {
    const res = await w.notify(bank, jsonNotification([entry(va, amount, { name: b.account.name, number: b.account.number })]));
    expect(res.status).toBe(200);
    depositIds.push(res.body.depositIds[0]);
  }
  return { ...b, depositIds };
}

describe('forfeiture', () => {
  it('R4 R12 forfeits the secured part of a bidder that paid twice and withdrew after the deadline, and refunds the second payment', async () => {
    const section = await sectionClosingSoon();
    const bidder = await pays(section.id, ['50000.00', '50000.00']);
    const [first, second] = bidder.depositIds;
    await untilPast(section.bidDeadline);
    expect((await post(`/v1/sections/${section.id}/opening`)).status).toBe(201);
    const wd = await post(`/v1/sections/${section.id}/withdrawals`, { bidderId: bidder.id });
    expect(wd.body).toMatchObject({ afterDeadline: true, rule: 'R10', refunds: [] });
    const f = await post(`/v1/sections/${section.id}/forfeitures`, { bidderId: bidder.id, reason: 'withdrawal_after_deadline' });
    expect(f.status).toBe(201);
    expect(f.body).toMatchObject({ rule: 'R12', reason: 'withdrawal_after_deadline', deposits: [{ depositId: first, amount: '50000.00' }] });
    const deposit = (id: string) => request(app).get(`/v1/deposits/${id}`).set(bearer(centre));
    expect((await deposit(first)).body.status).toBe('forfeited');
    // The second payment secured nothing: it goes back whole to the account it came from.
    const refunds = await rt.db('refunds').where({ deposit_id: second });
    expect(refunds).toEqual([expect.objectContaining({ reason: 'excess', principal_fen: 5000000n, creditor_account_number: bidder.account.number })]);
    expect((await deposit(second)).body.status).not.toBe('forfeited');
    const [{ kept }] = await rt.db('postings').where({ account: `section:${section.id}:forfeit` }).sum({ kept: 'amount_fen' });
    expect(BigInt(kept)).toBe(-5000000n);
  });

  it("R12 forfeits for a winner's failure only the deposit of the bidder the award names", async () => {
    const section = await sectionClosingSoon();
    const winner = await pays(section.id, ['50000.00']);
    const other = await pays(section.id, ['50000.00']);
    await untilPast(section.bidDeadline);
    expect((await post(`/v1/sections/${section.id}/opening`)).status).toBe(201);
    const award = await post(`/v1/sections/${section.id}/award`, { winnerBidderId: winner.id, evaluationReportAt: '2026-09-20T10:00:00+08:00', noticeAt: '2026-09-25T10:00:00+08:00' });
    expect(award.status).toBe(200);
    const notTheWinner = await post(`/v1/sections/${section.id}/forfeitures`, { bidderId: other.id, reason: 'refused_to_sign' });
    expect([notTheWinner.status, notTheWinner.body.error.rule]).toEqual([422, 'R12']);
    const theWinner = await post(`/v1/sections/${section.id}/forfeitures`, { bidderId: winner.id, reason: 'refused_to_sign' });
    expect(theWinner.status).toBe(201);
  });
});

describe('R18 after termination', () => {
  it('R18 keeps who paid into a section terminated before its opening from its tenderee', async () => {
    const { section, bidders } = await world();
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    expect((await post(`/v1/sections/${section.id}/termination`, { reason: '招标人取消项目' })).status).toBe(200);
    const list = await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(tenderee));
    expect(list.body.data).toEqual([]);
    expect((await request(app).get(`/v1/deposits/${bidders[0].depositId}`).set(bearer(tenderee))).status).toBe(404);
    expect((await request(app).get(`/v1/sections/${section.id}/roster`).set(bearer(tenderee))).status).toBe(404);
  });

  it('R18 shows a tenderee who paid once its section has opened, even after a termination', async () => {
    const section = await sectionClosingSoon();
    const bidder = await pays(section.id, ['50000.00']);
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    await untilPast(section.bidDeadline);
    expect((await post(`/v1/sections/${section.id}/opening`)).status).toBe(201);
    expect((await post(`/v1/sections/${section.id}/termination`, { reason: '招标人取消项目' })).status).toBe(200);
    const list = await request(app).get(`/v1/deposits?sectionId=${section.id}`).set(bearer(tenderee));
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual(bidder.depositIds);
  });
});
