// The bidder's console in a real browser: its section's sub-account (with its credit reduction and
// the R5 reminder), its deposit valid with each rule's result, its signed receipt, its guarantees
// and refunds, and nothing of another bidder's.
import type { BrowserContext, Page } from 'playwright-core';
import { PartiesScene, pageText, settled, pdfsigReport, person, type Bidder, type Person } from './parties.support';
import { accessibilityViolations, confirmOverlay, newPerson, screenshot, signIn, startBrowserStack, type BrowserStack } from './support';

jest.setTimeout(60_000);

let stack: BrowserStack;
let scene: PartiesScene;
let a: Bidder;
let b: Bidder;
let aUser: Person;
let aContext: BrowserContext;
let aPage: Page;
let aDepositId: string;
let aVirtualAccount: string;

beforeAll(async () => {
  stack = await startBrowserStack();
  scene = await new PartiesScene(stack).init();
  a = await scene.bidder('甲');
  b = await scene.bidder('乙');
  await scene.grade(a);
  aUser = await person(stack, 'bidder', { bidderId: a.id });
  ({ context: aContext, page: aPage } = await newPerson(stack));
  await signIn(aPage, aUser.login, aUser.password);
});
afterAll(async () => {
  await aContext?.close();
  await stack?.close();
});

async function expectAccessible(page: Page) {
  expect(await accessibilityViolations(page)).toEqual([]);
}

