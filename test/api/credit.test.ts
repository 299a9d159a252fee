// Credit-based reductions of the bid security (按信用等级降低保证金), end to end through the API:
// the sub-account's instructions name the reduced amount, R4 takes it for cash and guarantees
// alike, the audit log names the grade's source, and a grade lapsed by the deadline counts for
// nothing.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { addCalendarDays, toBusinessDate } from '../../src/domain/time';
import { openSection } from '../../src/sections/service';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';
import { World, unique } from './guaranteesFixtures';

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
afterAll(async () => {
  await rt.close();
});

const source = '信用中国（浙江）综合信用评价';

async function section(deadline: Date, opts: { accepted?: string[]; bankId?: string } = {}) {
  const tendereeId = await w.tenderee();
  const res = await request(app).post('/v1/sections').set(bearer(w.centre)).send({
    projectCode: unique('P'), sectionCode: unique('S'), name: '信用减免标段', tendereeId, regime: 'tendering_law',
    estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: deadline.toISOString(), bidValidityDays: 90,
    depositBankId: opts.bankId ?? bank.id, acceptedSecurity: opts.accepted ?? ['cash'],
    creditReductions: [{ grade: 'A', percent: 20 }, { grade: 'AAA', percent: 50 }],
  });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, tendereeId, deadline, projectCode: res.body.projectCode as string, sectionCode: res.body.sectionCode as string };
}

async function grade(bidderId: string, g: string, validFrom: string, validTo: string) {
  const res = await request(app).put(`/v1/bidders/${bidderId}/credit`).set(bearer(w.centre)).send({ grade: g, source, validFrom, validTo });
  expect(res.status).toBe(200);
}

const deposit = (id: string) => request(app).get(`/v1/deposits/${id}`).set(bearer(w.centre));
const account = (sectionId: string, bidderId: string) => request(app).post(`/v1/sections/${sectionId}/deposit-accounts`).set(bearer(w.centre)).send({ bidderId });
async function pay(va: string, amount: string, payer: { name: string; number: string }) {
  const res = await w.notify(bank, jsonNotification([entry(va, amount, payer)]));
  expect(res.status).toBe(200);
  return (await deposit(res.body.depositIds[0])).body;
}
async function untilPast(t: Date) {
  while (Date.now() <= t.getTime()) await new Promise((r) => setTimeout(r, Math.max(10, t.getTime() - Date.now() + 5)));
}

it('R4 a graded bidder paying its reduced amount is secured, an ungraded one short by the same is not', async () => {
  const s = await section(new Date(Date.now() + 6000));
  const day = toBusinessDate(s.deadline);
  const graded = await w.bidder();
  const plain = await w.bidder();
  await grade(graded.id, 'A', addCalendarDays(day, -30), addCalendarDays(day, 30));

  const gAccount = await account(s.id, graded.id);
  expect(gAccount.body).toMatchObject({ requiredAmount: '40000.00', currency: 'CNY', creditReduction: { grade: 'A', percent: 20, source, fullAmount: '50000.00' } });
  const pAccount = await account(s.id, plain.id);
  expect(pAccount.body).toMatchObject({ requiredAmount: '50000.00', creditReduction: null });

  const gd = await pay(gAccount.body.virtualAccount, '40000.00', { name: graded.account.name, number: graded.account.number });
  expect(gd).toMatchObject({ status: 'valid', secured: '40000.00', excess: '0.00' });
  expect(gd.checks.find((c: { rule: string }) => c.rule === 'R4').detail).toContain(`less 20% for credit grade A, found by ${source}`);
  const pd = await pay(pAccount.body.virtualAccount, '40000.00', { name: plain.account.name, number: plain.account.number });
  expect(pd.status).toBe('received');

  // The grade, its percent and its source are on record with the verdict.
  const [valid] = await rt.db('audit_events').where({ action: 'deposit.valid', entity_id: gd.id });
  expect(valid.data).toMatchObject({ required: '40000.00', creditReduction: { grade: 'A', percent: 20, source, fullAmount: '50000.00' } });

  await untilPast(s.deadline);
  const opened = await request(app).post(`/v1/sections/${s.id}/opening`).set(bearer(w.centre)).send({});
  expect(opened.status).toBe(201);
  const line = (bidderId: string) => opened.body.entries.find((e: { bidderId: string }) => e.bidderId === bidderId);
  expect(line(graded.id)).toMatchObject({ security: 'cash', status: 'secured', amount: '40000.00' });
  expect(line(plain.id)).toMatchObject({ security: 'cash', status: 'invalid', rules: ['R4'] });
  expect((await deposit(pd.id)).body.status).toBe('invalid');
});

it('R4 returns as excess what a graded bidder pays above its reduced amount', async () => {
  const s = await section(new Date(Date.now() + 3600_000));
  const day = toBusinessDate(s.deadline);
  const b = await w.bidder();
  await grade(b.id, 'AAA', addCalendarDays(day, -1), day);
  const va = (await account(s.id, b.id)).body.virtualAccount;
  const d = await pay(va, '50000.00', { name: b.account.name, number: b.account.number });
  expect(d).toMatchObject({ status: 'valid', secured: '25000.00', excess: '25000.00' });
  expect(await rt.db('refunds').where({ deposit_id: d.id, reason: 'excess' })).toHaveLength(1);
});

