// Postponed bid deadlines (延期开标): the centre moves the deadline later before it passes;
// guarantees that no longer cover R2's window are sent a signed extension request, and one not
// extended fails R2 at the opening; cash is judged by R3 against the new deadline.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { addCalendarDays, toBusinessDate } from '../../src/domain/time';
import { requiredValidUntil } from '../../src/domain/rules';
import { deliverIssuerMessage } from '../../src/guarantees/messages';
import { eventsFor } from '../../src/events/rules';
import { checkMessageSignature } from '../../src/pki/messageSignature';
import { openSection } from '../../src/sections/service';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';
import { World, dayMs, unique } from './guaranteesFixtures';

let rt: Runtime;
let app: Express;
let g: World;
let w: DepositWorld;
let bank: Bank;

/** An issuer's callbackUrl: takes what the service sends and keeps it, signature headers and all. */
const received: { path: string; body: Record<string, any>; raw: Buffer; headers: http.IncomingHttpHeaders }[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    received.push({ path: req.url ?? '', body: JSON.parse(raw.toString('utf8')), raw, headers: req.headers });
    res.writeHead(200).end();
  });
});
let base = '';

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  g = await new World(rt, app).init();
  w = new DepositWorld(rt, app, g.centre);
  bank = await w.bank();
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => receiver.close(() => r()));
  await rt.close();
});

const postpone = (sectionId: string, body: unknown, key = g.centre) => request(app).post(`/v1/sections/${sectionId}/postponement`).set(bearer(key)).send(body as object);

