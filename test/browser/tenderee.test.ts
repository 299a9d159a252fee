// The tenderee's console in a real browser: before the opening its section's page shows nothing
// about bidders (R18: no names, no count, no amounts); after it, the roster fixed at the opening
// with its voucher and 验真 of the guarantee on it.
import type { BrowserContext, Page } from 'playwright-core';
import { PartiesScene, pageText, settled, person, type Bidder, type Person } from './parties.support';
import { accessibilityViolations, newPerson, screenshot, signIn, startBrowserStack, type BrowserStack } from './support';

jest.setTimeout(60_000);

let stack: BrowserStack;
let scene: PartiesScene;
let bidders: { cash: Bidder; more: Bidder; guaranteed: Bidder };
let tenderee: Person;
let context: BrowserContext;
let page: Page;
/** What the bidders secured, each an amount no other figure on the page has. */
const amounts = { cash: '51234.56', more: '60789.10', guaranteed: '55555.00' };
const shown = (amount: string) => `¥${amount.replace(/\B(?=(\d{3})+(?!\d)\.)/g, ',')}`;
let guarantee: { id: string; number: string };

beforeAll(async () => {
  stack = await startBrowserStack();
  scene = await new PartiesScene(stack).init();
  bidders = { cash: await scene.bidder('甲'), more: await scene.bidder('乙'), guaranteed: await scene.bidder('丙') };
  await scene.pay(bidders.cash, await scene.deposits.virtualAccount(scene.section.id, bidders.cash.id), amounts.cash);
  await scene.pay(bidders.more, await scene.deposits.virtualAccount(scene.section.id, bidders.more.id), amounts.more);
  guarantee = await scene.guarantee(bidders.guaranteed, amounts.guaranteed);
  tenderee = await person(stack, 'tenderee', { tendereeId: scene.tenderee.id });
  ({ context, page } = await newPerson(stack));
  await signIn(page, tenderee.login, tenderee.password);
});
afterAll(async () => {
  await context?.close();
  await stack?.close();
});

function expectNothingOfBidders(text: string) {
  for (const b of Object.values(bidders)) {
    expect(text).not.toContain(b.name);
    expect(text).not.toContain(b.uscc);
  }
  for (const a of Object.values(amounts)) {
    expect(text).not.toContain(a);
    expect(text).not.toContain(shown(a));
  }
  expect(text).not.toContain(guarantee.number);
}

describe('a tenderee in the console', () => {
  test('sees its section before the opening with nothing about who secured it: no name, no count, no amount (R18)', async () => {
    expect(shown(amounts.cash)).toBe('¥51,234.56');
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto('/console/sections');
    await page.locator(`a[href="/console/sections/${scene.section.id}"]`).waitFor();
    expectNothingOfBidders(await pageText(page));
    await settled(page);
    await screenshot(page, 'tenderee-sections');
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goto(`/console/sections/${scene.section.id}`);
    await page.getByTestId('before-opening').waitFor();
    const text = await pageText(page);
    expectNothingOfBidders(text);
    // Not even a hint of how many: no figure on the page besides the section's own.
    const card = await page.getByTestId('before-opening').innerText();
    expect(card.replace('R18', '')).not.toMatch(/\d/);
    expect(text).toContain('R18');
    // The page asks the API nothing about bidders, not only shows nothing.
    expect(requests.filter((p) => /\/v1\/(deposits|guarantees|refunds)|\/roster$/.test(p))).toEqual([]);
    await settled(page);
    await screenshot(page, 'tenderee-section-before-opening');
    expect(await accessibilityViolations(page)).toEqual([]);
    page.removeAllListeners('request');
  });

  test('after the opening sees the roster: who secured it by cash or guarantee, the roster voucher, and 验真 of the guarantee', async () => {
    const opened = await scene.open();
    await page.goto(`/console/sections/${scene.section.id}`);
    const roster = page.getByRole('table', { name: '开标保证金名册' });
    await roster.waitFor();
    const rowOf = (b: Bidder) => roster.locator('.ant-table-row', { hasText: b.name });
    await expect(rowOf(bidders.cash).innerText()).resolves.toMatch(/现金保证金[\s\S]*已担保[\s\S]*¥50,000\.00[\s\S]*R4/);
    await expect(rowOf(bidders.more).innerText()).resolves.toMatch(/现金保证金[\s\S]*已担保/);
    await expect(rowOf(bidders.guaranteed).innerText()).resolves.toMatch(/电子保函[\s\S]*已担保[\s\S]*¥55,555\.00[\s\S]*R8/);
    if (opened.voucherId) await page.locator(`a[data-voucher-id="${opened.voucherId}"]`).waitFor();
    await settled(page);
    await screenshot(page, 'tenderee-section-roster');
    expect(await accessibilityViolations(page)).toEqual([]);

    await rowOf(bidders.guaranteed).getByRole('button', { name: /验\s?真/ }).click();
    const verification = page.getByTestId('verification');
    await verification.waitFor();
    const text = await verification.innerText();
    expect(text).toContain('保函真实有效');
    expect(text).toContain(guarantee.number);
    expect(text).toContain('R7');
    await settled(page);
    await screenshot(page, 'tenderee-verification');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The same roster in English, from the language switch.
    await page.keyboard.press('Escape');
    await page.getByText('EN', { exact: true }).click();
    const english = page.getByRole('table', { name: 'Roster' });
    await english.waitFor();
    await expect(english.locator('.ant-table-row', { hasText: bidders.guaranteed.name }).innerText()).resolves.toMatch(/e-guarantee[\s\S]*secured[\s\S]*¥55,555\.00/);
    await settled(page);
    await screenshot(page, 'tenderee-section-roster-en');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByText('中文', { exact: true }).click();
    await roster.waitFor();
  });

  test("cannot open another tenderee's section: the page says not found", async () => {
    const other = await new PartiesScene(stack).init();
    const answer = page.waitForResponse((r) => r.url().endsWith(`/v1/sections/${other.section.id}`));
    await page.goto(`/console/sections/${other.section.id}`);
    expect((await answer).status()).toBe(404);
    await page.getByRole('alert').filter({ hasText: '未找到' }).waitFor();
    expect(await pageText(page)).not.toContain(other.section.name);
  });
});
