// People: created, reset and disabled by an operator (`bidbond users`), signing in and out of the
// console. Every change is audited; failed sign-ins too, within bounds (./refusals.ts).
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { newId } from '../domain/ids';
import { Conflict, NotFound, Unprocessable } from '../errors';
import type { Role } from '../http/auth';
import { enforceRateLimit } from '../http/rateLimit';
import { senderAddressKey } from '../http/refusalBudget';
import type { SessionTiming } from '../timing';
import { AccountLocked, InvalidCredentials } from './errors';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password';
import { countSignInFailure } from './refusals';
import * as repo from './repo';
import {
  afterWrongPassword, csrfTokenBytes, lockedUntil, loginProblem, passwordProblem, sessionTokenBytes, signInAttemptsPerAddressPerMinute, userAgentLengthMax,
} from './rules';
import { hashSessionToken } from './sessions';

export interface NewUser {
  login: string;
  role: Role;
  tendereeId?: string;
  bidderId?: string;
  password: string;
}

function requirePassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new Unprocessable(password.length === 0 || problem.includes('least') ? 'password_too_short' : 'password_too_long', problem, 'password');
}

export async function createUser(tx: Knex.Transaction, actor: Actor, input: NewUser): Promise<repo.UserRow> {
  const loginIssue = loginProblem(input.login);
  if (loginIssue) throw new Unprocessable('invalid_login', loginIssue, 'login');
  requirePassword(input.password);
  if (input.role === 'tenderee' && !input.tendereeId) throw new Unprocessable('tenderee_required', 'a tenderee user speaks for one tenderee: give its id', 'tendereeId');
  if (input.role === 'bidder' && !input.bidderId) throw new Unprocessable('bidder_required', 'a bidder user speaks for one bidder: give its id', 'bidderId');
  if (input.role !== 'tenderee' && input.tendereeId) throw new Unprocessable('tenderee_not_allowed', 'only a tenderee user names a tenderee', 'tendereeId');
  if (input.role !== 'bidder' && input.bidderId) throw new Unprocessable('bidder_not_allowed', 'only a bidder user names a bidder', 'bidderId');
  if (input.tendereeId && !(await repo.tendereeExists(tx, input.tendereeId))) throw new NotFound('tenderee', input.tendereeId);
  if (input.bidderId && !(await repo.bidderExists(tx, input.bidderId))) throw new NotFound('bidder', input.bidderId);
  const row = await repo.insertUser(tx, {
    id: newId('usr'),
    login: input.login,
    role: input.role,
    tenderee_id: input.tendereeId ?? null,
    bidder_id: input.bidderId ?? null,
    password_hash: await hashPassword(input.password),
  });
  if (!row) throw new Conflict('login_taken', `the login ${input.login} is taken (logins are compared without case)`);
  await appendAudit(tx, {
    actor,
    action: 'user.created',
    entityType: 'user',
    entityId: row.id,
    data: { login: row.login, role: row.role, tendereeId: row.tenderee_id, bidderId: row.bidder_id },
  });
  return row;
}

async function userByLogin(tx: Knex.Transaction, login: string): Promise<repo.UserRow> {
  const user = await repo.findUserByLogin(tx, login, { forUpdate: true });
  if (!user) throw new NotFound('user', login);
  return user;
}

/** A new password set by an operator: the account is unlocked and every session of the person
 *  ends (whoever knew the old password is signed out). */
export async function resetPassword(tx: Knex.Transaction, actor: Actor, login: string, password: string, now = new Date()): Promise<{ user: repo.UserRow; sessionsRevoked: number }> {
  requirePassword(password);
  const user = await userByLogin(tx, login);
  await repo.setPassword(tx, user.id, await hashPassword(password), now);
  const sessionsRevoked = await repo.revokeUserSessions(tx, user.id, now);
  await appendAudit(tx, { actor, action: 'user.password_reset', entityType: 'user', entityId: user.id, data: { login: user.login, sessionsRevoked, wasLocked: lockedUntil(user.locked_until, now) !== undefined } });
  return { user, sessionsRevoked };
}

export async function disableUser(tx: Knex.Transaction, actor: Actor, login: string, now = new Date()): Promise<{ user: repo.UserRow; sessionsRevoked: number }> {
  const user = await userByLogin(tx, login);
  if (!(await repo.disableUser(tx, user.id, now))) throw new Conflict('user_disabled', `${user.login} is disabled already`);
  const sessionsRevoked = await repo.revokeUserSessions(tx, user.id, now);
  await appendAudit(tx, { actor, action: 'user.disabled', entityType: 'user', entityId: user.id, data: { login: user.login, sessionsRevoked } });
  return { user, sessionsRevoked };
}

// ---- signing in and out --------------------------------------------------------------------

export interface SignInDeps {
  db: Knex;
  redis: Redis;
  keyPrefix: string;
  timing: SessionTiming;
}

export interface SignInMeta {
  ip: string | undefined;
  userAgent: string | undefined;
  /** The session the browser still carries, if any: replaced by the new one. */
  previousToken?: string;
}

export interface SignedIn {
  user: repo.UserRow;
  session: repo.SessionRow;
  /** Goes to the cookie only; the database keeps its SHA-256. */
  token: string;
}

type FailureReason = 'wrong_password' | 'unknown_login' | 'locked' | 'disabled';

function userActor(user: Pick<repo.UserRow, 'id' | 'role'>): Actor {
  return { type: user.role, id: user.id };
}

