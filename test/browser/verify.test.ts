// The public verification pages on a phone, through the product: a deposit receipt paid by a
// bank notification and signed by the vouchers queue, checked on /verify (valid, changed after
// signing, untrusted, unknown), opened from its QR code address, and a guarantee sent by a
// signed issuer webhook checked on /verify/guarantee with the document fingerprinted in the
// browser. On a database and queue prefix of their own: the worker here signs every voucher it
// finds, and the public rate limit counts per address and prefix.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Page } from 'playwright-core';
import request from 'supertest';
import type { Express } from 'express';
import { startWorkers, type RunningWorkers } from '../../src/queue/worker';
import { issueCertificate } from '../../src/pki/certs';
import { composeVoucherInput } from '../../src/vouchers/compose';
import { voucherJobHandlers } from '../../src/vouchers/jobs';
import { findVoucher } from '../../src/vouchers/repo';
import { renderAndSignVoucher } from '../../src/vouchers/sign';
import { signerFrom } from '../../src/vouchers/signer';
import { voucherPdfBytesMax } from '../../src/vouchers/verify';
import { DepositWorld, entry, jsonNotification, type Bank } from '../api/deposits.support';
import { World } from '../api/guaranteesFixtures';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, testApp } from '../support/runtime';
import { waitFor } from '../support/wait';
import { absent, accessibilityViolations, newPerson, one, screenshot, startBrowserStack, type BrowserStack } from './support';

let isolated: IsolatedDatabase;
let stack: BrowserStack;
let app: Express;
let workers: RunningWorkers;
let tmp: string;

interface SignedReceipt {
  id: string;
  recordSha256: string;
  pdfSha256: string;
  file: string;
  bidderName: string;
}
/** The deposit receipts of two bidders' bank credits in one section, as signed and stored. */
let receipt: SignedReceipt;
let otherReceipt: SignedReceipt;
let changedFile: string;
let untrustedFile: string;
let unrelatedFile: string;

async function aPlainPdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  page.drawText(text, { x: 72, y: 760, size: 14, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save();
}

/** A new bidder pays the section's deposit through a signed bank notification; the vouchers
 *  queue signs its receipt, which is read back as the centre would. */
async function paidReceipt(w: DepositWorld, bank: Bank, sectionId: string, centre: string): Promise<SignedReceipt> {
  const bidder = await w.bidder();
  const va = await w.virtualAccount(sectionId, bidder.id);
  const paid = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: bidder.account.name, number: bidder.account.number })]));
  expect([paid.status, paid.body.accepted]).toEqual([200, 1]);
  const depositId = paid.body.depositIds[0] as string;
  const voucher = await waitFor(
    'the deposit receipt to be signed',
    async () => {
      const list = await request(app).get('/v1/vouchers').query({ subjectId: depositId }).set(bearer(centre));
      const v = (list.body.data ?? []).find((x: { kind: string; status: string }) => x.kind === 'deposit_receipt');
      return v?.status === 'signed' ? (v as { id: string }) : undefined;
    },
    30_000,
    200,
  );
  const meta = await request(app).get(`/v1/vouchers/${voucher.id}`).set(bearer(centre));
  const pdf = await request(app)
    .get(`/v1/vouchers/${voucher.id}/pdf`)
    .set(bearer(centre))
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect(pdf.status).toBe(200);
  const bytes = pdf.body as Buffer;
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.body.pdfSha256);
  const file = path.join(tmp, `${voucher.id}.pdf`);
  writeFileSync(file, bytes);
  return { id: voucher.id, recordSha256: meta.body.recordSha256, pdfSha256: meta.body.pdfSha256, file, bidderName: bidder.account.name };
}

beforeAll(async () => {
  isolated = await createIsolatedDatabase('verifypages');
  stack = await startBrowserStack({ ...isolated.env });
  app = testApp(stack.rt);
  workers = await startWorkers(stack.rt, process.env.REDIS_URL!, voucherJobHandlers);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bb-verify-pages-'));

  const centre = await keyFor(stack.rt, 'centre');
  const w = new DepositWorld(stack.rt, app, centre);
  const bank = await w.bank();
  const section = await w.section(bank.id);
  receipt = await paidReceipt(w, bank, section.id, centre);
  otherReceipt = await paidReceipt(w, bank, section.id, centre);
  const bytes = readFileSync(receipt.file);

  // One byte in the middle of what the signature covers after its own gap (the pages' content).
  const changed = Buffer.from(bytes);
  const [, , gapEnd] = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)/.exec(changed.toString('latin1'))!.map(Number);
  const at = gapEnd + Math.floor((changed.length - gapEnd) / 2);
  changed[at] ^= 0x01;
  changedFile = path.join(tmp, 'changed.pdf');
  writeFileSync(changedFile, changed);

  // The same voucher rendered and signed, intact, by a key that is not the centre's.
  const self = issueCertificate({ commonName: 'not the centre' });
  const row = (await findVoucher(stack.rt.db, receipt.id))!;
  untrustedFile = path.join(tmp, 'untrusted.pdf');
  writeFileSync(untrustedFile, await renderAndSignVoucher(await composeVoucherInput(stack.rt, row), signerFrom(self.keyPem, [self.certPem]), { signedAt: new Date() }));

  unrelatedFile = path.join(tmp, 'unrelated.pdf');
  writeFileSync(unrelatedFile, await aPlainPdf('An unrelated PDF, signed by nobody'));
}, 90_000);

