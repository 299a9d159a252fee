// Pure rules for people and their sessions: what a login and a password may be, when an account
// locks, when a session is over. No I/O.
import type { SessionTiming } from '../timing';

/** Long enough that guessing within the lock-out is hopeless (NIST SP 800-63B asks at least 8). */
export const passwordLengthMin = 10;
/** Passphrases fit; a megabyte of "password" that every check would hash does not. */
export const passwordLengthMax = 256;

export const loginLengthMin = 3;
export const loginLengthMax = 64;
/** Letters, digits and . _ @ -: an e-mail address or a staff number fits, and a login never
 *  needs quoting in a log line or a command. */
export const loginPattern = /^[A-Za-z0-9._@-]+$/;

/** Consecutive wrong passwords after which the account is locked, and for how long. */
export const signInFailuresBeforeLock = 5;
export const lockoutMs = 15 * 60_000;

/** Sign-in attempts per address and minute, before the password is even hashed. */
export const signInAttemptsPerAddressPerMinute = 20;

/** The cookie that carries a session: 32 random bytes, base64url. */
export const sessionCookieName = 'bidbond_session';
export const sessionTokenBytes = 32;
export const sessionTokenPattern = /^[A-Za-z0-9_-]{43}$/;
export const csrfTokenBytes = 32;
/** A browser's User-Agent is kept this long at most, for the person's list of sign-ins. */
export const userAgentLengthMax = 512;

/** Characters, not UTF-16 units: a Chinese passphrase counts as many characters as it shows. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFC')].length;
}

export function passwordProblem(password: string): string | undefined {
  const n = passwordLength(password);
  if (n < passwordLengthMin) return `a password has at least ${passwordLengthMin} characters`;
  if (n > passwordLengthMax) return `a password has at most ${passwordLengthMax} characters`;
  return undefined;
}

export function loginProblem(login: string): string | undefined {
  if (login.length < loginLengthMin || login.length > loginLengthMax) return `a login has ${loginLengthMin} to ${loginLengthMax} characters`;
  if (!loginPattern.test(login)) return 'a login has only letters, digits and . _ @ -';
  return undefined;
}

export function lockedUntil(lockedUntilAt: Date | null, now: Date): Date | undefined {
  return lockedUntilAt && lockedUntilAt.getTime() > now.getTime() ? lockedUntilAt : undefined;
}

/** After one more wrong password: the new count, and the end of a lock if this one locks. The
 *  count starts again after a lock, so a person whose lock ran out has the full number of tries. */
export function afterWrongPassword(failedAttempts: number, now: Date): { failedAttempts: number; lockedUntil?: Date } {
  const n = failedAttempts + 1;
  if (n >= signInFailuresBeforeLock) return { failedAttempts: 0, lockedUntil: new Date(now.getTime() + lockoutMs) };
  return { failedAttempts: n };
}

/** When an unused session ends: the idle timeout from its last recorded use, never past its
 *  absolute end. The last use is recorded at most every lastSeenRefreshMs, so this is never
 *  later than the truth. */
export function idleExpiresAt(session: { lastSeenAt: Date; expiresAt: Date }, timing: SessionTiming): Date {
  return new Date(Math.min(session.lastSeenAt.getTime() + timing.idleTimeoutMs, session.expiresAt.getTime()));
}

export function sessionLive(session: { lastSeenAt: Date; expiresAt: Date; revokedAt: Date | null }, timing: SessionTiming, now: Date): boolean {
  return session.revokedAt === null && now.getTime() < idleExpiresAt(session, timing).getTime();
}

export function lastSeenDue(lastSeenAt: Date, timing: SessionTiming, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= timing.lastSeenRefreshMs;
}
