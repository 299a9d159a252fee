// Failed sign-ins that anyone can cause without end (an unknown login, a locked or disabled
// account) reach the shared audit chain bounded, as refused webhooks do (src/http/webhookAuth.ts):
// per address at most one event a minute, summing up the address's failures since its previous
// event, and at most a fixed number of such events a minute from all addresses together. The
// counting is one atomic Redis script per failure; only the failure chosen to be audited takes
// the chain's lock. A wrong password for a real account is audited every time: the lock-out
// bounds those to a few per account and quarter-hour.
import type Redis from 'ioredis';

export const signInFailedAuditWindowSeconds = 60;
export const signInFailedAuditEventsPerWindowMax = 120;
/** Failures not yet summarised in an event are kept this long per address. */
export const signInFailedPendingSeconds = 3600;

// KEYS: the address's pending counts (reason -> count, plus `_since`), its marker for this
// window, the window's event count. ARGV: reason, now (ms), pending TTL, window seconds, events
// per window. Returns the pending counts (and clears them) when this failure is the one to
// audit, else nil.
const failureScript = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSETNX', KEYS[1], '_since', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then return nil end
local events = redis.call('INCR', KEYS[3])
if events == 1 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end
if events > tonumber(ARGV[5]) then return nil end
local pending = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return pending
`;
const failureCommand = 'bidbondSignInFailure';
type FailureRedis = Redis & { [failureCommand]: (pending: string, marker: string, events: string, ...argv: (string | number)[]) => Promise<string[] | null> };

function failureRedis(redis: Redis): FailureRedis {
  if (typeof (redis as unknown as Record<string, unknown>)[failureCommand] !== 'function') redis.defineCommand(failureCommand, { numberOfKeys: 3, lua: failureScript });
  return redis as unknown as FailureRedis;
}

export interface FailureSummary {
  /** Failures from the address since its previous event, this one included. */
  count: number;
  byReason: Record<string, number>;
  since: string;
  /** Redis was unreachable: the count is this failure only. */
  countsUnavailable?: true;
}

/** When Redis cannot be reached: the same bound kept per process. */
const localWindow = { window: -1, addresses: new Set<string>() };
function firstLocally(address: string, window: number): boolean {
  if (localWindow.window !== window) {
    localWindow.window = window;
    localWindow.addresses.clear();
  }
  if (localWindow.addresses.has(address) || localWindow.addresses.size >= signInFailedAuditEventsPerWindowMax) return false;
  localWindow.addresses.add(address);
  return true;
}

/** Counts a failure and says whether to audit it, with the summary to write. */
export async function countSignInFailure(redis: Redis, keyPrefix: string, address: string, reason: string, now: Date): Promise<FailureSummary | undefined> {
  const window = Math.floor(now.getTime() / 1000 / signInFailedAuditWindowSeconds);
  const base = `${keyPrefix}:sign-in-failed`;
  let pending: string[] | null;
  try {
    pending = await failureRedis(redis)[failureCommand](
      `${base}:pending:${address}`,
      `${base}:audited:${address}:${window}`,
      `${base}:events:${window}`,
      reason,
      now.getTime(),
      signInFailedPendingSeconds,
      signInFailedAuditWindowSeconds,
      signInFailedAuditEventsPerWindowMax,
    );
  } catch {
    if (!firstLocally(address, window)) return undefined;
    return { count: 1, byReason: { [reason]: 1 }, since: now.toISOString(), countsUnavailable: true };
  }
  if (!pending) return undefined;
  const summary: FailureSummary = { count: 0, byReason: {}, since: now.toISOString() };
  for (let i = 0; i + 1 < pending.length; i += 2) {
    const [field, value] = [pending[i], pending[i + 1]];
    if (field === '_since') summary.since = new Date(Number(value)).toISOString();
    else {
      summary.byReason[field] = Number(value);
      summary.count += Number(value);
    }
  }
  return summary;
}
