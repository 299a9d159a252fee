// Exemption from the bid security by credit grade (信用免缴投标保证金), end to end through the API:
// a section waives the whole security (100%) for a grade; a bidder holding it at the bid deadline
// is told with its sub-account that it owes nothing, gets back as excess whatever it pays anyway,
// and is on the roster as secured by exemption with the grade and its source, on the voucher and
// in the audit log. The grade counts as it stands at the deadline, not at payment.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { addCalendarDays, toBusinessDate } from '../../src/domain/time';
import { openSection } from '../../src/sections/service';
import { renderAndSign } from '../../src/vouchers/service';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';
import { World, unique } from './guaranteesFixtures';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;
let tmp: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bb-exemption-'));
});
afterAll(async () => {
  await rt.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const source = '信用中国（浙江）综合信用评价';
const reductions = [{ grade: 'AAA', percent: 100 }, { grade: 'A', percent: 20 }];

const sectionBody = (deadline: Date, over: Record<string, unknown> = {}) => ({
  projectCode: unique('P'), sectionCode: unique('S'), name: '信用免缴标段', regime: 'tendering_law',
  estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: deadline.toISOString(), bidValidityDays: 90,
  depositBankId: bank.id, acceptedSecurity: ['cash'], creditReductions: reductions, ...over,
});

async function section(deadline: Date) {
  const tendereeId = await w.tenderee();
  const res = await request(app).post('/v1/sections').set(bearer(w.centre)).send(sectionBody(deadline, { tendereeId }));
  expect(res.status).toBe(201);
  return { id: res.body.id as string, tendereeId, deadline, day: toBusinessDate(deadline) };
}

async function grade(bidderId: string, g: string, validFrom: string, validTo: string) {
  const res = await request(app).put(`/v1/bidders/${bidderId}/credit`).set(bearer(w.centre)).send({ grade: g, source, validFrom, validTo });
  expect(res.status).toBe(200);
}

const account = (sectionId: string, bidderId: string, key = w.centre) => request(app).post(`/v1/sections/${sectionId}/deposit-accounts`).set(bearer(key)).send({ bidderId });
const deposit = (id: string) => request(app).get(`/v1/deposits/${id}`).set(bearer(w.centre));
async function pay(va: string, amount: string, payer: { name: string; number: string }) {
  const res = await w.notify(bank, jsonNotification([entry(va, amount, payer)]));
  expect(res.status).toBe(200);
  return (await deposit(res.body.depositIds[0])).body;
}
async function untilPast(t: Date) {
  while (Date.now() <= t.getTime()) await new Promise((r) => setTimeout(r, Math.max(10, t.getTime() - Date.now() + 5)));
}
const lineOf = (entries: { bidderId: string }[], bidderId: string) => entries.find((e) => e.bidderId === bidderId);

describe('a section waiving the whole security for a grade', () => {
  it('accepts 100% (信用免缴) and refuses 101% with a 400 naming the field, creating nothing', async () => {
    const tendereeId = await w.tenderee();
    const deadline = new Date(Date.now() + 86400e3);
    const ok = await request(app).post('/v1/sections').set(bearer(w.centre)).send(sectionBody(deadline, { tendereeId }));
    expect(ok.status).toBe(201);
    expect(ok.body.creditReductions).toEqual(reductions);

    const body = sectionBody(deadline, { tendereeId, creditReductions: [{ grade: 'AAA', percent: 101 }] });
    const refused = await request(app).post('/v1/sections').set(bearer(w.centre)).send(body);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'creditReductions.0.percent' });
    expect(await rt.db('sections').where({ project_code: body.projectCode })).toHaveLength(0);
  });
});