describe('a bidder in the console', () => {
  test('finds the sub-account of its section, with the amount reduced for its credit grade and the R5 reminder naming its basic account', async () => {
    await aPage.goto('/console/sections');
    await aPage.locator('h1').filter({ hasText: '我的标段' }).waitFor();
    await aPage.locator('.ant-table-row').first().waitFor();
    await settled(aPage);
    await screenshot(aPage, 'bidder-sections');
    await expectAccessible(aPage);

    await aPage.goto(`/console/sections/${scene.section.id}`);
    const va = aPage.getByTestId('virtual-account');
    await va.waitFor();
    aVirtualAccount = (await va.innerText()).trim();
    expect(aVirtualAccount).toMatch(new RegExp(`^${scene.bank.prefix}\\d+$`));
    // R4 with the section's reduction: AAA takes 20% off ¥50,000.00.
    await expect(aPage.getByTestId('required-amount').innerText()).resolves.toContain('¥40,000.00');
    const text = await pageText(aPage);
    expect(text).toContain('信用等级 AAA');
    expect(text).toContain('R5');
    await expect(aPage.getByTestId('basic-account').innerText()).resolves.toContain(a.account.number);
    await expect(aPage.getByTestId('countdown').first().innerText()).resolves.toMatch(/\d+ 天/);
    await settled(aPage);
    await screenshot(aPage, 'bidder-section');
    await expectAccessible(aPage);
  });

  test('sees its deposit valid with every rule explained, and downloads its receipt: a PDF whose signature pdfsig accepts', async () => {
    aDepositId = await scene.pay(a, aVirtualAccount, '40000.00');
    await aPage.goto('/console/deposits');
    await aPage.locator(`a[href="/console/deposits/${aDepositId}"]`).waitFor();
    const row = aPage.locator('.ant-table-row', { has: aPage.locator(`a[href="/console/deposits/${aDepositId}"]`) });
    await expect(row.innerText()).resolves.toContain('有效');
    await expect(row.innerText()).resolves.toContain('¥40,000.00');
    await settled(aPage);
    await screenshot(aPage, 'bidder-deposits');
    await expectAccessible(aPage);

    await row.locator(`a[href="/console/deposits/${aDepositId}"]`).click();
    await aPage.getByTestId('deposit-status').filter({ hasText: '有效' }).waitFor();
    const text = await pageText(aPage);
    expect(text).toContain('✓ R3 在投标截止时间前到账');
    expect(text).toContain('✓ R4 金额不少于应缴保证金');
    expect(text).toContain('✓ R5 从投标人登记的基本账户转出');
    expect(text).toContain(a.account.number);
    const receipt = aPage.locator('a[data-voucher-id]').filter({ hasText: '保证金到账凭证' }).first();
    await receipt.waitFor();
    await settled(aPage);
    await screenshot(aPage, 'bidder-deposit');
    await expectAccessible(aPage);

    const mine = aPage.getByRole('table', { name: '我参与的标段' });
    await aPage.goto('/console/sections');
    await mine.locator(`a[href="/console/sections/${scene.section.id}"]`).waitFor();
    await settled(aPage);
    await screenshot(aPage, 'bidder-sections-taking-part');
    await expectAccessible(aPage);
    await aPage.goBack();
    await receipt.waitFor();

    const href = await receipt.getAttribute('href');
    const pdf = await aContext.request.get(href!);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toContain('application/pdf');
    const bytes = await pdf.body();
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const report = await pdfsigReport(bytes);
    expect(report).toContain('Signature is Valid.');
    expect(report).toContain('Certificate is Trusted.');
  });

  test("cannot open another bidder's deposit by typing its URL: the page says not found and the API answers 404", async () => {
    const bVa = await scene.deposits.virtualAccount(scene.section.id, b.id);
    const bDepositId = await scene.pay(b, bVa, '50000.00');
    const answer = aPage.waitForResponse((r) => r.url().endsWith(`/v1/deposits/${bDepositId}`));
    await aPage.goto(`/console/deposits/${bDepositId}`);
    expect((await answer).status()).toBe(404);
    await aPage.getByRole('alert').filter({ hasText: '未找到' }).waitFor();
    const text = await pageText(aPage);
    expect(text).not.toContain(b.name);
    expect(text).not.toContain(bVa);
    expect(text).not.toContain('50,000.00');
    await settled(aPage);
    await screenshot(aPage, 'bidder-deposit-not-found');
  });

  test('sees its guarantee with the rules it passed, and its refund after withdrawing: due date (R9), interest and the account it goes back to (R17)', async () => {
    const g = await scene.guarantee(a, '40000.00');
    await aPage.goto('/console/guarantees');
    await aPage.locator(`a[href="/console/guarantees/${g.id}"]`).waitFor();
    await settled(aPage);
    await screenshot(aPage, 'bidder-guarantees');
    await expectAccessible(aPage);
    await aPage.goto(`/console/guarantees/${g.id}`);
    await aPage.getByText(g.number).first().waitFor();
    await aPage.getByText('✓ R7', { exact: false }).first().waitFor();
    await settled(aPage);
    await screenshot(aPage, 'bidder-guarantee');
    await expectAccessible(aPage);

    // The bidder's written notice of withdrawal before the deadline (R9), given on its section's page.
    await aPage.goto(`/console/sections/${scene.section.id}`);
    await aPage.getByRole('button', { name: '撤回投标' }).click();
    await confirmOverlay(aPage, aPage.locator('.ant-popconfirm').getByRole('button', { name: /撤\s?回/ }), 'bidder-withdraw');
    const notice = aPage.getByTestId('withdrawn');
    await notice.waitFor();
    const refundLink = notice.locator('a[href^="/console/refunds/"]').first();
    await expect(refundLink.innerText()).resolves.toContain('¥40,000.00');
    const refundId = (await refundLink.getAttribute('href'))!.split('/').pop()!;
    const refund = (await scene.get(`/v1/refunds/${refundId}`)).body as { id: string; depositId: string; dueBy: string };
    expect(refund.depositId).toBe(aDepositId);
    await settled(aPage);
    await screenshot(aPage, 'bidder-section-withdrawn');
    await expectAccessible(aPage);
    await aPage.goto('/console/refunds');
    const row = aPage.locator('.ant-table-row', { has: aPage.locator(`a[href="/console/refunds/${refund.id}"]`) });
    await row.waitFor();
    const rowText = await row.innerText();
    expect(rowText).toContain(refund.dueBy);
    expect(rowText).toContain('R9');
    expect(rowText).toContain(a.account.number);
    await settled(aPage);
    await screenshot(aPage, 'bidder-refunds');
    await expectAccessible(aPage);
    await row.locator(`a[href="/console/refunds/${refund.id}"]`).click();
    // The list names R17 too: wait for the refund's own page before reading it.
    await aPage.waitForURL(`**/console/refunds/${refund.id}`);
    await aPage.locator('h1', { hasText: '退款详情' }).waitFor();
    await aPage.getByText('R17').first().waitFor();
    await aPage.getByText(a.account.number).first().waitFor();
    await expect(pageText(aPage)).resolves.toContain(a.account.number);
    await settled(aPage);
    await screenshot(aPage, 'bidder-refund');
    await expectAccessible(aPage);
  });

  test('the section page fits a phone: the sub-account number and the deadline are readable at 390 px', async () => {
    const { context, page } = await newPerson(stack, { mobile: true });
    await signIn(page, aUser.login, aUser.password);
    await page.goto(`/console/sections/${scene.section.id}`);
    await page.getByTestId('virtual-account').filter({ hasText: aVirtualAccount }).waitFor();
    const box = await page.getByTestId('virtual-account').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    const scrollWidth = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await settled(page);
    await screenshot(page, 'bidder-section-phone');
    await expectAccessible(page);
    await context.close();
  });
});
