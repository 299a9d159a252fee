// A guarantee's own page in a real browser: the centre sees the facts an issuer signed for, runs
// 验真 and gets its signed report, and claims on the issuer after the deadline, on an R12 ground
// only (a winner's ground with no award is refused with the rule); the auditor sees the same page
// with no claim form.
import type { BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../src/users/service';
import { randomDigits } from '../api/deposits.support';
import { chooseOption, confirmDialog, fitsWidth, lookAt, submitAndConfirm } from './centre.support';
import { PartiesScene, settled, type Bidder } from './parties.support';
import { absent, linkTargets, newPerson, one, signIn, startBrowserStack, type BrowserStack } from './support';

jest.setTimeout(60_000);

const password = `guarantee pages ${randomDigits(8)}`;
const logins = { centre: `centre.g${randomDigits(8)}`, auditor: `auditor.g${randomDigits(8)}` };
let stack: BrowserStack;
let scene: PartiesScene;
let bidder: Bidder;
let guarantee: { id: string; number: string };
/** Claimed through the API before the pages are opened, so the auditor's test does not hang on
 *  the centre's test having claimed `guarantee`. */
let claimedByApi: { id: string; number: string };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startBrowserStack();
  scene = await new PartiesScene(stack).init();
  await stack.rt.db.transaction(async (tx) => {
    await createUser(tx, { type: 'operator', id: 'browser-test' }, { login: logins.centre, role: 'centre', password });
    await createUser(tx, { type: 'operator', id: 'browser-test' }, { login: logins.auditor, role: 'auditor', password });
  });
  bidder = await scene.bidder('丁');
  guarantee = await scene.guarantee(bidder, '52345.67');
  claimedByApi = await scene.guarantee(await scene.bidder('戊'), '50000.00');
  await scene.open();
  const claim = await scene.post(`/v1/guarantees/${claimedByApi.id}/claims`, { reason: 'false_documents', amount: '20000.00' });
  expect([claim.status, claim.body.status]).toEqual([200, 'claimed']);
  await scene.signVouchersOf(claimedByApi.id);
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await stack?.close();
});

async function signedIn(login: string, opts: { mobile?: boolean } = {}): Promise<Page> {
  const { context, page } = await newPerson(stack, opts);
  contexts.push(context);
  await signIn(page, login, password);
  return page;
}

