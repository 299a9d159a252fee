import path from 'node:path';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { issueCertificate } from '../../src/pki/certs';
import { ensureDevPki } from '../../src/pki/devPki';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;
let tendereeId: string;

const devCa = () => {
  const p = ensureDevPki(path.join(testDataDir(), 'pki'));
  return { keyPem: readFileSync(p.rootKey, 'utf8'), certPem: readFileSync(p.rootCert, 'utf8') };
};
const suffix = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;

beforeAll(async () => {
  rt = await startTestRuntime({ BIDBOND_DEPOSIT_CAP: '800000.00' });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  tendereeId = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市住建局', uscc: uniqueUscc() })).body.id;
});
afterAll(async () => {
  await rt.close();
});

const section = (over: Record<string, unknown> = {}) => ({
  projectCode: `P-${suffix()}`,
  sectionCode: 'S-01',
  name: '市政道路工程一标段',
  tendereeId,
  regime: 'tendering_law',
  estimatedPrice: '10000000.00',
  depositAmount: '200000.00',
  currency: 'CNY',
  bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
  bidValidityDays: 90,
  acceptedSecurity: ['bank', 'insurance'],
  ...over,
});

describe('sections', () => {
  it('R1 accepts exactly 2% of the estimated price and refuses one fen more, writing nothing', async () => {
    const ok = await request(app).post('/v1/sections').set(bearer(centre)).send(section());
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ depositAmount: '200000.00', estimatedPrice: '10000000.00', status: 'open', guaranteeBankMatch: 'bank' });
    const body = section({ depositAmount: '200000.01' });
    const over = await request(app).post('/v1/sections').set(bearer(centre)).send(body);
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ rule: 'R1', code: 'deposit_exceeds_limit', param: 'depositAmount' });
    expect(await rt.db('sections').where({ project_code: body.projectCode })).toHaveLength(0);
  });

  it('R1 applies the configured cap to works sections, and a section\u2019s own cap', async () => {
    const capped = await request(app).post('/v1/sections').set(bearer(centre)).send(section({ estimatedPrice: '100000000.00', depositAmount: '900000.00' }));
    expect(capped.status).toBe(422);
    expect(capped.body.error.rule).toBe('R1');
    const procurement = await request(app).post('/v1/sections').set(bearer(centre)).send(section({ regime: 'government_procurement', estimatedPrice: '100000000.00', depositAmount: '900000.00' }));
    expect(procurement.status).toBe(201);
    const own = await request(app).post('/v1/sections').set(bearer(centre)).send(section({ depositCap: '100000.00' }));
    expect(own.status).toBe(422);
  });

  it('refuses bad amounts, a past deadline, an unknown tenderee, cash without a deposit bank and a duplicate', async () => {
    for (const [over, status, param] of [
      [{ depositAmount: '1e5' }, 400, 'depositAmount'],
      [{ depositAmount: '-1.00' }, 400, 'depositAmount'],
      [{ depositAmount: '100.001' }, 400, 'depositAmount'],
      [{ currency: 'USD' }, 400, 'currency'],
      [{ bidValidityDays: 0 }, 400, 'bidValidityDays'],
      [{ acceptedSecurity: ['bank', 'bank'] }, 400, 'acceptedSecurity'],
      [{ bidDeadline: new Date(Date.now() - 1000).toISOString() }, 422, 'bidDeadline'],
      [{ tendereeId: 'tnd_01m8dhwtfqcpm4m4frb35syc6b' }, 422, 'tendereeId'],
      [{ acceptedSecurity: ['cash'] }, 422, 'depositBankId'],
    ] as const) {
      const res = await request(app).post('/v1/sections').set(bearer(centre)).send(section(over));
      expect([res.status, res.body.error?.param]).toEqual([status, param]);
    }
    const body = section();
    expect((await request(app).post('/v1/sections').set(bearer(centre)).send(body)).status).toBe(201);
    const again = await request(app).post('/v1/sections').set(bearer(centre)).send(body);
    expect(again.status).toBe(409);
  });

  it('shows a tenderee only its own sections and every bidder the public notices, in pages', async () => {
    const otherTenderee = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '另一招标人', uscc: uniqueUscc() })).body.id;
    const mine = (await request(app).post('/v1/sections').set(bearer(centre)).send(section())).body;
    const theirs = (await request(app).post('/v1/sections').set(bearer(centre)).send(section({ tendereeId: otherTenderee }))).body;
    const tKey = await keyFor(rt, 'tenderee', { tendereeId });
    expect((await request(app).get(`/v1/sections/${mine.id}`).set(bearer(tKey))).status).toBe(200);
    expect((await request(app).get(`/v1/sections/${theirs.id}`).set(bearer(tKey))).status).toBe(404);
    const list = await request(app).get('/v1/sections?limit=100').set(bearer(tKey));
    expect(list.body.data.every((s: { tendereeId: string }) => s.tendereeId === tendereeId)).toBe(true);
    const bidder = (await request(app).post('/v1/bidders').set(bearer(centre)).send({ name: '乙', uscc: uniqueUscc(), basicAccount: { bankCode: bankCode(), number: '6222000011112222', name: '乙' } })).body.id;
    const bKey = await keyFor(rt, 'bidder', { bidderId: bidder });
    expect((await request(app).get(`/v1/sections/${theirs.id}`).set(bearer(bKey))).status).toBe(200);
    const page1 = await request(app).get('/v1/sections?limit=2').set(bearer(centre));
    expect(page1.body).toMatchObject({ object: 'list', hasMore: true });
    const page2 = await request(app).get(`/v1/sections?limit=2&cursor=${page1.body.nextCursor}`).set(bearer(centre));
    expect(page2.body.data[0].id > page1.body.data[1].id).toBe(true);
    expect((await request(app).get('/v1/sections?limit=101').set(bearer(centre))).status).toBe(400);
    expect((await request(app).get('/v1/sections?cursor=nonsense').set(bearer(centre))).status).toBe(400);
  });
});