describe('R4 for an exempt bidder', () => {
  it('tells it with its sub-account that it owes 0.00 because of its grade, naming the source; others are told the usual', async () => {
    const s = await section(new Date(Date.now() + 3600_000));
    const exempt = await w.bidder();
    const reduced = await w.bidder();
    await grade(exempt.id, 'AAA', addCalendarDays(s.day, -30), addCalendarDays(s.day, 30));
    await grade(reduced.id, 'A', addCalendarDays(s.day, -30), addCalendarDays(s.day, 30));

    const own = await keyFor(rt, 'bidder', { bidderId: exempt.id });
    const res = await account(s.id, exempt.id, own);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      requiredAmount: '0.00',
      currency: 'CNY',
      exempt: true,
      creditReduction: { grade: 'AAA', percent: 100, source, validFrom: addCalendarDays(s.day, -30), validTo: addCalendarDays(s.day, 30), fullAmount: '50000.00' },
    });
    expect(res.body.exemptionNotice).toContain(`免交投标保证金：信用等级 AAA（${source}`);
    expect(res.body.exemptionNotice).toContain('Exempt from the bid security: credit grade AAA');
    // Asked again, the same answer.
    expect((await account(s.id, exempt.id)).body).toMatchObject({ virtualAccount: res.body.virtualAccount, requiredAmount: '0.00', exempt: true });

    expect((await account(s.id, reduced.id)).body).toMatchObject({ requiredAmount: '40000.00', exempt: false, exemptionNotice: null, creditReduction: { grade: 'A', percent: 20 } });
  });

  it('returns everything an exempt bidder pays anyway as excess, to the account it came from', async () => {
    const s = await section(new Date(Date.now() + 3600_000));
    const b = await w.bidder();
    await grade(b.id, 'AAA', addCalendarDays(s.day, -1), s.day);
    const va = (await account(s.id, b.id)).body.virtualAccount;

    const first = await pay(va, '50000.00', { name: b.account.name, number: b.account.number });
    expect(first).toMatchObject({ status: 'valid', amount: '50000.00', secured: '0.00', excess: '50000.00' });
    const r4 = first.checks.find((c: { rule: string }) => c.rule === 'R4');
    expect(r4).toMatchObject({ ok: true });
    expect(r4.detail).toContain('excess and returned');
    expect(r4.detail).toContain(`exempt from the 50000.00 for credit grade AAA, found by ${source}`);
    const second = await pay(va, '1234.56', { name: b.account.name, number: b.account.number });
    expect(second).toMatchObject({ status: 'valid', secured: '0.00', excess: '1234.56' });

    for (const [d, fen] of [[first, 5_000_000n], [second, 123_456n]] as const) {
      const refunds = await rt.db('refunds').where({ deposit_id: d.id });
      expect(refunds.map((r) => [r.reason, BigInt(r.principal_fen), r.creditor_account_number])).toEqual([['excess', fen, b.account.number]]);
    }
    const [audit] = await rt.db('audit_events').where({ action: 'deposit.valid', entity_id: first.id });
    expect(audit.data).toMatchObject({ required: '0.00', creditReduction: { grade: 'AAA', percent: 100, source, exempt: true, fullAmount: '50000.00' } });
  });

  it('refuses to ask an issuer for a guarantee of nothing on behalf of an exempt bidder (422 R4), and asks for the reduced amount otherwise', async () => {
    const g = new World(rt, app);
    g.centre = w.centre;
    const issuer = await g.issuer('insurance', { callbackUrl: 'https://issuer.example.test/applications' });
    const tendereeId = await w.tenderee();
    const res = await request(app).post('/v1/sections').set(bearer(w.centre)).send(sectionBody(new Date(Date.now() + 3600_000), { tendereeId, acceptedSecurity: ['cash', 'insurance'] }));
    expect(res.status).toBe(201);
    const day = toBusinessDate(new Date(res.body.bidDeadline));
    const exempt = await w.bidder();
    const reduced = await w.bidder();
    await grade(exempt.id, 'AAA', addCalendarDays(day, -30), addCalendarDays(day, 30));
    await grade(reduced.id, 'A', addCalendarDays(day, -30), addCalendarDays(day, 30));
    const apply = (bidderId: string) => request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: res.body.id, issuerId: issuer.id, kind: 'insurance', bidderId });

    const refused = await apply(exempt.id);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'exempt_from_security', rule: 'R4', param: 'sectionId' });
    expect(refused.body.error.message).toContain(`credit grade AAA, found by ${source}`);
    expect(await rt.db('guarantee_applications').where({ section_id: res.body.id, bidder_id: exempt.id })).toHaveLength(0);

    const accepted = await apply(reduced.id);
    expect(accepted.status).toBe(201);
    const [message] = await rt.db('issuer_messages').where({ kind: 'application', subject_id: accepted.body.id });
    expect(typeof message.body === 'string' ? JSON.parse(message.body) : message.body).toMatchObject({ amountRequired: '40000.00', creditReduction: { grade: 'A', percent: 20, exempt: false } });
  });
});