afterAll(async () => {
  await workers?.close();
  await stack?.close();
  await isolated?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function phone(lang?: 'zh' | 'en') {
  return newPerson(stack, { mobile: true, lang });
}

/** The page fits the phone: nothing wider than the viewport. */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return [d.scrollWidth, d.clientWidth];
  });
  expect(widths[0]).toBeLessThanOrEqual(widths[1]);
}

async function expectAccessible(page: Page): Promise<void> {
  expect(await accessibilityViolations(page)).toEqual([]);
  await one(page.locator('h1'));
}

/** The language switch, waited on until its sliding marker has settled (for the screenshots). */
async function switchToEnglish(page: Page): Promise<void> {
  await page.getByText('EN', { exact: true }).click();
  await page.locator('.ant-segmented-item-selected', { hasText: 'EN' }).waitFor();
  await page.locator('.ant-segmented-thumb').waitFor({ state: 'detached' });
}

async function choose(page: Page, file: string): Promise<void> {
  await page.locator('input[type="file"]').setInputFiles(file);
}

/** The verdict once it has the look expected: a previous file's verdict may still be on screen
 *  for a moment after the next file is chosen. */
async function verdictOf(page: Page, look: 'good' | 'bad' | 'warning' | 'unknown'): Promise<string> {
  const v = page.locator(`[data-testid="voucher-verdict"][data-look="${look}"]`);
  await v.waitFor();
  return (await v.textContent()) ?? '';
}

describe('/verify: checking a voucher PDF without signing in', () => {
  test('a signed receipt is valid with its record; one changed byte is "changed"; signed by another key is "untrusted"; an unrelated PDF is "unknown" — each said in Chinese and English', async () => {
    const { context, page } = await phone();
    await page.goto('/verify');
    await expect(page.locator('h1').textContent()).resolves.toBe('凭证验真');
    await screenshot(page, 'verify-upload-empty-phone');
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);

    await choose(page, receipt.file);
    const valid = await verdictOf(page, 'good');
    expect(valid).toContain('真实有效');
    expect(valid).toContain('Valid');
    expect(valid).toContain('byte-identical');
    const summary = page.getByTestId('voucher-summary');
    await expect(summary.textContent()).resolves.toContain(receipt.id);
    await expect(summary.textContent()).resolves.toContain(receipt.pdfSha256);
    await expect(summary.textContent()).resolves.toContain('投标保证金收款凭证');
    // R18: the section has not opened, so the public summary names no bidder and no amount.
    await expect(page.locator('body').textContent()).resolves.not.toContain(receipt.bidderName);
    await expect(page.locator('body').textContent()).resolves.not.toContain('50,000');
    await screenshot(page, 'verify-upload-valid-phone');
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);

    await choose(page, changedFile);
    const changed = await verdictOf(page, 'bad');
    expect(changed).toContain('已被改动');
    expect(changed).toContain('Changed after signing');
    await absent(page.getByTestId('voucher-summary'));
    await screenshot(page, 'verify-upload-changed-phone');
    await expectAccessible(page);

    await choose(page, untrustedFile);
    const untrusted = await verdictOf(page, 'warning');
    expect(untrusted).toContain('签名不可信');
    expect(untrusted).toContain('Untrusted signature');
    await screenshot(page, 'verify-upload-untrusted-phone');
    await expectAccessible(page);

    await choose(page, unrelatedFile);
    const unknown = await verdictOf(page, 'unknown');
    expect(unknown).toContain('无法确认');
    expect(unknown).toContain('Unknown document');
    await screenshot(page, 'verify-upload-unknown-phone');
    await expectAccessible(page);

    // The switch changes the page's language; the verdict stays in both.
    await switchToEnglish(page);
    await expect(page.locator('h1').textContent()).resolves.toBe('Verify a voucher');
    const stillBoth = await verdictOf(page, 'unknown');
    expect(stillBoth).toContain('无法确认');
    expect(stillBoth).toContain('Unknown document');
    await screenshot(page, 'verify-upload-unknown-phone-en');

    // Larger than any voucher: refused in the page, nothing sent.
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    const huge = path.join(tmp, 'huge.pdf');
    writeFileSync(huge, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(voucherPdfBytesMax)]));
    await choose(page, huge);
    await page.getByRole('alert').filter({ hasText: 'too large' }).waitFor();
    await absent(page.getByTestId('voucher-verdict'));
    expect(posts).toEqual([]);
    await screenshot(page, 'verify-upload-too-large-phone-en');
    await context.close();
  });
});

