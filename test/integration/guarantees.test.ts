// Applications, claims and releases end to end: a test issuer over node:http checks our
// signature with the service certificate; the worker delivers through the outbox and BullMQ,
// retrying while the issuer answers 500.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { checkMessageSignature } from '../../src/pki/messageSignature';
import { startWorkers, type RunningWorkers } from '../../src/queue/worker';
import { guaranteeJobHandlers } from '../../src/guarantees/jobs';
import { releaseGuaranteesForSection, secureGuaranteesAtOpening } from '../../src/guarantees/lifecycle';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bankCode, bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { World } from '../api/guaranteesFixtures';

interface Received { path: string; body: Record<string, unknown>; signatureProblem: string | null }

class TestIssuerServer {
  received: Received[] = [];
  failNext = 0;
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const signatureProblem = checkMessageSignature(
        { timestamp: req.headers['bidbond-timestamp'] as string, signature: req.headers['bidbond-signature'] as string },
        raw,
        this.certPem,
      );
      const fingerprintOk = req.headers['bidbond-certificate'] === this.fingerprint;
      this.received.push({ path: req.url ?? '', body: JSON.parse(raw.toString('utf8')), signatureProblem: fingerprintOk ? signatureProblem : 'fingerprint' });
      if (this.failNext > 0) {
        this.failNext--;
        res.writeHead(500).end('down for maintenance');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  constructor(readonly certPem: string, readonly fingerprint: string) {}
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/bidbond`;
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let rt: Runtime;
let app: Express;
let w: World;
let workers: RunningWorkers;
let issuerServer: TestIssuerServer;
let callbackUrl: string;

let isolated: IsolatedDatabase;

beforeAll(async () => {
  // A database and queues of its own: these workers act on every guarantee job they find.
  isolated = await createIsolatedDatabase('guarantees');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  w = await new World(rt, app).init();
  issuerServer = new TestIssuerServer(rt.signer.certPem, rt.signer.fingerprint);
  callbackUrl = await issuerServer.start();
  workers = await startWorkers(rt, process.env.REDIS_URL!, guaranteeJobHandlers);
});
afterAll(async () => {
  await workers?.close();
  await issuerServer?.stop();
  await rt?.close();
  await isolated?.drop();
});

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('applications', () => {
  it('goes from request to issuance against the issuer, signed both ways', async () => {
    const sc = await w.scene('bank', {}, { callbackUrl });
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: sc.bidder.id });
    const created = await request(app).post('/v1/guarantee-applications').set(bearer(bidderKey)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'bank' });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('submitted');
    const msg = await until('the application at the issuer', async () => issuerServer.received.find((m) => m.body.applicationId === created.body.id));
    expect(msg.signatureProblem).toBeNull();
    expect(msg.body).toMatchObject({
      type: 'application',
      kind: 'bank',
      amountRequired: '50000.00',
      beneficiary: { uscc: sc.tenderee.uscc },
      section: { id: sc.section.id, projectCode: sc.section.projectCode },
      applicant: { uscc: sc.bidder.uscc, basicAccount: { bankCode: sc.bidder.bankCode } },
      bidDeadline: sc.section.bidDeadline,
    });
    expect(msg.body.validUntilRequired).toEqual(expect.any(String));
    await until('sent', async () => (await request(app).get(`/v1/guarantee-applications/${created.body.id}`).set(bearer(bidderKey))).body.status === 'sent');

    const issued = await w.issue(sc.issuer, w.issuance(sc, { applicationId: created.body.id }));
    expect(issued.body).toMatchObject({ status: 'issued', applicationId: created.body.id });
    const after = await request(app).get(`/v1/guarantee-applications/${created.body.id}`).set(bearer(bidderKey));
    expect(after.body).toMatchObject({ status: 'issued', guaranteeId: issued.body.id });
    const list = await request(app).get('/v1/guarantee-applications').set(bearer(bidderKey));
    expect(list.body.data.map((a: { id: string }) => a.id)).toEqual([created.body.id]);
  });

  it('keeps trying while the issuer answers 500, records every attempt, and is sent when it recovers', async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    issuerServer.failNext = 2;
    const created = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'insurance', bidderId: sc.bidder.id });
    expect(created.status).toBe(201);
    const message = await until('delivered', async () => rt.db('issuer_messages').where({ subject_id: created.body.id, status: 'sent' }).first());
    const attempts = await rt.db('issuer_message_attempts').where({ message_id: message.id }).orderBy('attempt');
    expect(attempts.map((a) => a.http_status)).toEqual([500, 500, 200]);
    expect(message.attempts).toBe(3);
    expect((await rt.db('guarantee_applications').where({ id: created.body.id }).first()).status).toBe('sent');
  });

  it('is declined by the issuer, once', async () => {
    const sc = await w.scene('guarantor', {}, { callbackUrl });
    const created = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'guarantor', bidderId: sc.bidder.id });
    const path = `/v1/issuers/${sc.issuer.id}/applications/${created.body.id}/events`;
    const declined = await w.signed(path, { eventId: 'decline-1', type: 'declined', reason: '资信不足' }, sc.issuer);
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'declined', declineReason: '资信不足' });
    const again = await w.signed(path, { eventId: 'decline-2', type: 'declined', reason: '资信不足' }, sc.issuer);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('illegal_transition');
    const issuance = await w.issue(sc.issuer, w.issuance(sc, { applicationId: created.body.id }));
    expect(issuance.status).toBe(409);
  });

  it('R6 refuses a bank that is not the basic-account bank and names the banks that qualify', async () => {
    const good = await w.issuer('bank', { bankCode: bankCode('103', '1000', '0101'), callbackUrl });
    const wrong = await w.issuer('bank', { bankCode: bankCode('104', '1000', '0101'), callbackUrl });
    const tenderee = await w.tenderee();
    const bidder = await w.bidder(bankCode('103', '1000', '0102'));
    const section = await w.section(tenderee.id);
    const res = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: section.id, issuerId: wrong.id, kind: 'bank', bidderId: bidder.id });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'R6', code: 'issuer_not_basic_account_bank' });
    expect(res.body.error.details.qualifyingIssuers.map((i: { id: string }) => i.id)).toContain(good.id);
    expect(res.body.error.details.qualifyingIssuers.map((i: { id: string }) => i.id)).not.toContain(wrong.id);
    expect(await rt.db('guarantee_applications').where({ bidder_id: bidder.id })).toHaveLength(0);
  });

  it('R8 refuses a kind the section does not accept', async () => {
    const sc = await w.scene('guarantor', { accepted: ['bank', 'insurance'] }, { callbackUrl });
    const res = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'guarantor', bidderId: sc.bidder.id });
    expect(res.status).toBe(422);
    expect(res.body.error.rule).toBe('R8');
  });

  it('R3 refuses an application once the bid deadline has passed', async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    await rt.db('sections').where({ id: sc.section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const res = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'insurance', bidderId: sc.bidder.id });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ rule: 'R3', code: 'section_closed' });
  });

  it("refuses an issuer whose kind is not the one applied for, and another bidder's id from a bidder", async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    const res = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'guarantor', bidderId: sc.bidder.id });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('issuer_kind_mismatch');
    const other = await w.bidder();
    const key = await keyFor(rt, 'bidder', { bidderId: sc.bidder.id });
    const notMine = await request(app).post('/v1/guarantee-applications').set(bearer(key)).send({ sectionId: sc.section.id, issuerId: sc.issuer.id, kind: 'insurance', bidderId: other.id });
    expect(notMine.status).toBe(404);
  });
});

describe('claims', () => {
  /** Issued a few seconds before its section's deadline, which the test then waits out. */
  async function issuedAfterDeadline(opts: { failNext?: number } = {}) {
    const sc = await w.scene('insurance', { deadline: new Date(Date.now() + 3_000) }, { callbackUrl });
    const g = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const at = new Date(sc.section.bidDeadline).getTime();
    while (Date.now() <= at) await new Promise((r) => setTimeout(r, Math.max(10, at - Date.now() + 5)));
    issuerServer.failNext = opts.failNext ?? 0;
    return { sc, g };
  }
  const withdrawAfterDeadline = async (sc: { section: { id: string }; bidder: { id: string } }) => {
    const wd = await request(app).post(`/v1/sections/${sc.section.id}/withdrawals`).set(bearer(w.centre)).send({ bidderId: sc.bidder.id });
    expect(wd.body).toMatchObject({ afterDeadline: true, rule: 'R10' });
  };

  it('R12 claims after a withdrawal after the deadline, sends the signed claim to the issuer through a 500, and requests a claim notice', async () => {
    const { sc, g } = await issuedAfterDeadline({ failNext: 1 });
    await withdrawAfterDeadline(sc);
    const res = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'withdrawal_after_deadline', amount: '50000.00' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'claimed', claim: { reason: 'withdrawal_after_deadline', amount: '50000.00' } });
    expect(await rt.db('vouchers').where({ id: res.body.voucherId, kind: 'claim_notice' }).first()).toBeDefined();
    const row = await rt.db('guarantees').where({ id: g.id }).first();
    expect(row.claimed_by).toMatch(/^key_/);
    const message = await until('claim delivered', async () => rt.db('issuer_messages').where({ subject_id: g.id, kind: 'claim', status: 'sent' }).first());
    expect((await rt.db('issuer_message_attempts').where({ message_id: message.id })).map((a) => a.http_status).sort()).toEqual([200, 500]);
    const got = issuerServer.received.find((m) => m.body.guaranteeId === g.id && m.body.type === 'claim');
    expect(got).toMatchObject({ signatureProblem: null, body: { reason: 'withdrawal_after_deadline', amount: '50000.00', number: g.number } });
    expect(await rt.db('audit_events').where({ entity_id: g.id, action: 'guarantee.claimed' })).toHaveLength(1);

    const again = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'false_documents', amount: '1.00' });
    expect(again.status).toBe(409);
  });

  it('R12 refuses every claim before the bid deadline, as a forfeiture', async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    const g = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const res = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'false_documents', amount: '100.00' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'R12', code: 'claim_not_allowed' });
  });

  it('R12 refuses a claim for a withdrawal after the deadline that is not on record, as a forfeiture does', async () => {
    const { sc, g } = await issuedAfterDeadline();
    const res = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'withdrawal_after_deadline', amount: '100.00' });
    expect([res.status, res.body.error.rule]).toEqual([422, 'R12']);
    expect(res.body.error.message).toMatch(/no withdrawal after the deadline is recorded/);
    expect((await rt.db('guarantees').where({ id: g.id }).first()).status).toBe('issued');
    await withdrawAfterDeadline(sc);
    const after = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'withdrawal_after_deadline', amount: '100.00' });
    expect(after.body).toMatchObject({ status: 'claimed', claim: { reason: 'withdrawal_after_deadline', amount: '100.00' } });
  });

  it('R12 refuses a reason outside the list, more than the guarantee, and a winner reason before any award', async () => {
    const { g } = await issuedAfterDeadline();
    const reason = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'late_payment', amount: '1.00' });
    expect(reason.status).toBe(400);
    const tooMuch = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'false_documents', amount: '50000.01' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.rule).toBe('R12');
    const winner = await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'refused_to_sign', amount: '1.00' });
    expect(winner.status).toBe(422);
    expect(winner.body.error.rule).toBe('R12');
    expect(winner.body.error.message).toMatch(/applies only to the winner; the section has no award/);
    expect((await rt.db('guarantees').where({ id: g.id }).first()).status).toBe('issued');
  });

  it('lets the issuer answer a claim with claim_paid', async () => {
    const { sc, g } = await issuedAfterDeadline();
    await request(app).post(`/v1/guarantees/${g.id}/claims`).set(bearer(w.centre)).send({ reason: 'false_documents', amount: '20000.00' });
    const paid = await w.event(sc.issuer, g.number, { type: 'claim_paid', amount: '20000.00' });
    expect(paid.body.status).toBe('claim_paid');
  });
});

describe('opening and release', () => {
  it('secures issued guarantees at opening and reports rejected ones as invalid with their rules', async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    const good = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const other = await w.bidder();
    const bad = (await w.issue(sc.issuer, w.issuance({ ...sc, bidder: other }, { amount: '1.00' }))).body;
    const roster = await rt.db.transaction((tx) => secureGuaranteesAtOpening(tx, sc.section.id));
    expect(roster).toEqual(expect.arrayContaining([
      { bidderId: sc.bidder.id, guaranteeId: good.id, status: 'secured', rules: [] },
      { bidderId: other.id, guaranteeId: bad.id, status: 'invalid', rules: ['R4'] },
    ]));
    expect((await rt.db('guarantees').where({ id: good.id }).first()).status).toBe('secured');
  });

  it('releases secured guarantees after the contract and tells each issuer, signed', async () => {
    const sc = await w.scene('insurance', {}, { callbackUrl });
    const g = (await w.issue(sc.issuer, w.issuance(sc))).body;
    await rt.db.transaction((tx) => secureGuaranteesAtOpening(tx, sc.section.id));
    const released = await rt.db.transaction((tx) => releaseGuaranteesForSection(tx, sc.section.id, 'contract', { type: 'centre', id: 'key_test' }));
    expect(released).toEqual([g.id]);
    expect((await rt.db('guarantees').where({ id: g.id }).first())).toMatchObject({ status: 'released', release_reason: 'contract' });
    const msg = await until('release at the issuer', async () => issuerServer.received.find((m) => m.body.guaranteeId === g.id && m.body.type === 'release'));
    expect(msg.signatureProblem).toBeNull();
    expect(await rt.db.transaction((tx) => releaseGuaranteesForSection(tx, sc.section.id, 'contract', { type: 'centre' }))).toEqual([]);
  });
});