it('R4 applies no reduction for a grade that lapsed before the deadline, nor for a grade the section does not name', async () => {
  const s = await section(new Date(Date.now() + 3600_000));
  const day = toBusinessDate(s.deadline);
  const lapsed = await w.bidder();
  const other = await w.bidder();
  await grade(lapsed.id, 'AAA', addCalendarDays(day, -365), addCalendarDays(day, -1));
  await grade(other.id, 'B', addCalendarDays(day, -30), addCalendarDays(day, 30));
  for (const b of [lapsed, other]) {
    const acc = await account(s.id, b.id);
    expect(acc.body).toMatchObject({ requiredAmount: '50000.00', creditReduction: null });
    const d = await pay(acc.body.virtualAccount, '25000.00', { name: b.account.name, number: b.account.number });
    expect(d.status).toBe('received');
    const [audit] = await rt.db('audit_events').where({ action: 'deposit.received', entity_id: d.id });
    expect(audit.data).toMatchObject({ required: '50000.00', creditReduction: null });
  }
});

it("R4 takes a guarantee of the reduced amount from a graded bidder and rejects the same from an ungraded one", async () => {
  const g = new World(rt, app);
  g.centre = w.centre;
  const issuer = await g.issuer('insurance');
  const s = await section(new Date(Date.now() + 10 * 86400e3), { accepted: ['insurance'] });
  const tenderee = await rt.db('tenderees').where({ id: s.tendereeId }).first();
  const day = toBusinessDate(s.deadline);
  const graded = await g.bidder();
  const plain = await g.bidder();
  await grade(graded.id, 'A', addCalendarDays(day, -30), addCalendarDays(day, 30));
  const issue = (b: { uscc: string; name: string }) =>
    g.issue(issuer, {
      eventId: unique('evt'), number: unique('INS'), kind: 'insurance', applicant: { uscc: b.uscc, name: b.name }, beneficiary: { uscc: tenderee.uscc, name: tenderee.name },
      projectCode: s.projectCode, sectionCode: s.sectionCode, amount: '40000.00', currency: 'CNY', validFrom: toBusinessDate(new Date()), validTo: addCalendarDays(day, 120),
      issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: 'a'.repeat(64),
    });
  const ok = await issue(graded);
  expect(ok.status).toBe(201);
  expect(ok.body.status).toBe('issued');
  expect(ok.body.checks.find((c: { rule: string }) => c.rule === 'R4')).toMatchObject({ ok: true, detail: expect.stringContaining(`for credit grade A, found by ${source}`) });
  const [issued] = await rt.db('audit_events').where({ action: 'guarantee.issued', entity_id: ok.body.id });
  expect(issued.data.creditReduction).toMatchObject({ grade: 'A', source, required: '40000.00' });
  const short = await issue(plain);
  expect(short.status).toBe(201);
  expect(short.body.status).toBe('rejected');
  expect(short.body.checks.find((c: { rule: string }) => c.rule === 'R4')).toMatchObject({ ok: false, detail: 'amount 40000.00 is less than the required 50000.00' });
});

it('R4 after a postponement counts the grade held at the new deadline: one that lapses before it reduces nothing', async () => {
  const g = new World(rt, app);
  g.centre = w.centre;
  const issuer = await g.issuer('insurance');
  const s = await section(new Date(Date.now() + 10 * 86400e3), { accepted: ['cash', 'insurance'] });
  const tenderee = await rt.db('tenderees').where({ id: s.tendereeId }).first();
  const day = toBusinessDate(s.deadline);
  const cash = await w.bidder();
  const guaranteed = await g.bidder();
  for (const b of [cash, guaranteed]) await grade(b.id, 'A', addCalendarDays(day, -30), addCalendarDays(day, 2));
  expect((await account(s.id, cash.id)).body.requiredAmount).toBe('40000.00');
  const issued = await g.issue(issuer, {
    eventId: unique('evt'), number: unique('INS'), kind: 'insurance', applicant: { uscc: guaranteed.uscc, name: guaranteed.name }, beneficiary: { uscc: tenderee.uscc, name: tenderee.name },
    projectCode: s.projectCode, sectionCode: s.sectionCode, amount: '40000.00', currency: 'CNY', validFrom: toBusinessDate(new Date()), validTo: addCalendarDays(day, 200),
    issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: 'b'.repeat(64),
  });
  expect(issued.body.status).toBe('issued');

  const newDeadline = new Date(s.deadline.getTime() + 5 * 86400e3);
  const postponed = await request(app).post(`/v1/sections/${s.id}/postponement`).set(bearer(w.centre)).send({ bidDeadline: newDeadline.toISOString(), reason: '延期开标' });
  expect(postponed.status).toBe(200);
  expect(postponed.body.extensionRequestedGuaranteeIds).toEqual([]);
  expect((await account(s.id, cash.id)).body).toMatchObject({ requiredAmount: '50000.00', creditReduction: null });

  const { roster } = await rt.db.transaction((tx) => openSection(tx, rt.tables.calendar, { keyId: 'test-opening', role: 'centre' }, s.id, new Date(newDeadline.getTime() + 60_000)));
  expect(roster.entries.find((e) => e.bidderId === guaranteed.id)).toMatchObject({ security: 'guarantee', status: 'invalid', rules: ['R4'] });
});
