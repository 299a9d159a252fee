// A sliding one-minute log per key in Redis, shared by every api process: at most N requests are
// let through in any 60 seconds, not N per clock minute (a fixed window lets 2N through around
// its edge, which for sign-in doubles what a password guesser gets). The log is a sorted set of
// the admitted requests' times, read and written by one script so that two processes cannot both
// take the last place; refused requests are not logged, so a caller that stops is let in again
// as soon as its oldest admitted request is a minute old. Time is Redis's own clock, the same for
// every api process. When Redis is unreachable the request is let through: refusing all traffic
// because the limiter is down would turn a cache outage into a service outage. /readyz reports
// Redis separately.
import type { Request, Response } from 'express';
import type Redis from 'ioredis';
import { RateLimited } from '../errors';
import { authenticate } from './auth';
import type { AppDeps } from './deps';

export const rateLimitWindowSeconds = 60;

// KEYS[1] the log; ARGV[1] the limit, ARGV[2] the window in ms. Answers 0 when admitted, else the
// milliseconds until the oldest logged request leaves the window. A member is its time and the
// log's size then, unique: within one millisecond the size only grows.
const slidingLogScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local size = redis.call('ZCARD', KEYS[1])
if size >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. size)
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;
const slidingLogCommand = 'bidbondSlidingLog';
type SlidingLogRedis = Redis & { [slidingLogCommand]: (key: string, limit: number, windowMs: number) => Promise<number> };

/** ioredis sends the script by its digest, and the script itself once after Redis has lost it. */
function slidingLogRedis(redis: Redis): SlidingLogRedis {
  if (typeof (redis as unknown as Record<string, unknown>)[slidingLogCommand] !== 'function') redis.defineCommand(slidingLogCommand, { numberOfKeys: 1, lua: slidingLogScript });
  return redis as unknown as SlidingLogRedis;
}

export async function enforceRateLimit(redis: Redis, prefix: string, keyId: string, perMinute: number): Promise<void> {
  let waitMs: number;
  try {
    waitMs = Number(await slidingLogRedis(redis)[slidingLogCommand](`${prefix}:ratelimit:${keyId}`, perMinute, rateLimitWindowSeconds * 1000));
  } catch {
    return;
  }
  if (waitMs > 0) throw new RateLimited(Math.ceil(waitMs / 1000));
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
