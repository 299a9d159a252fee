import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { requestVoucher } from '../../src/vouchers/requests';
import { voucherJobHandlers } from '../../src/vouchers/jobs';
import { renderAndSign, voucherRenderAttemptsMax } from '../../src/vouchers/service';
import { renderJob, requestUnrenderableVoucher, unrenderableError } from '../integration/vouchers/unrenderable';
import { devPkiPaths } from '../../src/pki/devPki';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
});
afterAll(async () => {
  await rt.close();
});

async function aBidder() {
  const res = await request(app)
    .post('/v1/bidders')
    .set(bearer(centre))
    .send({ name: '浙江某某建设有限公司', uscc: uniqueUscc(), basicAccount: { bankCode: bankCode(), number: '6222020200001234567', name: '浙江某某建设有限公司' } });
  return res.body;
}

async function receiptFor(bidderId: string, subjectId: string) {
  return rt.db.transaction((tx) =>
    requestVoucher(tx, {
      kind: 'deposit_receipt',
      subjectType: 'deposit',
      subjectId,
      bidderId,
      data: {
        depositId: subjectId,
        bidder: { name: '浙江某某建设有限公司' },
        amountFen: 5000000n,
        bookedAt: '2026-11-20T10:00:00+08:00',
        valueDate: '2026-11-20',
        virtualAccount: '9558800012345678901',
        payer: { name: '浙江某某建设有限公司', number: '6222020200001234567', bankCode: '102100099996' },
        bankEntryRef: 'REF-1',
        status: 'valid',
        failedRules: [],
      },
    }),
  );
}

