// A fixed one-minute window per API key in Redis, shared by every api process. When Redis is
// unreachable the request is let through: refusing all traffic because the limiter is down
// would turn a cache outage into a service outage. /readyz reports Redis separately.
import type Redis from 'ioredis';
import { RateLimited } from '../errors';

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
