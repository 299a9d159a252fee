// API keys: a caller presents `Authorization: Bearer <key>`; the database holds only the key's
// SHA-256, so a leaked table does not leak keys. A key carries a role and, for tenderees and
// bidders, the one party it speaks for. A request without the header may instead carry a
// person's session cookie (src/users/sessions.ts): the person's role and party, the same way.
import { createHash, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { Knex } from 'knex';
import { Unauthorized } from '../errors';
import { newId } from '../domain/ids';
import type { SessionTiming } from '../timing';
import { sessionCaller } from '../users/sessions';
import type { CookieOptions } from '../users/sessions';

export const roles = ['centre', 'tenderee', 'bidder', 'auditor'] as const;
export type Role = (typeof roles)[number];

export interface Caller {
  keyId: string;
  /** `none` on public and signed routes: whoever calls them is no party of the API's roles, so a
   *  check of the role there can never mistake a bank or a passer-by for the centre. */
  role: Role | 'none';
  tendereeId?: string;
  bidderId?: string;
  /** Signed in with a session: the person (then keyId is the same user id). */
  userId?: string;
  login?: string;
}

/** A key is long enough that guessing is hopeless and short enough to paste. */
const keyRandomBytes = 32;
const keyPattern = /^bb_(centre|tenderee|bidder|auditor)_[A-Za-z0-9_-]{43}$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export async function createApiKey(
  db: Knex | Knex.Transaction,
  input: { role: Role; tendereeId?: string; bidderId?: string; label?: string },
): Promise<{ id: string; key: string }> {
  const key = `bb_${input.role}_${randomBytes(keyRandomBytes).toString('base64url')}`;
  const id = newId('key');
  await db('api_keys').insert({
    id,
    key_hash: hashKey(key),
    role: input.role,
    tenderee_id: input.tendereeId ?? null,
    bidder_id: input.bidderId ?? null,
    label: input.label ?? null,
  });
  return { id, key };
}

export async function revokeApiKey(db: Knex, id: string): Promise<boolean> {
  const n = await db('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  return n > 0;
}

export async function authenticate(req: Request, db: Knex, sessions: { timing?: SessionTiming; cookie?: CookieOptions } = {}): Promise<Caller> {
  const header = req.get('authorization');
  if (!header) {
    const person = await sessionCaller(req, db, sessions);
    if (person) return person;
    throw new Unauthorized('missing_api_key', 'Authorization: Bearer <key> (or a session cookie from POST /v1/session) is required');
  }
  const m = /^Bearer (\S+)$/.exec(header);
  if (!m || !keyPattern.test(m[1])) throw new Unauthorized('invalid_api_key', 'the API key is malformed');
  const row = await db('api_keys').where({ key_hash: hashKey(m[1]) }).whereNull('revoked_at').first();
  if (!row) throw new Unauthorized('invalid_api_key', 'the API key is unknown or revoked');
  return { keyId: row.id, role: row.role, tendereeId: row.tenderee_id ?? undefined, bidderId: row.bidder_id ?? undefined };
}