describe('the opening of a section with exempt bidders', () => {
  it('R4 lists who took part and holds an exempt grade at the deadline as secured by exemption, on the roster, its voucher and the audit log; R18 the tenderee sees nothing before', async () => {
    const s = await section(new Date(Date.now() + 8000));
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: s.tendereeId });
    const graded = (b: { id: string }) => grade(b.id, 'AAA', addCalendarDays(s.day, -30), addCalendarDays(s.day, 30));
    const unpaid = await w.bidder();
    const paid = await w.bidder();
    const plain = await w.bidder();
    const absent = await w.bidder();
    for (const b of [unpaid, paid, absent]) await graded(b);
    for (const b of [unpaid, plain]) expect((await account(s.id, b.id)).status).toBe(201);
    const paidVa = (await account(s.id, paid.id)).body.virtualAccount;
    const d = await pay(paidVa, '50000.00', { name: paid.account.name, number: paid.account.number });
    expect(d).toMatchObject({ status: 'valid', excess: '50000.00' });

    // R18: before the opening the tenderee learns nothing of who is exempt or secured.
    expect((await request(app).get(`/v1/sections/${s.id}/roster`).set(bearer(tenderee))).status).toBe(404);
    const listed = await request(app).get('/v1/deposits').query({ sectionId: s.id }).set(bearer(tenderee));
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([]);
    expect([403, 404]).toContain((await request(app).get(`/v1/bidders/${unpaid.id}/credit`).set(bearer(tenderee))).status);
    expect([403, 404]).toContain((await account(s.id, unpaid.id, tenderee)).status);

    await untilPast(s.deadline);
    const opened = await request(app).post(`/v1/sections/${s.id}/opening`).set(bearer(w.centre)).send({});
    expect(opened.status).toBe(201);
    const exemption = { grade: 'AAA', source, validFrom: addCalendarDays(s.day, -30), validTo: addCalendarDays(s.day, 30) };
    expect(lineOf(opened.body.entries, unpaid.id)).toMatchObject({ security: 'exemption', status: 'secured', amount: null, depositIds: [], rules: ['R4'], creditExemption: exemption });
    expect(lineOf(opened.body.entries, paid.id)).toMatchObject({ security: 'exemption', status: 'secured', amount: null, depositIds: [d.id], creditExemption: exemption });
    expect(lineOf(opened.body.entries, plain.id)).toMatchObject({ security: null, status: 'missing', creditExemption: null });
    // Graded but never took part: not on the roster at all.
    expect(lineOf(opened.body.entries, absent.id)).toBeUndefined();
    // The payment stays excess, on its way back; nothing of it was made to secure the bid.
    expect((await deposit(d.id)).body).toMatchObject({ status: 'valid', secured: '0.00', excess: '50000.00' });

    // After the opening the tenderee sees the roster, exemptions included.
    const seen = await request(app).get(`/v1/sections/${s.id}/roster`).set(bearer(tenderee));
    expect(seen.status).toBe(200);
    expect(lineOf(seen.body.entries, unpaid.id)).toMatchObject({ security: 'exemption', creditExemption: exemption });

    const [audit] = await rt.db('audit_events').where({ action: 'section.opened', entity_id: s.id });
    expect(audit.data.secured).toEqual(expect.arrayContaining([unpaid.id, paid.id]));
    expect(audit.data.exempt).toHaveLength(2);
    expect(audit.data.exempt).toEqual(expect.arrayContaining([
      expect.objectContaining({ bidderId: unpaid.id, grade: 'AAA', percent: 100, source, exempt: true, required: '0.00', gradeId: expect.any(String) }),
      expect.objectContaining({ bidderId: paid.id, grade: 'AAA', source }),
    ]));

    // The signed roster says so, with the grade and its source.
    expect(await renderAndSign(rt, opened.body.voucherId)).toBe('signed');
    const pdf = await request(app).get(`/v1/vouchers/${opened.body.voucherId}/pdf`).set(bearer(w.centre)).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect([pdf.status, pdf.headers['content-type']]).toEqual([200, 'application/pdf']);
    const file = path.join(tmp, 'roster.pdf');
    writeFileSync(file, pdf.body as Buffer);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).toContain('信用免缴 Exempt by credit');
    expect(text).toContain('其中信用免缴');
    expect(text).toContain('信用等级 Grade AAA');
    expect(text).toContain('信用中国（浙江）');
    expect(text).toContain(`${exemption.validFrom} – ${exemption.validTo}`);
  });

  it('R4 judges the grade at the deadline: one lapsed by a postponed deadline or replaced before it does not exempt at the opening', async () => {
    const s = await section(new Date(Date.now() + 86400e3));
    const lapsing = await w.bidder();
    const regraded = await w.bidder();
    const paidThenLapsed = await w.bidder();
    const holding = await w.bidder();
    for (const b of [lapsing, paidThenLapsed]) await grade(b.id, 'AAA', addCalendarDays(s.day, -30), s.day);
    for (const b of [regraded, holding]) await grade(b.id, 'AAA', addCalendarDays(s.day, -30), addCalendarDays(s.day, 30));
    for (const b of [lapsing, regraded, holding]) expect((await account(s.id, b.id)).body).toMatchObject({ requiredAmount: '0.00', exempt: true });
    const va = (await account(s.id, paidThenLapsed.id)).body.virtualAccount;
    const d = await pay(va, '50000.00', { name: paidThenLapsed.account.name, number: paidThenLapsed.account.number });
    expect(d).toMatchObject({ status: 'valid', secured: '0.00', excess: '50000.00' });

    // A re-assessment lowers one bidder's grade for the deadline's day.
    await grade(regraded.id, 'B', addCalendarDays(s.day, -1), addCalendarDays(s.day, 60));
    // 延期开标: the new deadline falls after two of the findings lapse.
    const newDeadline = new Date(s.deadline.getTime() + 3 * 86400e3);
    const postponed = await request(app).post(`/v1/sections/${s.id}/postponement`).set(bearer(w.centre)).send({ bidDeadline: newDeadline.toISOString(), reason: '延期开标' });
    expect(postponed.status).toBe(200);
    for (const b of [lapsing, regraded]) expect((await account(s.id, b.id)).body).toMatchObject({ requiredAmount: '50000.00', exempt: false, exemptionNotice: null });

    const { roster } = await rt.db.transaction((tx) => openSection(tx, rt.tables.calendar, { keyId: 'test-opening', role: 'centre' }, s.id, new Date(newDeadline.getTime() + 60_000)));
    const line = (id: string) => roster.entries.find((e) => e.bidderId === id);
    expect(line(lapsing.id)).toMatchObject({ security: null, status: 'missing', exemption: null });
    expect(line(regraded.id)).toMatchObject({ security: null, status: 'missing', exemption: null });
    // Exempt when it paid, owing the full security at the deadline: what it paid was excess and is
    // on its way back, so nothing secures its bid.
    expect(line(paidThenLapsed.id)).toMatchObject({ security: 'cash', status: 'insufficient', rules: ['R4'], amountFen: '0' });
    expect(line(holding.id)).toMatchObject({ security: 'exemption', status: 'secured', exemption: { grade: 'AAA', source } });
    const [audit] = await rt.db('audit_events').where({ action: 'section.opened', entity_id: s.id });
    expect(audit.data.exempt.map((x: { bidderId: string }) => x.bidderId)).toEqual([holding.id]);
  });
});
