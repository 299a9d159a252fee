// Signed vouchers as outside verifiers see them: poppler's pdfsig (with and without the root in
// an NSS database), `openssl cms -verify` on the cut-out signature, and our own verifyPdf.
import { readFileSync } from 'node:fs';
import { devP12Password, ensureDevPki, type DevPkiPaths } from '../../../src/pki/devPki';
import { issueCertificate } from '../../../src/pki/certs';
import { renderSealedVoucher, renderVoucher, voucherKinds, type VoucherKind } from '../../../src/vouchers/render';
import { renderAndSignVoucher, sealFor, signSealedVoucher } from '../../../src/vouchers/sign';
import { loadSigner, SignerLoadError, type Signer } from '../../../src/vouchers/signer';
import { verifyPdf, voucherPdfBytesMax } from '../../../src/vouchers/verify';
import { rosterBiddersMax } from '../../../src/sections/service';
import { voucherPagesMax } from '../../../src/vouchers/layoutPage';
import { rosterVoucher, sampleVoucher } from './fixtures';
import { nssDbTrusting, run, splitSignedPdf, tempDir } from './tools';

let tmp: ReturnType<typeof tempDir>;
let pki: DevPkiPaths;
let rootPem: string;
let signer: Signer;
let nssDb: string;
const signed = new Map<VoucherKind, Uint8Array>();

async function renderAndSign(kind: VoucherKind, seq = 1): Promise<Uint8Array> {
  return renderAndSignVoucher(sampleVoucher(kind, { seq }), signer, { signedAt: new Date(), reason: '凭证签章 Voucher seal', location: '苏州 Suzhou' });
}

async function pdfsig(bytes: Uint8Array, name: string, trusted = true): Promise<string> {
  const file = tmp.file(name, bytes);
  const r = await run('pdfsig', trusted ? ['-nssdir', nssDb, file] : [file]);
  return r.stdout + r.stderr;
}

async function opensslVerify(bytes: Uint8Array, name: string): Promise<{ code: number; stderr: string }> {
  const { covered, signatureDer } = splitSignedPdf(bytes);
  const sig = tmp.file(`${name}.sig.der`, signatureDer);
  const content = tmp.file(`${name}.covered.bin`, covered);
  return run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', content, '-CAfile', pki.rootCert, '-purpose', 'any', '-out', '/dev/null']);
}

/** One byte changed inside the signed range: the first character of the voucher id in the Info
 *  dictionary, i.e. someone re-labelling a voucher. */
function tamper(bytes: Uint8Array): Uint8Array {
  const copy = Buffer.from(bytes);
  const at = copy.indexOf('/BidbondVoucherId (vch_') + '/BidbondVoucherId ('.length;
  expect(at).toBeGreaterThan(20);
  expect(at).toBeLessThan(splitSignedPdf(bytes).byteRange[1]);
  copy[at] = 'w'.charCodeAt(0);
  return copy;
}

beforeAll(async () => {
  tmp = tempDir('bidbond-vouchers-sign-');
  pki = ensureDevPki(tmp.file('pki'));
  rootPem = readFileSync(pki.rootCert, 'utf8');
  signer = loadSigner({ p12Path: pki.serviceP12, password: devP12Password });
  nssDb = await nssDbTrusting(tmp.file('nss'), pki.rootCert);
  for (const kind of voucherKinds) signed.set(kind, await renderAndSign(kind));
});

afterAll(() => tmp?.remove());

describe.each(voucherKinds)('a signed %s', (kind) => {
  test('pdfsig reports the signature valid, the certificate trusted and the whole document signed', async () => {
    const out = await pdfsig(signed.get(kind)!, `${kind}.pdf`);
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Certificate is Trusted.');
    expect(out).toContain('Total document signed');
    expect(out).toMatch(/Signature Type: adbe\.pkcs7\.detached/);
  });

  test('pdfsig without the root in its NSS database still finds the signature valid but the issuer untrusted', async () => {
    const out = await pdfsig(signed.get(kind)!, `${kind}-untrusted.pdf`, false);
    expect(out).toContain('Signature is Valid.');
    expect(out).not.toContain('Certificate is Trusted.');
  });

  test('openssl cms -verify accepts the cut-out signature over the covered bytes', async () => {
    const r = await opensslVerify(signed.get(kind)!, kind);
    expect(r.stderr).toContain('Verification successful');
    expect(r.code).toBe(0);
  });

  test('verifyPdf accepts it and reads the voucher id, signer and time', () => {
    const v = verifyPdf(signed.get(kind)!, [rootPem]);
    expect(v).toMatchObject({ valid: true, trusted: true, coversWholeFile: true, voucherId: sampleVoucher(kind).voucherId });
    expect(v.reason).toBeUndefined();
    expect(v.signer?.fingerprint).toBe(signer.fingerprint);
    expect(v.signer?.subject).toContain('CN=bidbond voucher and message signing');
    expect(Math.abs(Date.parse(v.signedAt!) - Date.now())).toBeLessThan(120_000);
  });

  test('one byte changed inside the signed range fails pdfsig, openssl and verifyPdf', async () => {
    const bad = tamper(signed.get(kind)!);
    const out = await pdfsig(bad, `${kind}-tampered.pdf`);
    expect(out).not.toContain('Signature is Valid.');
    expect(out).toMatch(/Digest Mismatch|Signature is Invalid/);
    const r = await opensslVerify(bad, `${kind}-tampered`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/digest failure|Verification failure/i);
    const v = verifyPdf(bad, [rootPem]);
    expect(v.valid).toBe(false);
    expect(v.reason).toContain('digest mismatch');
  });
});