describe('issuers, banks and their certificates', () => {
  it('requires a bank code for a bank issuer and a certificate that chains to the trust root', async () => {
    const cert = issueCertificate({ commonName: 'issuer', ca: devCa() });
    const noCode = await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '银行', kind: 'bank', certificatePem: cert.certPem });
    expect([noCode.status, noCode.body.error.param]).toEqual([400, 'bankCode']);
    const selfSigned = issueCertificate({ commonName: 'rogue', isCa: true });
    const untrusted = await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '保险', kind: 'insurance', certificatePem: selfSigned.certPem });
    expect([untrusted.status, untrusted.body.error.code]).toEqual([422, 'certificate_untrusted']);
    const expired = issueCertificate({ commonName: 'old', ca: devCa(), notBefore: new Date(Date.now() - 3 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
    const old = await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '保险', kind: 'insurance', certificatePem: expired.certPem });
    expect([old.status, old.body.error.code]).toEqual([422, 'certificate_expired']);
    const garbage = await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '保险', kind: 'insurance', certificatePem: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(200)}\n-----END CERTIFICATE-----` });
    expect([garbage.status, garbage.body.error.code]).toEqual([422, 'invalid_certificate']);
    expect(await rt.db('issuers').where({ name: '保险' })).toHaveLength(0);
    const ok = await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '担保公司', kind: 'guarantor', certificatePem: cert.certPem });
    expect(ok.status).toBe(201);
    expect(ok.body.certificates[0].fingerprint).toBe(cert.fingerprint);
  });

  it('rotates a certificate: a second one is added, the first retired, the same one twice is 409', async () => {
    const first = issueCertificate({ commonName: 'first', ca: devCa() });
    const second = issueCertificate({ commonName: 'second', ca: devCa() });
    const issuer = (await request(app).post('/v1/issuers').set(bearer(centre)).send({ name: '信用保险', kind: 'insurance', certificatePem: first.certPem })).body;
    expect((await request(app).post(`/v1/issuers/${issuer.id}/certificates`).set(bearer(centre)).send({ certificatePem: second.certPem })).status).toBe(201);
    expect((await request(app).post(`/v1/issuers/${issuer.id}/certificates`).set(bearer(centre)).send({ certificatePem: second.certPem })).status).toBe(409);
    expect((await request(app).delete(`/v1/issuers/${issuer.id}/certificates/${first.fingerprint}`).set(bearer(centre))).status).toBe(204);
    expect((await request(app).delete(`/v1/issuers/${issuer.id}/certificates/${first.fingerprint}`).set(bearer(centre))).status).toBe(404);
    const got = await request(app).get(`/v1/issuers/${issuer.id}`).set(bearer(centre));
    expect(got.body.certificates.map((c: { retiredAt: string | null }) => c.retiredAt === null)).toEqual([false, true]);
  });

  it('registers a deposit bank once per virtual-account prefix', async () => {
    const cert = issueCertificate({ commonName: 'bank', ca: devCa() });
    const prefix = String(Date.now()).slice(-9);
    const bank = {
      name: '存款银行', bankCode: bankCode('104'), adapter: 'iso20022', endpoint: 'https://bank.example/h2h', certificatePem: cert.certPem,
      trustAccount: { number: '0123456789012345678', name: '保证金专户' }, virtualAccountPrefix: prefix,
    };
    const created = await request(app).post('/v1/banks').set(bearer(centre)).send(bank);
    expect(created.status).toBe(201);
    expect(created.body.trustAccount.number).toBe('0123456789012345678');
    const other = issueCertificate({ commonName: 'bank2', ca: devCa() });
    const dup = await request(app).post('/v1/banks').set(bearer(centre)).send({ ...bank, certificatePem: other.certPem });
    expect(dup.status).toBe(409);
    const bad = await request(app).post('/v1/banks').set(bearer(centre)).send({ ...bank, adapter: 'swift', virtualAccountPrefix: '1' });
    expect(bad.status).toBe(400);
  });
});
