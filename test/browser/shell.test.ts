import { accessibilityViolations, newPerson, screenshot, startBrowserStack, type BrowserStack } from './support';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('the console shell', () => {
  test('the sign-in page is served by the api, in Chinese by default, switches to English, and has no serious accessibility violation', async () => {
    const { context, page } = await newPerson(stack);
    const response = await page.goto('/console/');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForURL('**/console/signin');
    await expect(page.locator('h1').textContent()).resolves.toContain('登录');
    await screenshot(page, 'shell-signin-zh');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByText('EN', { exact: true }).click();
    await expect(page.locator('h1').textContent()).resolves.toContain('Sign in');
    await screenshot(page, 'shell-signin-en');
    await context.close();
  });

  test('assets are served from the api itself under immutable names', async () => {
    const { context, page } = await newPerson(stack);
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(stack.baseUrl)) external.push(r.url());
    });
    await page.goto('/console/signin');
    await page.locator('h1').waitFor();
    expect(external).toEqual([]);
    const script = await page.locator('script[type="module"]').getAttribute('src');
    const asset = await page.request.get(script!);
    expect(asset.status()).toBe(200);
    expect(asset.headers()['cache-control']).toContain('immutable');
    await context.close();
  });
});
