// The pure parts of people and sessions: the password hash's format and check, the cookie, the
// lock-out count and the session's ends.
import { dummyPasswordHash, hashPassword, scryptBlockSizeR, scryptCostN, scryptParallelizationP, storedParams, verifyPassword } from '../../../src/users/password';
import { afterWrongPassword, idleExpiresAt, lockoutMs, passwordProblem, sessionLive, signInFailuresBeforeLock, loginProblem } from '../../../src/users/rules';
import { clearedSessionCookie, cookieOptionsFor, cookieValue, sessionCookie } from '../../../src/users/sessions';

describe('passwords', () => {
  it('are stored as scrypt$N$r$p$salt$hash with a fresh salt, and only the same password verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^scrypt\\$${scryptCostN}\\$8\\$1\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    // Composed and decomposed forms of the same text are the same password.
    const composed = await hashPassword('café au lait!');
    expect(await verifyPassword('cafe\u0301 au lait!', composed)).toBe(true);
  });

  it('checks unknown logins against a hash of the same cost as real ones', async () => {
    expect(storedParams(dummyPasswordHash)).toEqual({ n: scryptCostN, r: scryptBlockSizeR, p: scryptParallelizationP });
    expect(storedParams(await hashPassword('x'.repeat(10)))).toEqual(storedParams(dummyPasswordHash));
    expect(await verifyPassword('', dummyPasswordHash)).toBe(false);
  });

  it('checks a hash made with other parameters by the parameters it names', async () => {
    const cheap = await hashPassword('another password', { n: 2 ** 10, r: 8, p: 1 });
    expect(cheap.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('another password', cheap)).toBe(true);
  });

  it('refuses a stored hash whose cost is out of bounds rather than computing it', async () => {
    await expect(verifyPassword('x', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).rejects.toThrow(/assertion failed/);
  });

  it('has at least 10 and at most 256 characters, counted as characters', () => {
    expect(passwordProblem('123456789')).toMatch(/at least 10/);
    expect(passwordProblem('1234567890')).toBeUndefined();
    expect(passwordProblem('投标保证金电子保函退款')).toBeUndefined();
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most 256/);
    expect(loginProblem('ab')).toBeDefined();
    expect(loginProblem('zhang wei')).toBeDefined();
    expect(loginProblem('zhang.wei@centre')).toBeUndefined();
  });
});

describe('lock-out', () => {
  it(`locks on the ${signInFailuresBeforeLock}th wrong password in a row, and starts counting again after`, () => {
    const now = new Date('2026-12-02T08:00:00Z');
    let n = 0;
    for (let i = 1; i < signInFailuresBeforeLock; i++) {
      const next = afterWrongPassword(n, now);
      expect(next.lockedUntil).toBeUndefined();
      n = next.failedAttempts;
    }
    expect(afterWrongPassword(n, now)).toEqual({ failedAttempts: 0, lockedUntil: new Date(now.getTime() + lockoutMs) });
  });
});

describe('sessions', () => {
  const timing = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3600_000, lastSeenRefreshMs: 60_000 };
  it('end at the idle time-out after the last use, never after the absolute end', () => {
    const created = new Date('2026-12-02T08:00:00Z');
    const s = { lastSeenAt: created, expiresAt: new Date(created.getTime() + timing.absoluteTimeoutMs), revokedAt: null };
    expect(sessionLive(s, timing, new Date(created.getTime() + 29 * 60_000))).toBe(true);
    expect(sessionLive(s, timing, new Date(created.getTime() + 30 * 60_000))).toBe(false);
    const late = { ...s, lastSeenAt: new Date(s.expiresAt.getTime() - 60_000) };
    expect(idleExpiresAt(late, timing)).toEqual(s.expiresAt);
    expect(sessionLive(late, timing, s.expiresAt)).toBe(false);
    expect(sessionLive({ ...s, revokedAt: created }, timing, created)).toBe(false);
  });

  it('read their cookie from a Cookie header among others, and set it Secure only behind https', () => {
    expect(cookieValue('theme=dark; bidbond_session=abc; other=1', 'bidbond_session')).toBe('abc');
    expect(cookieValue('bidbond_session="abc"', 'bidbond_session')).toBe('abc');
    expect(cookieValue('xbidbond_session=abc', 'bidbond_session')).toBeUndefined();
    expect(cookieValue(undefined, 'bidbond_session')).toBeUndefined();
    expect(cookieOptionsFor({ BIDBOND_PUBLIC_URL: 'https://bidbond.example.cn' })).toEqual({ secure: true });
    expect(cookieOptionsFor({ BIDBOND_PUBLIC_URL: 'http://127.0.0.1:3000' })).toEqual({ secure: false });
    expect(cookieOptionsFor({})).toEqual({ secure: false });
    expect(sessionCookie('tok', 60, { secure: true })).toBe('bidbond_session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
    expect(clearedSessionCookie({ secure: false })).toBe('bidbond_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
  });
});
