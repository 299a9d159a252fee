// The public pages a voucher's QR code opens, without signing in: the voucher's summary (nothing
// R18 protects before the opening), the check of an uploaded PDF with one verdict, the 验真 of a
// guarantee document, and the per-address rate limit and no-store caching of all of them.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { PDFDocument } from 'pdf-lib';
import { issueCertificate } from '../../src/pki/certs';
import type { Runtime } from '../../src/runtime';
import { publicReadsPerMinute, publicUploadsPerMinute, rateLimitWindowSeconds } from '../../src/http/rateLimit';
import { composeVoucherInput } from '../../src/vouchers/compose';
import { findVoucher } from '../../src/vouchers/repo';
import { renderAndSign } from '../../src/vouchers/service';
import { renderAndSignVoucher } from '../../src/vouchers/sign';
import { signerFrom, type Signer } from '../../src/vouchers/signer';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { newCert, World } from './guaranteesFixtures';
import { bankCode, bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let g: World;
let bank: Bank;

beforeAll(async () => {
  // Behind a proxy (as in production), so that each test speaks from an address of its own and
  // the rate limit of one never meets another's requests.
  rt = await startTestRuntime({ BIDBOND_TRUST_PROXY: '1' });
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  g = await new World(rt, app).init();
  bank = await w.bank();
});
afterAll(async () => {
  await rt?.close();
});

const newAddress = () => `198.51.${randomInt(256)}.${randomInt(256)}`;
let address = newAddress();
beforeEach(() => {
  address = newAddress();
});

const publicGet = (path: string) => request(app).get(path).set('X-Forwarded-For', address);
const upload = (path: string, pdf: Buffer) => request(app).post(path).set('X-Forwarded-For', address).set('Content-Type', 'application/pdf').send(pdf);

async function pdfOf(voucherId: string): Promise<Buffer> {
  const res = await request(app).get(`/v1/vouchers/${voucherId}/pdf`).set(bearer(w.centre)).buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  expect(res.status).toBe(200);
  return res.body as Buffer;
}

/** A bidder's deposit on a section, its receipt signed as the vouchers queue signs it. */
async function signedReceipt() {
  const section = await w.section(bank.id);
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', bidder.account)]));
  const depositId = res.body.depositIds[0] as string;
  const voucherId = (await request(app).get(`/v1/vouchers?subjectId=${depositId}&kind=deposit_receipt`).set(bearer(w.centre))).body.data[0].id as string;
  expect(await renderAndSign(rt, voucherId)).toBe('signed');
  return { section, bidder, depositId, voucherId, pdf: await pdfOf(voucherId) };
}

/** The same voucher rendered and signed with another key: a well-formed signature, not ours. */
async function signedBy(signer: Signer, voucherId: string): Promise<Buffer> {
  const row = (await findVoucher(rt.db, voucherId))!;
  return renderAndSignVoucher(await composeVoucherInput(rt, row), signer, { signedAt: new Date() });
}

describe('GET /v1/public/vouchers/:id', () => {
  it('R18 before the opening shows the voucher, its hashes and section but no bidder and no amount; after it, the bidder and the amount', async () => {
    const r = await signedReceipt();
    const before = await publicGet(`/v1/public/vouchers/${r.voucherId}`);
    expect(before.status).toBe(200);
    expect(before.headers['cache-control']).toBe('no-store');
    const row = (await findVoucher(rt.db, r.voucherId))!;
    expect(before.body).toMatchObject({
      object: 'public_voucher', id: r.voucherId, kind: 'deposit_receipt', status: 'signed', pdfSha256: row.pdf_sha256, recordSha256: row.record_sha256,
      kindLabel: { zh: '投标保证金收款凭证', en: 'Bid deposit receipt' }, section: { name: '道路改造工程一标段', opened: false }, facts: [],
    });
    expect(before.body.pdfSha256).toBe(createHash('sha256').update(r.pdf).digest('hex'));
    const text = JSON.stringify(before.body);
    for (const secret of [r.bidder.id, r.bidder.account.name, r.bidder.account.number, r.depositId, '50000.00']) expect(text).not.toContain(secret);

    await rt.db('sections').where({ id: r.section.id }).update({ status: 'opened', opened_at: new Date() });
    const after = await publicGet(`/v1/public/vouchers/${r.voucherId}`);
    expect(after.body.section.opened).toBe(true);
    expect(after.body.facts).toEqual([
      { key: 'bidder', label: { zh: '投标人', en: 'Bidder' }, value: r.bidder.account.name },
      { key: 'amount', label: { zh: '金额（元）', en: 'Amount (CNY)' }, value: '50000.00' },
    ]);
    // The payer's account is the bidder's own, never public.
    expect(JSON.stringify(after.body)).not.toContain(r.bidder.account.number);
  });

  it("R18 a guarantee's verification report says only whether it was authentic until the opening; the roster, made at the opening, counts its entries", async () => {
    const scene = await g.scene('bank');
    const body = g.issuance(scene) as ReturnType<World['issuance']> & { number: string; documentSha256: string };
    expect((await g.issue(scene.issuer, body)).status).toBe(201);
    const report = (await request(app).get(`/v1/guarantees/verify?issuerId=${scene.issuer.id}&number=${body.number}&documentSha256=${body.documentSha256}`).set(bearer(g.centre))).body.voucherId as string;
    const before = await publicGet(`/v1/public/vouchers/${report}`);
    expect(before.body).toMatchObject({ kind: 'verification_report', status: 'pending', pdfSha256: null, signedAt: null, section: { opened: false } });
    expect(before.body.facts).toEqual([{ key: 'authentic', label: { zh: '验真结果', en: 'Verification result' }, value: '真实 authentic' }]);
    for (const secret of [scene.bidder.name, scene.bidder.uscc, body.number]) expect(JSON.stringify(before.body)).not.toContain(secret);

    await rt.db('sections').where({ id: scene.section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const opened = await request(app).post(`/v1/sections/${scene.section.id}/opening`).set(bearer(g.centre));
    expect(opened.status).toBe(201);
    const after = await publicGet(`/v1/public/vouchers/${report}`);
    expect(after.body.facts.map((f: { key: string; value: string }) => [f.key, f.value])).toEqual([
      ['bidder', scene.bidder.name], ['guaranteeNumber', body.number], ['amount', '50000.00'], ['authentic', '真实 authentic'],
    ]);
    const roster = await publicGet(`/v1/public/vouchers/${opened.body.voucherId}`);
    expect(roster.body).toMatchObject({ kind: 'opening_roster', kindLabel: { en: 'Opening roster of bid securities' }, section: { sectionCode: scene.section.sectionCode, opened: true } });
    expect(roster.body.facts.map((f: { key: string; value: string }) => [f.key, f.value])).toEqual([['openedAt', opened.body.openedAt], ['entries', String(opened.body.entries.length)]]);
  });

  it('answers one 404 voucher_not_found, with no id echoed, for an unknown id and a malformed one', async () => {
    const unknown = await publicGet('/v1/public/vouchers/vch_00000000000000000000000000');
    const malformed = await publicGet('/v1/public/vouchers/not-a-voucher');
    for (const res of [unknown, malformed]) {
      expect(res.status).toBe(404);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.error).toMatchObject({ code: 'voucher_not_found', message: 'no such voucher' });
    }
  });
});

describe('checking a PDF: one verdict', () => {
  it('a signed voucher as issued is valid, with its public summary; the page of that voucher says it is this voucher', async () => {
    const r = await signedReceipt();
    const res = await upload('/v1/vouchers/verify', r.pdf);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      verdict: 'valid', valid: true, trusted: true, matchesRecord: true, coversWholeFile: true, voucherId: r.voucherId,
      message: { zh: expect.stringContaining('真实有效'), en: expect.stringContaining('Valid') },
      voucher: { object: 'public_voucher', id: r.voucherId, kind: 'deposit_receipt', facts: [] },
    });
    const onPage = await upload(`/v1/public/vouchers/${r.voucherId}/verify`, r.pdf);
    expect(onPage.body).toMatchObject({ verdict: 'valid', matchesVoucher: true, voucherId: r.voucherId });

    // Genuine, but another voucher than the page's.
    const other = await signedReceipt();
    const elsewhere = await upload(`/v1/public/vouchers/${other.voucherId}/verify`, r.pdf);
    expect(elsewhere.body).toMatchObject({ verdict: 'valid', matchesVoucher: false, voucherId: r.voucherId });
    expect((await upload('/v1/public/vouchers/vch_00000000000000000000000000/verify', r.pdf)).body.error.code).toBe('voucher_not_found');
  });

  it('one byte changed inside the signed range, bytes appended after it, or a signature that cannot be read is changed', async () => {
    const r = await signedReceipt();
    const tampered = Buffer.from(r.pdf);
    const [, signedUpTo] = /\/ByteRange\s*\[\s*0\s+(\d+)/.exec(r.pdf.toString('latin1'))!;
    tampered[Math.floor(Number(signedUpTo) / 2)] ^= 0x01;
    const res = await upload(`/v1/public/vouchers/${r.voucherId}/verify`, tampered);
    expect(res.body).toMatchObject({ verdict: 'changed', valid: false, matchesRecord: false, matchesVoucher: false, voucher: null });
    expect(res.body.message.en).toMatch(/^Changed/);
    const appended = Buffer.concat([r.pdf, Buffer.from('\n% appended after signing\n')]);
    expect((await upload('/v1/vouchers/verify', appended)).body).toMatchObject({ verdict: 'changed', coversWholeFile: false });
    const garbled = Buffer.from(r.pdf.toString('latin1').replace(/\/Contents\s*<([0-9a-fA-F]{8})/, (m, hex: string) => m.replace(hex, 'ffffffff')), 'latin1');
    expect(garbled.equals(r.pdf)).toBe(false);
    expect((await upload('/v1/vouchers/verify', garbled)).body).toMatchObject({ verdict: 'changed', valid: false, reason: expect.stringMatching(/unreadable|signature/) });
  });

  it('a voucher signed with a self-signed key, or with a certificate of the trusted root that is not our signer, is untrusted', async () => {
    const r = await signedReceipt();
    const self = issueCertificate({ commonName: 'not the centre' });
    const foreign = await signedBy(signerFrom(self.keyPem, [self.certPem]), r.voucherId);
    const res = await upload(`/v1/public/vouchers/${r.voucherId}/verify`, foreign);
    expect(res.body).toMatchObject({ verdict: 'untrusted', trusted: false, matchesRecord: false, matchesVoucher: false, voucher: null, voucherId: r.voucherId });
    expect(res.body.message.en).toMatch(/^Untrusted/);

    // An issuer's certificate chains to the root issuers are trusted under, but it is not the
    // service's voucher signer.
    const issuerCert = newCert();
    const byIssuer = await signedBy(signerFrom(issuerCert.keyPem, [issuerCert.certPem]), r.voucherId);
    expect((await upload('/v1/vouchers/verify', byIssuer)).body).toMatchObject({ verdict: 'untrusted', matchesRecord: false, voucher: null });
  });

  it('a PDF without a signature, or not a PDF at all, is unknown', async () => {
    const doc = await PDFDocument.create();
    doc.addPage().drawText('An invoice, not a voucher');
    const plain = Buffer.from(await doc.save());
    for (const bytes of [plain, Buffer.from('%PDF-1.7 nothing here'), randomBytes(2048)]) {
      const res = await upload('/v1/vouchers/verify', bytes);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ verdict: 'unknown', valid: false, voucher: null, voucherId: null });
      expect(res.body.message.zh).toBeTruthy();
    }
  });
});

