// Pages in a real browser: Debian's chromium driven by playwright-core against the real api
// listening on a loopback port. Screenshots of every page a test looks at are kept under
// test-output/screenshots/ for a reader to look at, and every page is checked with axe-core.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { Runtime } from '../../src/runtime';
import { startTestRuntime, testApp } from '../support/runtime';

export const chromiumPath = process.env.BIDBOND_CHROMIUM ?? '/usr/bin/chromium';
export const screenshotDirectory = path.resolve(__dirname, '../../test-output/screenshots');

/** The flags a closed network needs: without them chromium keeps calling home and is refused. */
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The WCAG 2.1 A and AA rules axe-core checks every page against. */
export const axeRuleTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe-core impacts that fail a page. */
export const blockingImpacts = ['serious', 'critical'];

export interface BrowserStack {
  rt: Runtime;
  baseUrl: string;
  browser: Browser;
  close: () => Promise<void>;
}

export async function startBrowserStack(env: Record<string, string> = {}): Promise<BrowserStack> {
  const rt = await startTestRuntime(env);
  const server: Server = await new Promise((resolve) => {
    const s = testApp(rt).listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  return {
    rt,
    baseUrl,
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      await rt.close();
    },
  };
}

/** A fresh browser profile: its own cookies, so two people never share a session. */
export async function newPerson(stack: BrowserStack, opts: { mobile?: boolean; lang?: 'zh' | 'en' } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({
    baseURL: stack.baseUrl,
    locale: opts.lang === 'en' ? 'en-US' : 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...(opts.mobile ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width: 1366, height: 900 } }),
  });
  const page = await context.newPage();
  return { context, page };
}

/** Signs in through the page, as a person would. */
export async function signIn(page: Page, login: string, password: string): Promise<void> {
  await page.goto('/console/signin');
  await page.locator('input[autocomplete="username"]').fill(login);
  await page.locator('input[autocomplete="current-password"]').fill(password);
  await page.locator('button[type="submit"]').click();
  await page.getByTestId('signed-in-as').waitFor();
}

/** How long `absent` lets a matching element take to go (an overlay closing, a list re-rendering). */
export const absentWaitMs = 5_000;

/** Asserts that nothing on the rendered page matches `locator` (call it once the part of the
 *  page it looks in has loaded). */
export async function absent(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'detached', timeout: absentWaitMs });
}

/** Asserts that exactly one element on the rendered page matches `locator`, waiting for it to
 *  appear: a locator's wait is strict, so a second match fails it. */
export async function one(locator: Locator): Promise<void> {
  await locator.waitFor();
}

/** The targets of the links `links` matches, in page order. */
export function linkTargets(links: Locator): Promise<(string | null)[]> {
  return links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
}

/** Clicks tried on a confirming button before its overlay is taken to be stuck. */
export const confirmClicksMax = 3;
/** How long the overlay has to close (or its button to show a request in flight) after a click. */
export const confirmClickWaitMs = 5_000;

/** Clicks the confirming button of a dialog or popconfirm and waits until the overlay has closed
 *  (the request it sent has been answered, whatever the answer). A click landing while the overlay
 *  still zooms in can be lost on a loaded machine, so it is repeated; a second one is harmless,
 *  as the button ignores clicks while its request is in flight. On failure the page is kept as a
 *  screenshot named `failed-<name>`. */
export async function confirmOverlay(page: Page, ok: Locator, name: string): Promise<void> {
  try {
    await ok.waitFor();
    for (let tries = 1; ; tries++) {
      await ok.click();
      try {
        await ok.waitFor({ state: 'hidden', timeout: confirmClickWaitMs });
        return;
      } catch (e) {
        if ((await ok.getAttribute('class').catch(() => ''))?.includes('ant-btn-loading')) {
          await ok.waitFor({ state: 'hidden' });
          return;
        }
        if (tries >= confirmClicksMax) throw e;
      }
    }
  } catch (e) {
    await screenshot(page, `failed-${name}`).catch(() => undefined);
    throw e;
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDirectory, { recursive: true });
  const file = path.join(screenshotDirectory, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** How long an accessibility check waits for the page's animations to end. */
export const animationsSettleMsMax = 5_000;

/** The page's serious and critical accessibility violations (WCAG 2 A and AA rules). Evaluated
 *  through the debugging protocol, which the pages' Content-Security-Policy does not apply to. */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // Colours are judged once every finite animation and transition has ended: a message fading
  // in has, mid-way, a contrast that is not its own (spinners, which never end, are left alone).
  await page.evaluate(async (waitMs) => {
    const d = (globalThis as unknown as { document: { getAnimations(): { finished: Promise<unknown>; effect: { getTiming(): { iterations?: number } } | null }[] } }).document;
    const finite = d.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity);
    await Promise.race([Promise.all(finite.map((a) => a.finished.catch(() => undefined))), new Promise((r) => setTimeout(r, waitMs))]);
  }, animationsSettleMsMax);
  await page.evaluate(axeSource);
  // Runs in the page; the project's types have no DOM, so the page's globals are reached untyped.
  const result = await page.evaluate(async (tags) => {
    const g = globalThis as unknown as { document: unknown; axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await g.axe.run(g.document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  }, axeRuleTags);
  return result.filter((v) => v.impact !== null && blockingImpacts.includes(v.impact));
}
