import { randomBytes } from 'node:crypto';
import { signInFailuresBeforeLock } from '../../src/users/rules';
import { createUser } from '../../src/users/service';
import { accessibilityViolations, newPerson, screenshot, signIn, startBrowserStack, type BrowserStack } from './support';

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

  test('a person signs in and out; wrong passwords are told apart from nothing, and the account locks after repeated failures', async () => {
    const login = `clerk.${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    await stack.rt.db.transaction((tx) => createUser(tx, { type: 'operator', id: 'test' }, { login, role: 'centre', password }));
    const { context, page } = await newPerson(stack);
    await signIn(page, login, password);
    await page.getByRole('button', { name: '退出' }).click();
    await page.waitForURL('**/console/signin');
    // Signed out: the console sends the person back to sign in.
    await page.goto('/console/dashboard');
    await page.waitForURL('**/console/signin');

    // Each attempt waits for the api's answer, then for the words the page shows for it.
    const attempt = async (pw: string, shown: string) => {
      await page.locator('input[autocomplete="username"]').fill(login);
      await page.locator('input[autocomplete="current-password"]').fill(pw);
      const answered = page.waitForResponse((r) => r.url().endsWith('/v1/session') && r.request().method() === 'POST');
      await page.locator('button[type="submit"]').click();
      const status = (await answered).status();
      await page.getByRole('alert').filter({ hasText: shown }).waitFor();
      return status;
    };
    await expect(attempt('not the password', '用户名或密码错误')).resolves.toBe(401);
    await screenshot(page, 'shell-signin-wrong-password');
    for (let i = 1; i < signInFailuresBeforeLock - 1; i++) await attempt(`wrong ${i}`, '用户名或密码错误');
    await expect(attempt('still wrong', '已暂时锁定')).resolves.toBe(429);
    // Locked: even the right password is refused until the lock ends or a reset.
    await expect(attempt(password, '已暂时锁定')).resolves.toBe(429);
    await screenshot(page, 'shell-signin-locked');
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});