describe('GET /v1/public/guarantees/verify (验真)', () => {
  async function issued() {
    const issuer = await g.issuer('bank', { bankCode: bankCode('102', String(1000 + randomInt(9000)), randomDigits(4)) });
    const tenderee = await g.tenderee();
    const bidder = await g.bidder(issuer.bankCode!);
    const section = await g.section(tenderee.id);
    const scene = { issuer, tenderee, bidder, section };
    const body = g.issuance(scene) as ReturnType<World['issuance']> & { number: string; documentSha256: string };
    const res = await g.issue(issuer, body);
    expect(res.status).toBe(201);
    return { ...scene, body, guaranteeId: res.body.id as string };
  }
  const verify = (issuer: string, number: string, sha256: string) => publicGet(`/v1/public/guarantees/verify?issuer=${issuer}&number=${encodeURIComponent(number)}&sha256=${sha256}`);

  it('R18 an authentic document: status, issuer, amount, validity and section, and the bidder only after the opening', async () => {
    const s = await issued();
    const res = await verify(s.issuer.id, s.body.number, s.body.documentSha256);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      object: 'public_guarantee_verification',
      verdict: 'authentic',
      message: { zh: expect.stringContaining('保函真实'), en: expect.stringMatching(/^Authentic/) },
      guarantee: {
        number: s.body.number, status: 'issued', inForce: true, issuer: { name: 'bank issuer', kind: 'bank' }, amount: '50000.00', currency: 'CNY',
        validFrom: s.body.validFrom, validTo: s.body.validTo,
        section: { projectCode: s.section.projectCode, sectionCode: s.section.sectionCode, name: '某道路工程一标段', opened: false },
        applicant: null,
      },
    });
    const text = JSON.stringify(res.body);
    for (const secret of [s.bidder.uscc, s.bidder.name, s.bidder.id]) expect(text).not.toContain(secret);

    // By the issuer's bank code instead of its id, and with the hash in capitals.
    const byCode = await verify(s.issuer.bankCode!, s.body.number, s.body.documentSha256.toUpperCase());
    expect(byCode.body.verdict).toBe('authentic');

    await rt.db('sections').where({ id: s.section.id }).update({ status: 'opened', opened_at: new Date() });
    expect((await verify(s.issuer.id, s.body.number, s.body.documentSha256)).body.guarantee.applicant).toEqual({ name: s.bidder.name });
  });

  it('an unknown number and a document whose hash differs get the same not_found, and malformed input 400', async () => {
    const s = await issued();
    const wrongHash = await verify(s.issuer.id, s.body.number, randomBytes(32).toString('hex'));
    const unknown = await verify(s.issuer.id, `${s.body.number}-X`, s.body.documentSha256);
    const otherIssuer = await verify('iss_00000000000000000000000000', s.body.number, s.body.documentSha256);
    for (const res of [wrongHash, unknown, otherIssuer]) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual(wrongHash.body);
    }
    expect(wrongHash.body).toMatchObject({ verdict: 'not_found', guarantee: null });

    expect((await verify(s.issuer.id, s.body.number, 'abc')).status).toBe(400);
    expect((await verify('bank-of-nowhere', s.body.number, s.body.documentSha256)).status).toBe(400);
    expect((await publicGet('/v1/public/guarantees/verify')).status).toBe(400);
  });
});

