// Every way a signed issuance can fail: 401 with its code, nothing recorded, and the refusal
// counted by reason in /metrics (the audit log keeps at most one security.webhook_rejected event
// per sender address and minute, summing up the rest: see test/api/hostileInput.test.ts).
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { signMessage, signatureToleranceSeconds } from '../../src/pki/messageSignature';
import { bearer, startTestRuntime, testApp } from '../support/runtime';
import { dayMs, newCert, World, type TestIssuer } from './guaranteesFixtures';

let rt: Runtime;
let app: Express;
let w: World;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = await new World(rt, app).init();
});
afterAll(async () => {
  await rt.close();
});

async function expectRejected(issuer: TestIssuer, number: string, res: request.Response, code: string) {
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe(code);
  expect(await rt.db('guarantees').where({ number })).toHaveLength(0);
  expect(await rejectedCount(code)).toBe((countedBefore.get(code) ?? 0) + 1);
  countedBefore.set(code, await rejectedCount(code));
}

// The refusals counted by reason, read before each test so that each expects exactly its own.
const countedBefore = new Map<string, number>();
async function rejectedCount(reason: string): Promise<number> {
  const metric = await rt.metrics.webhookRejected.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}
beforeEach(async () => {
  countedBefore.clear();
  for (const v of (await rt.metrics.webhookRejected.get()).values) countedBefore.set(String(v.labels.reason), v.value);
});

/** Registers an extra certificate straight in the table, as a registry that accepted it earlier would hold it. */
async function registerRaw(issuerId: string, cert: ReturnType<typeof newCert>) {
  await rt.db('certificates').insert({
    fingerprint: cert.fingerprint, owner_type: 'issuer', owner_id: issuerId, pem: cert.certPem, subject: 'CN=test', issuer_dn: 'CN=test',
    serial_number: cert.cert.serialNumber, not_before: cert.cert.validity.notBefore, not_after: cert.cert.validity.notAfter,
  });
}

/** How far outside the window the refused timestamps are: the exact second is the unit test's
 *  (test/unit/pki/messageSignature.test.ts, on a fixed clock); over HTTP the time between signing
 *  and the server's check, a second or more on a loaded machine, must not bring one back inside. */
const outsideWindowMs = (signatureToleranceSeconds + 60) * 1000;

describe('issuance signatures', () => {
  it('refuses a timestamp more than 300 s in the past', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    await expectRejected(sc.issuer, body.number, await w.issue(sc.issuer, body, { now: new Date(Date.now() - outsideWindowMs) }), 'timestamp_out_of_tolerance');
  });

  it('refuses a timestamp more than 300 s in the future', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    await expectRejected(sc.issuer, body.number, await w.issue(sc.issuer, body, { now: new Date(Date.now() + outsideWindowMs) }), 'timestamp_out_of_tolerance');
  });

  it('accepts a timestamp within the tolerance', async () => {
    const sc = await w.scene('insurance');
    expect((await w.issue(sc.issuer, w.issuance(sc), { now: new Date(Date.now() - 200_000) })).status).toBe(201);
  });

  it('refuses an unknown certificate', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    const stranger = newCert();
    await expectRejected(sc.issuer, body.number, await w.issue({ ...sc.issuer, keyPem: stranger.keyPem, fingerprint: stranger.fingerprint }, body), 'certificate_unknown');
  });

  it("refuses another issuer's certificate", async () => {
    const sc = await w.scene('insurance');
    const other = await w.issuer('insurance');
    const body = w.issuance(sc);
    await expectRejected(sc.issuer, body.number, await w.issue({ ...sc.issuer, keyPem: other.keyPem, fingerprint: other.fingerprint }, body), 'certificate_sender_mismatch');
  });

  it('refuses an expired certificate', async () => {
    const sc = await w.scene('insurance');
    const expired = newCert({ notBefore: new Date(Date.now() - 10 * dayMs), notAfter: new Date(Date.now() - dayMs) });
    await registerRaw(sc.issuer.id, expired);
    const body = w.issuance(sc);
    await expectRejected(sc.issuer, body.number, await w.issue({ ...sc.issuer, keyPem: expired.keyPem, fingerprint: expired.fingerprint }, body), 'certificate_expired');
  });

  it('refuses a certificate that does not chain to the trust root', async () => {
    const sc = await w.scene('insurance');
    const selfSigned = newCert({ selfSigned: true });
    await registerRaw(sc.issuer.id, selfSigned);
    const body = w.issuance(sc);
    await expectRejected(sc.issuer, body.number, await w.issue({ ...sc.issuer, keyPem: selfSigned.keyPem, fingerprint: selfSigned.fingerprint }, body), 'certificate_untrusted');
  });

  it('refuses a signature over different bytes', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    const headers = signMessage(Buffer.from(JSON.stringify({ ...body, amount: '1.00' })), sc.issuer);
    const res = await request(app).post(`/v1/issuers/${sc.issuer.id}/guarantees`).set('Content-Type', 'application/json').set(headers).send(JSON.stringify(body));
    await expectRejected(sc.issuer, body.number, res, 'signature_invalid');
  });

  it('refuses a request without the signature headers', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    for (const drop of ['Bidbond-Timestamp', 'Bidbond-Certificate', 'Bidbond-Signature']) {
      const headers = signMessage(Buffer.from(JSON.stringify(body)), sc.issuer);
      delete headers[drop];
      const res = await request(app).post(`/v1/issuers/${sc.issuer.id}/guarantees`).set('Content-Type', 'application/json').set(headers).send(JSON.stringify(body));
      await expectRejected(sc.issuer, body.number, res, 'signature_missing');
    }
  });

  it('refuses signed events on a guarantee the same way', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    expect((await w.issue(sc.issuer, body)).status).toBe(201);
    const res = await w.signed(`/v1/issuers/${sc.issuer.id}/guarantees/${body.number}/events`, { eventId: 'e1', type: 'cancelled' }, sc.issuer, { now: new Date(Date.now() - 3600_000) });
    expect(res.status).toBe(401);
    expect((await rt.db('guarantees').where({ number: body.number }).first()).status).toBe('issued');
  });
});

describe('certificate rotation', () => {
  it('accepts two valid certificates at once and refuses the one retired', async () => {
    const sc = await w.scene('insurance');
    const next = newCert();
    const added = await request(app).post(`/v1/issuers/${sc.issuer.id}/certificates`).set(bearer(w.centre)).send({ certificatePem: next.certPem });
    expect(added.status).toBe(201);
    const withNext = { ...sc.issuer, keyPem: next.keyPem, fingerprint: next.fingerprint };
    const bidder2 = await w.bidder();
    expect((await w.issue(sc.issuer, w.issuance(sc))).status).toBe(201);
    expect((await w.issue(withNext, w.issuance({ ...sc, bidder: bidder2 }))).status).toBe(201);

    const retired = await request(app).delete(`/v1/issuers/${sc.issuer.id}/certificates/${sc.issuer.fingerprint}`).set(bearer(w.centre));
    expect(retired.status).toBe(204);
    const bidder3 = await w.bidder();
    const body = w.issuance({ ...sc, bidder: bidder3 });
    await expectRejected(sc.issuer, body.number, await w.issue(sc.issuer, body), 'certificate_retired');
    expect((await w.issue(withNext, body)).status).toBe(201);
  });
});
