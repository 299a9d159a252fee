// A person's browser session: the cookie that carries it, and the check every /v1 request made
// with it passes (src/http/auth.ts). The cookie is HttpOnly (no script reads it) and
// SameSite=Strict (no other site's page sends it); a request that changes anything must also
// carry the session's CSRF token in X-CSRF-Token, which only our own page can have read.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { Caller } from '../http/auth';
import { defaultSessionTiming, type SessionTiming } from '../timing';
import { CsrfTokenInvalid, NotSignedIn, SessionExpired } from './errors';
import * as repo from './repo';
import { lastSeenDue, sessionCookieName, sessionLive, sessionTokenPattern } from './rules';

export const csrfHeader = 'X-CSRF-Token';
/** Methods that change nothing, so need no CSRF token. */
const safeMethods = new Set(['GET', 'HEAD']);
/** A Cookie header is split into at most this many pairs: the one we want is among the first. */
export const cookiePairsMax = 64;

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The value of one cookie in a Cookie header (RFC 6265 §5.4: "name=value" pairs joined by
 *  "; "); the first when a name repeats, as browsers send the most specific path first. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';', cookiePairsMax)) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
}

/** Secure when the service is published over https: a browser then never sends the cookie in
 *  clear. Not on plain http (the development default), where the browser would drop it. */
export function cookieOptionsFor(config: { BIDBOND_PUBLIC_URL?: string }): CookieOptions {
  return { secure: (config.BIDBOND_PUBLIC_URL ?? '').toLowerCase().startsWith('https:') };
}

export function sessionCookie(token: string, maxAgeSeconds: number, opts: CookieOptions): string {
  return `${sessionCookieName}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(opts: CookieOptions): string {
  return `${sessionCookieName}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
}

/** The session token a request carries: undefined without the cookie, `malformed` when the
 *  cookie cannot be one of ours. */
export function sessionTokenOf(req: Request): string | 'malformed' | undefined {
  const value = cookieValue(req.get('cookie'), sessionCookieName);
  if (value === undefined || value === '') return undefined;
  return sessionTokenPattern.test(value) ? value : 'malformed';
}

export type LiveSession = NonNullable<Awaited<ReturnType<typeof repo.findSessionWithUser>>>;

/** The session and its user when the session is live: not revoked, within both timeouts, its
 *  user not disabled (disabling ends every session at once, whatever the revocation did). */
export async function findLiveSession(db: Knex | Knex.Transaction, token: string, timing: SessionTiming, now: Date): Promise<LiveSession | undefined> {
  const found = await repo.findSessionWithUser(db, hashSessionToken(token));
  if (!found) return undefined;
  const s = { lastSeenAt: found.session.last_seen_at, expiresAt: found.session.expires_at, revokedAt: found.session.revoked_at };
  if (found.user.disabled_at !== null || !sessionLive(s, timing, now)) return undefined;
  return found;
}

export function csrfMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function callerOf(user: LiveSession['user']): Caller {
  return {
    // The person is the caller: every audit actor and decision names their user id.
    keyId: user.id,
    role: user.role,
    tendereeId: user.tenderee_id ?? undefined,
    bidderId: user.bidder_id ?? undefined,
    userId: user.id,
    login: user.login,
  };
}

/** The caller of a request that carries a session cookie, or undefined when it carries none.
 *  A cookie that names no live session is refused (and cleared); so is a state-changing request
 *  without the session's CSRF token, before anything runs. A use is recorded at most once per
 *  lastSeenRefreshMs, not on every request. */
export async function sessionCaller(
  req: Request,
  db: Knex,
  opts: { timing?: SessionTiming; cookie?: CookieOptions; now?: Date } = {},
): Promise<Caller | undefined> {
  const token = sessionTokenOf(req);
  if (token === undefined) return undefined;
  const timing = opts.timing ?? defaultSessionTiming;
  const now = opts.now ?? new Date();
  const clear = () => {
    const res = req.res as Response | undefined;
    if (res && !res.headersSent) res.setHeader('Set-Cookie', clearedSessionCookie(opts.cookie ?? { secure: false }));
  };
  if (token === 'malformed') {
    clear();
    throw new NotSignedIn();
  }
  const live = await findLiveSession(db, token, timing, now);
  if (!live) {
    clear();
    throw new SessionExpired();
  }
  if (!safeMethods.has(req.method) && !csrfMatches(req.get(csrfHeader), live.session.csrf_token)) throw new CsrfTokenInvalid();
  if (lastSeenDue(live.session.last_seen_at, timing, now)) {
    await repo.touchSession(db, live.session.id, now, new Date(now.getTime() - timing.lastSeenRefreshMs));
  }
  return callerOf(live.user);
}