describe('verifyPdf refuses', () => {
  test('bytes appended after signing (an incremental update hiding new content)', () => {
    const original = signed.get('deposit_receipt')!;
    const appended = Buffer.concat([original, Buffer.from('\n1 0 obj\n(forged)\nendobj\n')]);
    const v = verifyPdf(appended, [rootPem]);
    expect(v).toMatchObject({ valid: false, coversWholeFile: false });
    expect(v.reason).toContain('added after the signed range');
  });

  test('a signer that does not chain to the configured roots', () => {
    const otherRoot = issueCertificate({ commonName: 'some other root', isCa: true });
    const v = verifyPdf(signed.get('refund_voucher')!, [otherRoot.certPem]);
    expect(v).toMatchObject({ valid: false, trusted: false, coversWholeFile: true });
    expect(v.reason).toContain('trusted root');
    expect(verifyPdf(signed.get('refund_voucher')!, []).valid).toBe(false);
  });

  test('garbage of every shape with valid:false and a reason, never a throw', () => {
    const good = Buffer.from(signed.get('claim_notice')!);
    const text = good.toString('latin1');
    const contentsAt = splitSignedPdf(good).byteRange[1];
    const inputs: Uint8Array[] = [
      new Uint8Array(0),
      Buffer.from('hello'),
      Buffer.from('%PDF-1.7\n%%EOF'),
      Buffer.from('%PDF-1.7 /ByteRange [0 10 20 5] <abc>'),
      Buffer.from('%PDF-1.7 /ByteRange [0 99999999 99999999 99999999]'),
      Buffer.from(text.replace(/\/ByteRange \[[^\]]*\]/, (m) => m.replace(/\d/g, '9')), 'latin1'),
      Buffer.concat([good.subarray(0, contentsAt + 1), Buffer.from('zz'), good.subarray(contentsAt + 3)]),
      Buffer.concat([good.subarray(0, contentsAt + 1), Buffer.alloc(8, 0x30), Buffer.from('3082ffff'), good.subarray(contentsAt + 13)]),
      good.subarray(0, Math.floor(good.length / 2)),
      new Uint8Array(voucherPdfBytesMax + 1),
      Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff),
    ];
    for (const input of inputs) {
      const v = verifyPdf(input, [rootPem]);
      expect(v.valid).toBe(false);
      expect(typeof v.reason).toBe('string');
    }
    expect(verifyPdf('not bytes' as unknown as Uint8Array, [rootPem]).valid).toBe(false);
    expect(verifyPdf(good, ['not a pem']).valid).toBe(false);
  });
});