describe('/verify/<id>: what a voucher QR code opens', () => {
  const qrAddress = () => `/verify/${receipt.id}?voucher=${receipt.id}&sha256=${receipt.recordSha256}`;

  test("shows the voucher's public summary, agrees with the QR code, and says the same file is this voucher", async () => {
    const { context, page } = await phone();
    await page.goto(qrAddress());
    const summary = page.getByTestId('voucher-summary');
    await summary.waitFor();
    const text = (await summary.textContent()) ?? '';
    expect(text).toContain(receipt.id);
    expect(text).toContain(receipt.pdfSha256);
    expect(text).toContain(receipt.recordSha256);
    expect(text).toContain('投标保证金收款凭证');
    expect(text).toContain('尚未开标');
    expect(text).not.toContain(receipt.bidderName);
    await expect(page.getByTestId('qr-agreement').getAttribute('data-agrees')).resolves.toBe('true');
    await screenshot(page, 'verify-voucher-summary-phone');
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);

    await choose(page, receipt.file);
    const match = await verdictOf(page, 'good');
    expect(match).toContain('正是此凭证');
    expect(match).toContain('this is the voucher');
    await screenshot(page, 'verify-voucher-match-phone');
    await expectAccessible(page);

    await choose(page, changedFile);
    expect(await verdictOf(page, 'bad')).toContain('Changed after signing');

    // Another genuine voucher is not this one, and leads to its own page.
    await choose(page, otherReceipt.file);
    const other = await verdictOf(page, 'warning');
    expect(other).toContain('不是此凭证');
    expect(other).toContain('Not this voucher');
    expect(other).toContain(otherReceipt.id);
    await screenshot(page, 'verify-voucher-other-phone');
    await expectAccessible(page);
    await page.getByRole('link', { name: '打开该凭证的核验页' }).click();
    await page.waitForURL(`**/verify/${otherReceipt.id}`);
    await page.getByTestId('voucher-summary').filter({ hasText: otherReceipt.pdfSha256 }).waitFor();
    await absent(page.getByTestId('voucher-verdict'));
    await context.close();
  });

  test('a QR code whose record fingerprint differs from the record is flagged', async () => {
    const { context, page } = await phone();
    const otherSha = createHash('sha256').update('another record').digest('hex');
    await page.goto(`/verify/${receipt.id}?voucher=${receipt.id}&sha256=${otherSha}`);
    const flag = page.getByTestId('qr-agreement');
    await flag.waitFor();
    await expect(flag.getAttribute('data-agrees')).resolves.toBe('false');
    await expect(flag.textContent()).resolves.toContain('不一致');
    await context.close();
  });

  test('an unknown or malformed voucher id is a plain "no such voucher" page', async () => {
    const { context, page } = await phone('en');
    await page.goto('/verify/vch_00000000000000000000000000?voucher=vch_00000000000000000000000000&sha256=00');
    await page.getByTestId('no-such-voucher').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('未找到该凭证');
    await switchToEnglish(page);
    await expect(page.locator('h1').textContent()).resolves.toBe('No such voucher');
    await expect(page.locator('body').textContent()).resolves.not.toMatch(/not_found|voucher_not_found|404/);
    await screenshot(page, 'verify-voucher-not-found-phone-en');
    await expectAccessible(page);
    await page.goto('/verify/not-an-id');
    await page.getByTestId('no-such-voucher').waitFor();
    await context.close();
  });
});