/** The message reaches the issuer: delivered here, or by a worker of the run that took its job. */
async function delivered(messageId: string) {
  await deliverIssuerMessage(rt, messageId).catch(() => undefined);
  for (let i = 0; i < 200; i++) {
    const got = received.find((m) => m.body.messageId === messageId);
    if (got) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${messageId} never reached the issuer`);
}

describe('guarantees after a postponement', () => {
  it('R2 asks every guarantee that no longer covers the window to be extended; the one extended is secured at the opening, the other fails R2', async () => {
    const extending = await g.issuer('insurance', { callbackUrl: `${base}/extending` });
    const silent = await g.issuer('guarantor', { callbackUrl: `${base}/silent` });
    const tenderee = await g.tenderee();
    const deadline = new Date(Date.now() + 10 * dayMs);
    const s = await g.section(tenderee.id, { accepted: ['insurance', 'guarantor'], deadline });
    const exact = requiredValidUntil(deadline, s.bidValidityDays);
    const scene = (issuer: typeof extending, bidder: Awaited<ReturnType<World['bidder']>>) => ({ issuer, tenderee, bidder, section: s });
    const [b1, b2, b3] = [await g.bidder(), await g.bidder(), await g.bidder()];
    const issue = async (issuer: typeof extending, bidder: typeof b1, validTo: string) => {
      const body = g.issuance(scene(issuer, bidder), { validTo });
      const res = await g.issue(issuer, body);
      expect([res.status, res.body.status]).toEqual([201, 'issued']);
      return { id: res.body.id as string, number: body.number };
    };
    const willExtend = await issue(extending, b1, exact);
    const wontExtend = await issue(silent, b2, exact);
    const coversAnyway = await issue(extending, b3, addCalendarDays(exact, 60));

    const newDeadline = new Date(deadline.getTime() + 10 * dayMs);
    const res = await postpone(s.id, { bidDeadline: newDeadline.toISOString(), reason: '招标文件澄清，延期开标' });
    expect(res.status).toBe(200);
    expect(res.body.bidDeadline).toBe(newDeadline.toISOString());
    expect(res.body.extensionRequestedGuaranteeIds.sort()).toEqual([willExtend.id, wontExtend.id].sort());
    expect(res.body.extensionRequestedGuaranteeIds).not.toContain(coversAnyway.id);
    expect((await request(app).get(`/v1/sections/${s.id}`).set(bearer(g.centre))).body.bidDeadline).toBe(newDeadline.toISOString());

    // Each bidder is told (an audit action the events relay passes on to it).
    const told = await rt.db('audit_events').where({ action: 'guarantee.extension_requested' }).whereIn('entity_id', [willExtend.id, wontExtend.id]);
    expect(told.map((a) => a.data.bidderId).sort()).toEqual([b1.id, b2.id].sort());
    const newUntil = requiredValidUntil(newDeadline, s.bidValidityDays);
    expect(told[0].data).toMatchObject({ sectionId: s.id, validTo: exact, validUntilRequired: newUntil, rule: 'R2' });
    const [event] = eventsFor({ action: told[0].action, entityType: told[0].entity_type, entityId: told[0].entity_id, data: told[0].data });
    expect(event).toMatchObject({ type: 'guarantee.extension_requested', revealsBidders: true, hints: { bidderId: told[0].data.bidderId, sectionId: s.id } });
    const [postponed] = await rt.db('audit_events').where({ action: 'section.postponed', entity_id: s.id });
    expect(postponed.data).toMatchObject({ previousDeadline: deadline.toISOString(), bidDeadline: newDeadline.toISOString(), reason: '招标文件澄清，延期开标' });
    // R18: the section's event says when and why, not how many guarantees it touched.
    expect(Object.keys(eventsFor({ action: 'section.postponed', entityType: 'section', entityId: s.id, data: postponed.data })[0].data).sort()).toEqual(['bidDeadline', 'previousDeadline', 'reason']);

    // The issuers get a signed request naming the validity needed.
    const messages = await rt.db('issuer_messages').where({ kind: 'extension_request' }).whereIn('subject_id', [willExtend.id, wontExtend.id]);
    expect(messages).toHaveLength(2);
    const toExtending = await delivered(messages.find((m) => m.subject_id === willExtend.id).id);
    expect(toExtending.path).toBe('/extending');
    expect(toExtending.body).toMatchObject({ type: 'extension_request', guaranteeId: willExtend.id, number: willExtend.number, validTo: exact, validUntilRequired: newUntil, bidDeadline: newDeadline.toISOString() });
    const signature = checkMessageSignature({ timestamp: String(toExtending.headers['bidbond-timestamp']), signature: String(toExtending.headers['bidbond-signature']) }, toExtending.raw, rt.signer.certPem);
    expect(signature).toBeNull();
    expect((await delivered(messages.find((m) => m.subject_id === wontExtend.id).id)).path).toBe('/silent');

    // One issuer answers with the usual amendment; the other never does.
    const amended = await g.event(extending, willExtend.number, { type: 'amended', validTo: toExtending.body.validUntilRequired });
    expect([amended.status, amended.body.status, amended.body.validTo]).toEqual([200, 'amended', newUntil]);

    // The opening, once the new deadline has passed, judges R2 against it.
    const caller = { keyId: 'test-opening', role: 'centre' as const };
    const { roster } = await rt.db.transaction((tx) => openSection(tx, rt.tables.calendar, caller, s.id, new Date(newDeadline.getTime() + 60_000)));
    const line = (bidderId: string) => roster.entries.find((e) => e.bidderId === bidderId)!;
    expect(line(b1.id)).toMatchObject({ security: 'guarantee', status: 'secured' });
    expect(line(b2.id)).toMatchObject({ security: 'guarantee', status: 'invalid', rules: ['R2'] });
    expect(line(b3.id)).toMatchObject({ security: 'guarantee', status: 'secured' });
  });

  it('refuses an amendment that still falls short of the new window (R2)', async () => {
    const issuer = await g.issuer('insurance', { callbackUrl: `${base}/short` });
    const sc = await g.scene('insurance', { deadline: new Date(Date.now() + 10 * dayMs) });
    const scene = { ...sc, issuer };
    const body = g.issuance(scene, { validTo: requiredValidUntil(sc.section.bidDeadline, sc.section.bidValidityDays) });
    expect((await g.issue(issuer, body)).body.status).toBe('issued');
    const newDeadline = new Date(new Date(sc.section.bidDeadline).getTime() + 5 * dayMs);
    expect((await postpone(sc.section.id, { bidDeadline: newDeadline.toISOString(), reason: '延期' })).status).toBe(200);
    const tooShort = addCalendarDays(requiredValidUntil(newDeadline, sc.section.bidValidityDays), -1);
    const res = await g.event(issuer, body.number, { type: 'amended', validTo: tooShort });
    expect([res.status, res.body.error.rule]).toEqual([422, 'R2']);
  });
});

describe('cash after a postponement', () => {
  async function cashSection(deadline: Date) {
    const tendereeId = await w.tenderee();
    const res = await request(app).post('/v1/sections').set(bearer(g.centre)).send({
      projectCode: unique('P'), sectionCode: unique('S'), name: '延期标段', tendereeId, regime: 'tendering_law', estimatedPrice: '5000000.00', depositAmount: '50000.00',
      currency: 'CNY', bidDeadline: deadline.toISOString(), bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'insurance'],
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('R3 counts a payment booked after the old deadline and before the new one as on time; a deposit already valid stays so', async () => {
    // Far enough ahead for the first payment to be booked before it on a loaded machine.
    const oldDeadline = new Date(Date.now() + 6000);
    const postponed = await cashSection(oldDeadline);
    const kept = await cashSection(oldDeadline);
    const early = await w.bidder();
    const late = await w.bidder();
    const control = await w.bidder();
    const payer = (b: typeof early) => ({ name: b.account.name, number: b.account.number });
    const earlyVa = await w.virtualAccount(postponed, early.id);
    const lateVa = await w.virtualAccount(postponed, late.id);
    const controlVa = await w.virtualAccount(kept, control.id);
    const first = await w.notify(bank, jsonNotification([entry(earlyVa, '50000.00', payer(early))]));
    expect((await rt.db('deposits').where({ id: first.body.depositIds[0] }).first()).status).toBe('valid');

    const newDeadline = new Date(Date.now() + 3600_000);
    const res = await postpone(postponed, { bidDeadline: newDeadline.toISOString(), reason: '补充公告' });
    expect(res.status).toBe(200);
    expect(res.body.extensionRequestedGuaranteeIds).toEqual([]);
    while (Date.now() <= oldDeadline.getTime() + 100) await new Promise((r) => setTimeout(r, 100));
    // The bids open at the new deadline, not the old one.
    const tooEarly = await request(app).post(`/v1/sections/${postponed}/opening`).set(bearer(g.centre)).send({});
    expect([tooEarly.status, tooEarly.body.error.code]).toEqual([409, 'before_deadline']);

    const bookedAt = new Date();
    expect(bookedAt.getTime()).toBeGreaterThan(oldDeadline.getTime());
    const onTime = await w.notify(bank, jsonNotification([entry(lateVa, '50000.00', payer(late), { bookedAt })]));
    const d = await rt.db('deposits').where({ id: onTime.body.depositIds[0] }).first();
    expect(d.status).toBe('valid');
    expect(d.checks.find((c: { rule: string }) => c.rule === 'R3')).toMatchObject({ ok: true, detail: expect.stringContaining(newDeadline.toISOString()) });
    expect((await rt.db('deposits').where({ id: first.body.depositIds[0] }).first()).status).toBe('valid');

    // The same payment to a section that kept its deadline is late.
    const tooLate = await w.notify(bank, jsonNotification([entry(controlVa, '50000.00', payer(control), { bookedAt })]));
    const c = await rt.db('deposits').where({ id: tooLate.body.depositIds[0] }).first();
    expect([c.status, c.failed_rules]).toEqual(['invalid', ['R3']]);
  });
});

describe('refusals', () => {
  async function openSectionSoon(ms: number) {
    const tenderee = await g.tenderee();
    return g.section(tenderee.id, { deadline: new Date(Date.now() + ms) });
  }
  const unchanged = async (sectionId: string, deadline: string) => {
    expect((await rt.db('sections').where({ id: sectionId }).first()).bid_deadline.toISOString()).toBe(deadline);
    expect(await rt.db('section_postponements').where({ section_id: sectionId })).toHaveLength(0);
    expect(await rt.db('audit_events').where({ action: 'section.postponed', entity_id: sectionId })).toHaveLength(0);
  };

  it('R3 refuses a postponement once the deadline has passed (409), changing nothing', async () => {
    const s = await openSectionSoon(1000);
    while (Date.now() <= new Date(s.bidDeadline).getTime()) await new Promise((r) => setTimeout(r, 50));
    const res = await postpone(s.id, { bidDeadline: new Date(Date.now() + dayMs).toISOString(), reason: '补充公告' });
    expect([res.status, res.body.error.code, res.body.error.rule]).toEqual([409, 'deadline_passed', 'R3']);
    await unchanged(s.id, s.bidDeadline);
  });

  it('refuses bad input (400), an earlier or equal deadline (422), and anyone but the centre (404), changing nothing', async () => {
    const s = await openSectionSoon(10 * dayMs);
    const later = new Date(new Date(s.bidDeadline).getTime() + dayMs).toISOString();
    for (const body of [{ bidDeadline: later }, { reason: '延期' }, { bidDeadline: 'tomorrow', reason: '延期' }, { bidDeadline: later, reason: '' }, { bidDeadline: later, reason: '延期', extra: true }, { bidDeadline: '2026-12-31T10:00:00', reason: '延期' }]) {
      const res = await postpone(s.id, body);
      expect([res.status, res.body.error.type]).toEqual([400, 'invalid_request_error']);
    }
    for (const bidDeadline of [s.bidDeadline, new Date(new Date(s.bidDeadline).getTime() - 60_000).toISOString()]) {
      const res = await postpone(s.id, { bidDeadline, reason: '延期' });
      expect([res.status, res.body.error.code]).toEqual([422, 'deadline_not_later']);
    }
    const tooFar = await postpone(s.id, { bidDeadline: new Date(new Date(s.bidDeadline).getTime() + 400 * dayMs).toISOString(), reason: '延期' });
    expect([tooFar.status, tooFar.body.error.code]).toEqual([422, 'postponement_too_long']);
    const bidder = await g.bidder();
    expect((await postpone(s.id, { bidDeadline: later, reason: '延期' }, await keyFor(rt, 'bidder', { bidderId: bidder.id }))).status).toBe(404);
    expect((await postpone('sec_00000000000000000000000000', { bidDeadline: later, reason: '延期' })).status).toBe(404);
    await unchanged(s.id, s.bidDeadline);
  });

  it('replays a postponement sent twice with the same Idempotency-Key', async () => {
    const s = await openSectionSoon(10 * dayMs);
    const body = { bidDeadline: new Date(new Date(s.bidDeadline).getTime() + dayMs).toISOString(), reason: '延期' };
    const send = () => request(app).post(`/v1/sections/${s.id}/postponement`).set(bearer(g.centre)).set('Idempotency-Key', `pp-${s.id}`).send(body);
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await rt.db('section_postponements').where({ section_id: s.id })).toHaveLength(1);
    expect(toBusinessDate(second.body.bidDeadline)).toBe(toBusinessDate(body.bidDeadline));
  });
});
