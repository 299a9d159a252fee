// A fixed one-minute window per API key in Redis, shared by every api process. When Redis is
// unreachable the request is let through: refusing all traffic because the limiter is down
// would turn a cache outage into a service outage. /readyz reports Redis separately.
import type { Request, Response } from 'express';
import type Redis from 'ioredis';
import { RateLimited } from '../errors';
import { authenticate } from './auth';
import type { AppDeps } from './deps';

export const rateLimitWindowSeconds = 60;

export async function enforceRateLimit(redis: Redis, prefix: string, keyId: string, perMinute: number): Promise<void> {
  const window = Math.floor(Date.now() / 1000 / rateLimitWindowSeconds);
  const k = `${prefix}:ratelimit:${keyId}:${window}`;
  let count: number;
  try {
    const res = await redis.multi().incr(k).expire(k, rateLimitWindowSeconds * 2).exec();
    count = Number(res?.[0]?.[1] ?? 0);
  } catch {
    return;
  }
  if (count > perMinute) {
    const retryAfter = rateLimitWindowSeconds - (Math.floor(Date.now() / 1000) % rateLimitWindowSeconds);
    throw new RateLimited(retryAfter);
  }
}

/** Public routes (no sign-in: the pages a voucher's QR code opens) per client address: enough
 *  for a person checking a handful of documents, too few to walk through guessed ids. */
export const publicReadsPerMinute = 60;
/** Uploads are checked in full (up to the voucher size bound), so fewer of them. */
export const publicUploadsPerMinute = 20;

export type PublicRequestKind = 'read' | 'upload';

/** The client's address as Express sees it: the socket's, or the first X-Forwarded-For hop when
 *  BIDBOND_TRUST_PROXY is set (only behind a proxy that overwrites the header). */
export async function enforcePublicRateLimit(redis: Redis, prefix: string, clientIp: string | undefined, kind: PublicRequestKind): Promise<void> {
  const perMinute = kind === 'upload' ? publicUploadsPerMinute : publicReadsPerMinute;
  await enforceRateLimit(redis, prefix, `public.${kind}.${clientIp ?? 'unknown'}`, perMinute);
}

/** What every public route does first: its answers (a voucher's status, a verdict) change and are
 *  about one caller's document, so no cache keeps them, the 429 included; then the limit. A
 *  caller that presents an API key (the console, an auditor checking a folder of vouchers) is
 *  counted against its key, as on every other route, instead of its address: many operators
 *  behind one office address must not starve each other. A key that is not valid is refused,
 *  not silently taken for anonymous. */
export async function guardPublicRoute(req: Request, res: Response, deps: Pick<AppDeps, 'redis' | 'db' | 'config'>, kind: PublicRequestKind): Promise<void> {
  res.setHeader('Cache-Control', 'no-store');
  if (req.get('authorization') !== undefined) {
    const caller = await authenticate(req, deps.db);
    await enforceRateLimit(deps.redis, deps.config.BIDBOND_QUEUE_PREFIX, caller.keyId, deps.config.BIDBOND_RATE_LIMIT_PER_MINUTE);
    return;
  }
  await enforcePublicRateLimit(deps.redis, deps.config.BIDBOND_QUEUE_PREFIX, req.ip, kind);
}