describe('/verify/guarantee: a guarantee document checked by its fingerprint, computed in the browser', () => {
  test('the genuine document is authentic with its public facts; another document or an unknown number is not found; bad input is refused in the form', async () => {
    const g = await new World(stack.rt, app).init();
    const scene = await g.scene('bank', { accepted: ['bank'] });
    const documentBytes = await aPlainPdf(`Bank guarantee for ${scene.section.projectCode}`);
    const documentFile = path.join(tmp, 'guarantee.pdf');
    writeFileSync(documentFile, documentBytes);
    const documentSha256 = createHash('sha256').update(documentBytes).digest('hex');
    const issuance = g.issuance(scene, { documentSha256 });
    const issued = await g.issue(scene.issuer, issuance);
    expect([issued.status, issued.body.status]).toEqual([201, 'issued']);

    const { context, page } = await phone();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') sent.push(`${r.method()} ${r.url()}`);
    });
    await page.goto('/verify/guarantee');
    await expect(page.locator('h1').textContent()).resolves.toBe('保函验真');
    await screenshot(page, 'verify-guarantee-empty-phone');
    await expectAccessible(page);

    // Bad input: refused by the form, nothing asked.
    await page.getByLabel(/出具机构/).fill('not an issuer');
    await page.getByRole('button', { name: /验\s*证/ }).click();
    await page.getByText('应为 iss_ 开头的机构编号或 12 位银行行号').waitFor();
    // Checked once the messages have faded in: mid-animation their contrast is not theirs.
    await page.locator('.ant-form-show-help-item-appear-active').first().waitFor({ state: 'detached' });
    await expectAccessible(page);
    await screenshot(page, 'verify-guarantee-bad-input-phone');

    await page.getByLabel(/出具机构/).fill(scene.issuer.bankCode!);
    await page.getByLabel('保函编号').fill(issuance.number);
    await choose(page, documentFile);
    // Fingerprinted in the page, exactly as Node does, and the document never sent.
    await waitFor('the fingerprint', async () => (await page.getByLabel(/SHA-256/).inputValue()) === documentSha256, 10_000);
    await page.getByRole('button', { name: /验\s*证/ }).click();
    const verdict = page.getByTestId('guarantee-verdict');
    await verdict.waitFor();
    await expect(verdict.getAttribute('data-look')).resolves.toBe('good');
    const facts = (await page.getByTestId('guarantee-facts').textContent()) ?? '';
    expect(facts).toContain(issuance.number);
    expect(facts).toContain('¥50,000.00');
    expect(facts).toContain(scene.section.projectCode);
    expect(facts).toContain('在有效期内');
    // R18: before the opening the bidder is not named.
    expect(facts).toContain('开标前不公开');
    expect(facts).not.toContain(scene.bidder.name);
    expect((await verdict.textContent()) ?? '').toMatch(/保函真实[\s\S]*Authentic guarantee/);
    expect(sent).toEqual([]);
    await screenshot(page, 'verify-guarantee-authentic-phone');
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);

    // Another file (the voucher PDF) under the same issuer and number: not found, as an unknown number is.
    await choose(page, receipt.file);
    await waitFor('the new fingerprint', async () => (await page.getByLabel(/SHA-256/).inputValue()) === receipt.pdfSha256, 10_000);
    await page.getByRole('button', { name: /验\s*证/ }).click();
    await page.locator('[data-testid="guarantee-verdict"][data-look="unknown"]').waitFor();
    await expect(page.getByTestId('guarantee-verdict').textContent()).resolves.toMatch(/未找到一致的保函[\s\S]*No matching guarantee/);
    await absent(page.getByTestId('guarantee-facts'));
    await screenshot(page, 'verify-guarantee-not-found-phone');
    await expectAccessible(page);

    await page.getByLabel(/出具机构/).fill(scene.issuer.id);
    await page.getByLabel('保函编号').fill(`${issuance.number}-X`);
    await page.getByLabel(/SHA-256/).fill(documentSha256);
    await page.getByRole('button', { name: /验\s*证/ }).click();
    await page.locator('[data-testid="guarantee-verdict"][data-look="unknown"]').waitFor();
    expect(sent).toEqual([]);
    await context.close();
  });

  test('on a desk-sized screen the same pages read in English', async () => {
    const { context, page } = await newPerson(stack, { lang: 'en' });
    await page.goto('/verify/guarantee');
    await switchToEnglish(page);
    await expect(page.locator('h1').textContent()).resolves.toBe('Verify a guarantee');
    await screenshot(page, 'verify-guarantee-desk-en');
    await expectAccessible(page);
    await page.goto(`/verify/${receipt.id}?voucher=${receipt.id}&sha256=${receipt.recordSha256}`);
    await page.getByTestId('voucher-summary').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('Check this voucher');
    await screenshot(page, 'verify-voucher-desk-en');
    await expectAccessible(page);
    await context.close();
  });
});