describe('the public routes in the OpenAPI document', () => {
  it('need no sign-in and describe the verdicts', async () => {
    const doc = (await request(app).get('/v1/openapi.json')).body;
    for (const [p, m] of [['/v1/public/vouchers/{id}', 'get'], ['/v1/public/vouchers/{id}/verify', 'post'], ['/v1/vouchers/verify', 'post'], ['/v1/public/guarantees/verify', 'get']]) {
      expect(doc.paths[p][m].security).toEqual([]);
    }
    const check = doc.paths['/v1/public/vouchers/{id}/verify'].post.responses['200'].content['application/json'].schema;
    expect(check.properties.verdict.enum).toEqual(['valid', 'changed', 'untrusted', 'unknown']);
    expect(check.required).toEqual(expect.arrayContaining(['verdict', 'message', 'voucher', 'matchesVoucher', 'valid', 'matchesRecord']));
    const guarantee = doc.paths['/v1/public/guarantees/verify'].get.responses['200'].content['application/json'].schema;
    expect(guarantee.properties.verdict.enum).toEqual(['authentic', 'not_found']);
  });
});

describe('rate limits of the public routes, per client address', () => {
  it(`reads: ${publicReadsPerMinute} a minute, then 429 with Retry-After, not cached; another address is unaffected`, async () => {
    const path = '/v1/public/vouchers/vch_00000000000000000000000000';
    for (let i = 0; i < publicReadsPerMinute; i++) expect((await publicGet(path)).status).toBe(404);
    const limited = await publicGet(path);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(rateLimitWindowSeconds);
    expect(limited.headers['cache-control']).toBe('no-store');
    // The 验真 page counts as a read of the same address.
    expect((await publicGet('/v1/public/guarantees/verify?issuer=iss_00000000000000000000000000&number=X&sha256=' + '0'.repeat(64))).status).toBe(429);
    address = newAddress();
    expect((await publicGet(path)).status).toBe(404);
  });

  it(`uploads: ${publicUploadsPerMinute} a minute, counted apart from reads`, async () => {
    const junk = Buffer.from('%PDF-1.7 nothing here');
    for (let i = 0; i < publicUploadsPerMinute; i++) expect((await upload('/v1/vouchers/verify', junk)).status).toBe(200);
    const limited = await upload('/v1/vouchers/verify', junk);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await upload('/v1/public/vouchers/vch_00000000000000000000000000/verify', junk)).status).toBe(429);
    expect((await publicGet('/v1/public/vouchers/vch_00000000000000000000000000')).status).toBe(404);
  });

  it('a caller with an API key is counted against its key, not its address; a bad key is refused', async () => {
    const junk = Buffer.from('%PDF-1.7 nothing here');
    const auditor = await keyFor(rt, 'auditor');
    for (let i = 0; i <= publicUploadsPerMinute; i++) {
      expect((await upload('/v1/vouchers/verify', junk).set(bearer(auditor))).status).toBe(200);
    }
    expect((await upload('/v1/vouchers/verify', junk).set('Authorization', 'Bearer bb_auditor_nonsense')).status).toBe(401);
  });
});