describe('vouchers on record', () => {
  it('signs a requested voucher so that pdfsig, the verify endpoint and the record agree, and catches one changed byte', async () => {
    const bidder = await aBidder();
    const id = await receiptFor(bidder.id, `dep_test${Date.now()}`);
    expect(await renderAndSign(rt, id)).toBe('signed');
    expect(await renderAndSign(rt, id)).toBe('already');

    const meta = await request(app).get(`/v1/vouchers/${id}`).set(bearer(centre));
    expect(meta.body.status).toBe('signed');
    const pdf = await request(app).get(`/v1/vouchers/${id}/pdf`).set(bearer(centre)).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const bytes = pdf.body as Buffer;

    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-vch-'));
    const file = path.join(dir, 'v.pdf');
    writeFileSync(file, bytes);
    const nss = path.join(dir, 'nss');
    execFileSync('mkdir', ['-p', nss]);
    execFileSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
    execFileSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'root', '-t', 'CT,C,C', '-i', devPkiPaths(path.join(testDataDir(), 'pki')).rootCert]);
    const sig = spawnSync('pdfsig', ['-nssdir', `sql:${nss}`, file], { encoding: 'utf8' });
    expect(sig.stdout).toMatch(/Signature is Valid/);
    expect(sig.stdout).toMatch(/Certificate is Trusted/);

    const ok = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'application/pdf').send(bytes);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ verdict: 'valid', valid: true, voucherId: id, matchesRecord: true, trusted: true, coversWholeFile: true });

    // One byte in the middle of the signed range (compressed streams need not contain any
    // particular text to aim at).
    const tampered = Buffer.from(bytes);
    const [, signedUpTo] = /\/ByteRange\s*\[\s*0\s+(\d+)/.exec(bytes.toString('latin1'))!;
    const at = Math.floor(Number(signedUpTo) / 2);
    tampered[at] = tampered[at] ^ 0x01;
    const bad = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'application/pdf').send(tampered);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.verdict).toBe('changed');
    expect(bad.body.matchesRecord).toBe(false);
    writeFileSync(file, tampered);
    expect(spawnSync('pdfsig', ['-nssdir', `sql:${nss}`, file], { encoding: 'utf8' }).stdout).not.toMatch(/Signature is Valid/);
  });

  it('shows a bidder its own voucher and answers 404 for another bidder', async () => {
    const a = await aBidder();
    const b = await aBidder();
    const id = await receiptFor(a.id, `dep_other${Date.now()}`);
    const keyB = await keyFor(rt, 'bidder', { bidderId: b.id });
    const keyA = await keyFor(rt, 'bidder', { bidderId: a.id });
    expect((await request(app).get(`/v1/vouchers/${id}`).set(bearer(keyB))).status).toBe(404);
    expect((await request(app).get(`/v1/vouchers/${id}`).set(bearer(keyA))).status).toBe(200);
  });

  it('asks once per subject: a second request returns the first voucher', async () => {
    const a = await aBidder();
    const subject = `dep_same${Date.now()}`;
    expect(await receiptFor(a.id, subject)).toBe(await receiptFor(a.id, subject));
  });

  it('renders the event data each capability freezes: a deposit receipt, a verification report and a claim notice', async () => {
    const b = await aBidder();
    const ids = await rt.db.transaction(async (tx) => [
      await requestVoucher(tx, {
        kind: 'deposit_receipt', subjectType: 'deposit', subjectId: `dep_shape${Date.now()}`, bidderId: b.id,
        data: { depositId: 'dep_x', bidderId: b.id, virtualAccount: '955880000000017', amountFen: 5000000n, payer: { name: '甲', accountNumber: '6222020200001234567', bankCode: '102100099996' }, bookedAt: '2026-11-20T02:00:00.000Z', valueDate: '2026-11-20', entryRef: 'E1' },
      }),
      await requestVoucher(tx, {
        kind: 'verification_report', subjectType: 'guarantee_verification', subjectId: `gty_shape${Date.now()}`,
        data: { guaranteeId: 'gty_unknown', number: 'BH-1', kind: 'bank', amountFen: 5000000n, validFrom: '2026-11-01', validTo: '2027-03-01', status: 'issued', authentic: true, checks: [{ rule: 'R2', ok: true, detail: 'covers' }] },
      }),
      await requestVoucher(tx, {
        kind: 'claim_notice', subjectType: 'guarantee_claim', subjectId: `gty_claim${Date.now()}`,
        data: { guaranteeId: 'gty_unknown', number: 'BH-1', kind: 'bank', reason: 'refused_to_sign', amountFen: 5000000n, guaranteeAmountFen: 5000000n, decidedBy: 'key_x', claimedAt: '2026-11-27T02:00:00.000Z' },
      }),
    ]);
    for (const id of ids) expect(await renderAndSign(rt, id)).toBe('signed');
  });

  it('shows a voucher that could not be rendered as failed, with its error to the centre and without it to the bidder, and counts it in /metrics', async () => {
    const bidder = await aBidder();
    const id = await requestUnrenderableVoucher(rt, { bidderId: bidder.id });
    const pending = await request(app).get(`/v1/vouchers/${id}`).set(bearer(centre));
    expect(pending.body).toMatchObject({ status: 'pending', renderAttempts: 0, error: null });

    for (let attempt = 1; attempt <= voucherRenderAttemptsMax; attempt++) await expect(voucherJobHandlers.vouchers!.render(rt, renderJob(id))).rejects.toThrow(unrenderableError);

    const seenByCentre = await request(app).get(`/v1/vouchers/${id}`).set(bearer(centre));
    expect(seenByCentre.status).toBe(200);
    expect(seenByCentre.body).toMatchObject({ status: 'failed', renderAttempts: voucherRenderAttemptsMax, pdfSha256: null, signedAt: null });
    expect(seenByCentre.body.error).toMatch(unrenderableError);
    const seenByBidder = await request(app).get(`/v1/vouchers/${id}`).set(bearer(await keyFor(rt, 'bidder', { bidderId: bidder.id })));
    expect(seenByBidder.body).toMatchObject({ status: 'failed', error: null });
    expect((await request(app).get(`/v1/vouchers/${id}/pdf`).set(bearer(centre))).status).toBe(404);

    const metrics = await request(app).get('/metrics');
    expect(Number(/^bidbond_vouchers_failed (\d+)$/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics.text).toMatch(/^bidbond_vouchers_pending \d+$/m);
  });

  it('answers garbage and empty bodies with valid:false and the verdict unknown, not a crash', async () => {
    const res = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'application/pdf').send(Buffer.from('%PDF-1.7 nothing here'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: false, verdict: 'unknown' });
    const wrongType = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'text/plain').send('x');
    expect(wrongType.status).toBe(415);
  });
});