describe('signing', () => {
  test('ten vouchers rendered and signed at once are all valid for pdfsig and verifyPdf', async () => {
    const kinds = Array.from({ length: 10 }, (_, i) => voucherKinds[i % voucherKinds.length]);
    const pdfs = await Promise.all(kinds.map((kind, i) => renderAndSign(kind, 100 + i)));
    expect(new Set(pdfs.map((p) => Buffer.from(p).toString('base64'))).size).toBe(10);
    for (const [i, pdf] of pdfs.entries()) {
      expect(verifyPdf(pdf, [rootPem])).toMatchObject({ valid: true, voucherId: sampleVoucher(kinds[i], { seq: 100 + i }).voucherId });
    }
    const outs = await Promise.all(pdfs.map((pdf, i) => pdfsig(pdf, `concurrent-${i}.pdf`)));
    for (const out of outs) {
      expect(out).toContain('Signature is Valid.');
      expect(out).toContain('Certificate is Trusted.');
    }
  });

  test('refuses a voucher that is already signed rather than silently breaking its signature', () => {
    const sealed = renderSealedVoucher(sampleVoucher('opening_roster', { seq: 3 }), sealFor(signer, { signedAt: new Date() }));
    const once = Buffer.from(signSealedVoucher(sealed, signer));
    expect(() => signSealedVoucher(sealed, signer)).toThrow('already signed');
    expect(Buffer.from(sealed.pdf).equals(once)).toBe(true);
    expect(verifyPdf(once, [rootPem]).valid).toBe(true);
  });

  test('refuses to sign a voucher sealed for another certificate (its stamp would name the wrong signer)', () => {
    const other = issueCertificate({ commonName: 'another signer' });
    const sealed = renderSealedVoucher(sampleVoucher('claim_notice', { seq: 4 }), sealFor(signer, { signedAt: new Date() }));
    expect(() => signSealedVoucher(sealed, { ...signer, fingerprint: 'c'.repeat(64), certPem: other.certPem })).toThrow('another certificate');
  });

  test(`the opening roster of the most bidders a section opens with (${rosterBiddersMax}) is signed valid and lists every bidder`, async () => {
    const input = rosterVoucher(rosterBiddersMax, 9);
    const pdf = await renderAndSignVoucher(input, signer, { signedAt: new Date() });
    expect(verifyPdf(pdf, [rootPem])).toMatchObject({ valid: true, coversWholeFile: true });
    const out = await pdfsig(pdf, 'roster-max.pdf');
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    const info = await run('pdfinfo', [tmp.file('roster-max.pdf')]);
    const pages = Number(/Pages:\s+(\d+)/.exec(info.stdout)![1]);
    expect(pages).toBeGreaterThan(100);
    expect(pages).toBeLessThanOrEqual(voucherPagesMax);
    const text = (await run('pdftotext', ['-enc', 'UTF-8', '-f', String(pages - 1), tmp.file('roster-max.pdf'), '-'])).stdout.replace(/\s+/g, '');
    if (input.kind !== 'opening_roster') throw new Error('fixture');
    expect(text).toContain(input.data.entries[rosterBiddersMax - 1].bidder.name);
    expect(text).toContain(`第${pages}/${pages}页`);
  });

  test('the signature covers the whole file: the only unsigned bytes are the signature itself', () => {
    const pdf = signed.get('verification_report')!;
    const { byteRange } = splitSignedPdf(pdf);
    expect(byteRange[0]).toBe(0);
    expect(byteRange[2] - byteRange[1]).toBe(2 * 8 * 1024 + 2);
    expect(byteRange[2] + byteRange[3]).toBe(pdf.length);
  });

  test('shows a visible red signature stamp on the last page, absent before signing', async () => {
    const redPixels = async (pdf: Uint8Array, name: string) => {
      const r = await run('pdftoppm', ['-r', '40', '-l', '1', tmp.file(name, pdf)]);
      expect(r.code).toBe(0);
      const ppm = r.stdoutBytes;
      const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.subarray(0, 40).toString('latin1'))!;
      let red = 0;
      for (let i = header[0].length; i + 2 < ppm.length; i += 3) if (ppm[i] > 140 && ppm[i + 1] < 90 && ppm[i + 2] < 90) red += 1;
      return red;
    };
    const unsigned = await renderVoucher(sampleVoucher('deposit_receipt'));
    expect(await redPixels(unsigned, 'stamp-unsigned.pdf')).toBe(0);
    expect(await redPixels(signed.get('deposit_receipt')!, 'stamp-signed.pdf')).toBeGreaterThan(200);
    const text = Buffer.from(signed.get('deposit_receipt')!).toString('latin1');
    expect(text).toMatch(/\/AP <<\s*\/N \d+ 0 R/);
    expect(text).toMatch(/\/SigFlags 3/);
  });
});

describe('loadSigner', () => {
  test('reads the development PKCS#12 (legacy 3DES) with node-forge: key, certificate and chain', () => {
    expect(signer.chainPems).toHaveLength(1);
    expect(signer.chainPems[0].replace(/\r/g, '')).toBe(rootPem.replace(/\r/g, ''));
    expect(signer.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(signer.keyPem).toContain('BEGIN PRIVATE KEY');
  });

  test('reads a PKCS#12 made with OpenSSL 3 defaults (AES-256, PBKDF2) through the openssl command', async () => {
    const p12 = tmp.file('openssl3.p12');
    const r = await run('openssl', ['pkcs12', '-export', '-inkey', pki.serviceKey, '-in', pki.serviceCert, '-certfile', pki.rootCert, '-out', p12, '-passout', 'pass:s3cret']);
    expect(r.code).toBe(0);
    const fromOpenssl = loadSigner({ p12Path: p12, password: 's3cret' });
    expect(fromOpenssl.fingerprint).toBe(signer.fingerprint);
    expect(fromOpenssl.chainPems).toHaveLength(1);
    const pdf = await renderAndSignVoucher(sampleVoucher('claim_notice', { seq: 7 }), fromOpenssl, { signedAt: new Date() });
    expect(verifyPdf(pdf, [rootPem]).valid).toBe(true);
  });

  test('a wrong password is a clear error naming the remedies', () => {
    expect(() => loadSigner({ p12Path: pki.serviceP12, password: 'wrong' })).toThrow(SignerLoadError);
    expect(() => loadSigner({ p12Path: pki.serviceP12, password: 'wrong' })).toThrow(/password.*-legacy/s);
  });
});