describe('a guarantee in the centre console', () => {
  // The longest walk of the console tests: a loaded machine has taken most of a minute over it.
  test('the centre sees its facts, runs 验真 with a signed report, and claims on an R12 ground with a confirmation', async () => {
    const page = await signedIn(logins.centre);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    // The list, filtered by the section and to secured guarantees, links the guarantee's page.
    await page.goto(`/console/guarantees?status=secured&sectionId=${scene.section.id}`);
    const row = page.locator(`a[href="/console/guarantees/${guarantee.id}"]`);
    await row.waitFor();
    // The list is filtered to this test's section: its one secured guarantee, on one row.
    const list = page.getByRole('region', { name: '保函列表' });
    await one(list.getByRole('row').filter({ has: page.locator(`a[href="/console/guarantees/${guarantee.id}"]`) }));
    await expect(linkTargets(list.locator('a[href^="/console/guarantees/gty_"]'))).resolves.toEqual([`/console/guarantees/${guarantee.id}`]);
    await settled(page);
    await lookAt(page, 'centre-guarantees');
    await row.click();
    await page.getByRole('heading', { level: 1, name: new RegExp(guarantee.number) }).waitFor();
    const facts = page.locator('.ant-descriptions');
    await facts.getByText(`${bidder.name} (${bidder.uscc})`).waitFor();
    await facts.getByText('¥52,345.67').waitFor();
    await facts.getByText('担保公司保函').waitFor();
    await facts.getByText(scene.section.name, { exact: false }).waitFor();
    await expect(page.getByTestId('guarantee-status').innerText()).resolves.toBe('已担保');
    await page.getByText('R4').first().waitFor();

    // 验真: authentic, and the signed report is one of the guarantee's vouchers.
    await page.getByTestId('guarantee-verify-submit').click();
    const verification = page.getByTestId('guarantee-verification');
    await verification.getByText('保函真实').waitFor();
    await verification.getByText('保函验真报告 (生成中)').waitFor();
    await settled(page);
    await lookAt(page, 'centre-guarantee-verified');
    const signed = await scene.signVouchersOf(guarantee.id);
    expect(signed.length).toBeGreaterThanOrEqual(1);
    await page.reload();
    const report = page.getByTestId('guarantee-vouchers').getByRole('link', { name: '保函验真报告' });
    await report.waitFor();
    expect(signed).toContain(await report.getAttribute('data-voucher-id'));
    await settled(page);
    await lookAt(page, 'centre-guarantee');

    // A winner's ground with no award: the confirmation names the amount and the reason, and the
    // API refuses it with R12; nothing changes.
    await chooseOption(page, 'guarantee-claim_reason', '中标人拒签合同');
    await page.locator('#guarantee-claim_amount').fill('20000.00');
    await page.getByTestId('guarantee-claim-submit').click();
    await expect(page.getByTestId('guarantee-claim-confirm-text').innerText()).resolves.toMatch(/¥20000\.00.*中标人拒签合同.*R12/s);
    // The API's answer first, so that a failure here says what the API said.
    const claimAnswer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/v1/guarantees/${guarantee.id}/claims`));
    await confirmDialog(page, 'guarantee-claim');
    const answered = await claimAnswer;
    expect({ status: answered.status(), body: await answered.json() }).toMatchObject({ status: 422, body: { error: { code: 'claim_not_allowed', rule: 'R12' } } });
    await page.getByRole('alert').filter({ hasText: 'R12 · claim_not_allowed' }).waitFor();
    await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' });
    expect((await scene.get(`/v1/guarantees/${guarantee.id}`)).body.status).toBe('secured');
    await lookAt(page, 'centre-guarantee-claim-refused');

    // False documents, the centre's own finding: claimed, the answer and new status on the page.
    await chooseOption(page, 'guarantee-claim_reason', '提供虚假材料');
    await page.locator('#guarantee-claim_amount').fill('20000.00');
    await submitAndConfirm(page, 'guarantee-claim');
    const answer = page.getByTestId('guarantee-claim-answer');
    await answer.getByText('接口返回：已索赔').waitFor();
    await answer.getByText('¥20,000.00').waitFor();
    await page.getByTestId('guarantee-status').getByText('已索赔').waitFor();
    await page.getByTestId('guarantee-claim-facts').getByText('提供虚假材料', { exact: false }).waitFor();
    await page.getByTestId('guarantee-claim-closed').getByText('已索赔').waitFor();
    await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' });
    const claimed = (await scene.get(`/v1/guarantees/${guarantee.id}`)).body;
    expect(claimed).toMatchObject({ status: 'claimed', claim: { reason: 'false_documents', amount: '20000.00' } });
    expect(claimed.vouchers.map((v: { kind: string }) => v.kind)).toContain('claim_notice');
    // The history shows the claim from the audit log.
    await page.getByRole('cell', { name: 'guarantee.claimed' }).waitFor();
    await settled(page);
    await lookAt(page, 'centre-guarantee-claimed');
    expect(pageErrors).toEqual([]);
    // The claim notice is signed, as the voucher worker would.
    expect((await scene.signVouchersOf(guarantee.id)).length).toBe(2);
  }, 120_000);

  test('the auditor sees the page with no claim form, on a phone too', async () => {
    const page = await signedIn(logins.auditor, { mobile: true });
    // The list by status: the claimed guarantee is there, and not among the secured ones.
    await page.goto(`/console/guarantees?status=claimed&sectionId=${scene.section.id}`);
    await page.locator(`a[href="/console/guarantees/${claimedByApi.id}"]`).waitFor();
    await settled(page);
    await fitsWidth(page);
    await lookAt(page, 'auditor-guarantees-phone');
    const secured = page.waitForResponse((r) => r.url().includes('/v1/guarantees?') && r.url().includes('status=secured'));
    await page.goto(`/console/guarantees?status=secured&sectionId=${scene.section.id}`);
    const securedIds = ((await (await secured).json()).data as { id: string }[]).map((g) => g.id);
    expect(securedIds).not.toContain(claimedByApi.id);
    await settled(page);
    await absent(page.locator(`a[href="/console/guarantees/${claimedByApi.id}"]`));
    await page.goto(`/console/guarantees/${claimedByApi.id}`);
    await page.getByTestId('guarantee-status').getByText('已索赔').waitFor();
    await page.getByRole('cell', { name: 'guarantee.claimed' }).waitFor();
    await page.getByTestId('guarantee-vouchers').getByRole('link', { name: '索赔通知' }).waitFor();
    await absent(page.locator('#guarantee-claim'));
    await absent(page.getByTestId('guarantee-claim-submit'));
    await settled(page);
    await fitsWidth(page);
    await lookAt(page, 'auditor-guarantee-phone');
  });
});