function retryAfterSeconds(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/** Checks the password and opens a session. Every answer that is not a success for a login that
 *  exists is the same as for one that does not (InvalidCredentials), after the same scrypt work,
 *  except a locked account's, which says when to retry. The per-address limit comes first, so a
 *  stranger can neither spend the service's memory on hashes nor the audit chain on failures
 *  faster than it allows. */
export async function signIn(deps: SignInDeps, input: { login: string; password: string }, meta: SignInMeta, now = new Date()): Promise<SignedIn> {
  const address = senderAddressKey(meta.ip);
  await enforceRateLimit(deps.redis, deps.keyPrefix, `ip:${address}`, signInAttemptsPerAddressPerMinute);

  const refuse = async (reason: FailureReason, user: repo.UserRow | undefined): Promise<void> => {
    const summary = await countSignInFailure(deps.redis, deps.keyPrefix, address, reason, now);
    if (!summary) return;
    await deps.db.transaction((tx) =>
      appendAudit(tx, {
        actor: { type: 'anonymous' },
        action: 'user.sign_in_failed',
        entityType: 'user',
        entityId: user?.id,
        data: { reason, login: input.login, ip: meta.ip ?? null, senderAddress: address, failures: summary },
      }),
    );
  };

  const seen = await repo.findUserByLogin(deps.db, input.login);
  if (seen && !seen.disabled_at) {
    const until = lockedUntil(seen.locked_until, now);
    if (until) {
      await refuse('locked', seen);
      throw new AccountLocked(retryAfterSeconds(until, now));
    }
  }
  const matches = await verifyPassword(input.password, seen?.password_hash ?? dummyPasswordHash);
  if (!seen) {
    await refuse('unknown_login', undefined);
    throw new InvalidCredentials();
  }
  if (seen.disabled_at) {
    await refuse('disabled', seen);
    throw new InvalidCredentials();
  }

  // Decided under the row's lock, so concurrent wrong passwords each count and none slips past
  // a lock another has just set.
  type Outcome = { kind: 'ok'; signedIn: SignedIn } | { kind: 'wrong'; lockedUntil?: Date } | { kind: 'locked'; until: Date } | { kind: 'disabled' };
  const outcome: Outcome = await deps.db.transaction(async (tx): Promise<Outcome> => {
    const user = await repo.findUser(tx, seen.id, { forUpdate: true });
    if (!user || user.disabled_at) return { kind: 'disabled' };
    const until = lockedUntil(user.locked_until, now);
    if (until) return { kind: 'locked', until };
    // A password reset between the check above and this lock: check against the new hash.
    const ok = user.password_hash === seen.password_hash ? matches : await verifyPassword(input.password, user.password_hash);
    if (!ok) {
      const next = afterWrongPassword(user.failed_attempts, now);
      await repo.recordFailure(tx, user.id, next.failedAttempts, next.lockedUntil ?? null);
      await appendAudit(tx, {
        actor: { type: 'anonymous' },
        action: 'user.sign_in_failed',
        entityType: 'user',
        entityId: user.id,
        data: { reason: 'wrong_password', login: input.login, ip: meta.ip ?? null, senderAddress: address, consecutiveFailures: user.failed_attempts + 1 },
      });
      if (next.lockedUntil) {
        await appendAudit(tx, { actor: { type: 'system' }, action: 'user.locked', entityType: 'user', entityId: user.id, data: { login: user.login, until: next.lockedUntil.toISOString(), ip: meta.ip ?? null } });
      }
      return { kind: 'wrong', lockedUntil: next.lockedUntil };
    }
    if (user.failed_attempts !== 0 || user.locked_until !== null) await repo.clearFailures(tx, user.id);
    if (meta.previousToken) await repo.revokeSession(tx, hashSessionToken(meta.previousToken), now);
    const token = randomBytes(sessionTokenBytes).toString('base64url');
    const session: repo.SessionRow = {
      id: hashSessionToken(token),
      user_id: user.id,
      csrf_token: randomBytes(csrfTokenBytes).toString('base64url'),
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + deps.timing.absoluteTimeoutMs),
      revoked_at: null,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent ? meta.userAgent.slice(0, userAgentLengthMax) : null,
    };
    await repo.insertSession(tx, session);
    await appendAudit(tx, { actor: userActor(user), action: 'user.signed_in', entityType: 'user', entityId: user.id, data: { login: user.login, ip: session.ip, userAgent: session.user_agent } });
    return { kind: 'ok', signedIn: { user, session, token } };
  });

  switch (outcome.kind) {
    case 'ok':
      return outcome.signedIn;
    case 'wrong':
      // The attempt that locks the account says so: the person learns why the next one fails.
      if (outcome.lockedUntil) throw new AccountLocked(retryAfterSeconds(outcome.lockedUntil, now));
      throw new InvalidCredentials();
    case 'locked':
      await refuse('locked', seen);
      throw new AccountLocked(retryAfterSeconds(outcome.until, now));
    case 'disabled':
      await refuse('disabled', seen);
      throw new InvalidCredentials();
  }
}

/** Ends the session the browser carries; nothing to do for one already over. */
export async function signOut(tx: Knex.Transaction, token: string, now = new Date()): Promise<boolean> {
  const found = await repo.findSessionWithUser(tx, hashSessionToken(token));
  if (!found || !(await repo.revokeSession(tx, found.session.id, now))) return false;
  await appendAudit(tx, { actor: userActor(found.user), action: 'user.signed_out', entityType: 'user', entityId: found.user.id, data: { login: found.user.login } });
  return true;
}

/** Sessions ended longer ago than this are deleted by the sweeper; the audit log keeps the
 *  sign-ins and sign-outs. */
export const sessionRetentionMs = 7 * 24 * 3600_000;
export const sessionSweepBatchMax = 1000;

export async function sweepEndedSessions(db: Knex, now = new Date()): Promise<number> {
  return repo.deleteSessionsEndedBefore(db, new Date(now.getTime() - sessionRetentionMs), sessionSweepBatchMax);
}
