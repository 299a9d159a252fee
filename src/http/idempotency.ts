// Idempotency-Key for every caller POST. The key, the request's fingerprint and the response are
// written in the same transaction as the effect: either both exist or neither does. A second
// request with the key while the first is still running gets 409 rather than waiting on it.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { BadRequest, IdempotencyInProgress, IdempotencyKeyReused } from '../errors';
import { canonicalJson } from '../audit/canonical';

/** Kept at least 24 h, as callers are told; housekeeping deletes expired rows. */
export const idempotencyKeyTtlHours = 24;
export const idempotencyKeyLengthMax = 255;
const keyPattern = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body ?? null)}`).digest('hex');
}

export function validateIdempotencyKey(key: string): void {
  if (!keyPattern.test(key)) {
    throw new BadRequest('invalid_idempotency_key', `Idempotency-Key must be 1–${idempotencyKeyLengthMax} printable ASCII characters`, 'Idempotency-Key');
  }
}

export async function runIdempotent(
  tx: Knex.Transaction,
  input: { callerId: string; key: string; method: string; path: string; fingerprint: string },
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  const locked = await tx.raw('SELECT pg_try_advisory_xact_lock(hashtext(?), hashtext(?)) AS ok', [input.callerId, input.key]);
  if (!locked.rows[0].ok) throw new IdempotencyInProgress();
  const existing = await tx('idempotency_keys')
    .where({ caller_id: input.callerId, key: input.key })
    .where('expires_at', '>', tx.fn.now())
    .first();
  if (existing) {
    if (existing.request_hash !== input.fingerprint) throw new IdempotencyKeyReused();
    return { status: existing.response_status, body: existing.response_body, replayed: true };
  }
  const result = await run();
  await tx.raw(
    `INSERT INTO idempotency_keys (caller_id, key, method, path, request_hash, response_status, response_body, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, now() + make_interval(hours => ?))
     ON CONFLICT (caller_id, key) DO UPDATE SET method = EXCLUDED.method, path = EXCLUDED.path,
       request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
       response_body = EXCLUDED.response_body, created_at = now(), expires_at = EXCLUDED.expires_at
     WHERE idempotency_keys.expires_at <= now()`,
    [input.callerId, input.key, input.method, input.path, input.fingerprint, result.status, JSON.stringify(result.body ?? null), idempotencyKeyTtlHours],
  );
  return { ...result, replayed: false };
}

export async function deleteExpiredIdempotencyKeys(db: Knex, batch = 5000): Promise<number> {
  const r = await db.raw(
    `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT ?)`,
    [batch],
  );
  return r.rowCount ?? 0;
}
