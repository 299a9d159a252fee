// Refusals anyone can cause without end (forged webhooks, failed sign-ins) reach the shared
// audit chain bounded: per address at most one event a window, summing up the address's refusals
// since its previous event, and at most a fixed number of such events a window from all addresses
// together. The counting is one atomic Redis script per refusal; only the refusal chosen to be
// audited takes the chain's lock.
import { isIPv4, isIPv6 } from 'node:net';
import type Redis from 'ioredis';

/** The address a refusal is counted under: IPv4 as it is (an IPv4-mapped IPv6 address too),
 *  IPv6 by its /64, the smallest block one subscriber is given; anything else "unknown". */
export function senderAddressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return 'unknown';
  const bare = ip.split('%')[0].toLowerCase();
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const headGroups = head ? head.split(':') : [];
  let groups = headGroups;
  if (tail !== undefined) {
    const tailGroups = tail ? tail.split(':') : [];
    const tailWidth = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
    groups = [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailWidth)).fill('0'), ...tailGroups];
  }
  const prefix = groups.slice(0, 4).map((g) => (g.includes('.') ? '0' : parseInt(g, 16).toString(16)));
  return `${prefix.join(':')}::/64`;
}

export interface RefusalSummary {
  /** Refusals from the address since its previous event, this one included. */
  count: number;
  byReason: Record<string, number>;
  since: string;
  /** Redis was unreachable: the count is this refusal only. */
  countsUnavailable?: true;
}

export interface RefusalBounds {
  /** One audit event per address per window at most. */
  windowSeconds: number;
  /** And at most this many per window from all addresses together. */
  eventsPerWindowMax: number;
  /** Refusals not yet summarised in an event are kept this long per address. */
  pendingSeconds: number;
}

// KEYS: the address's pending counts (a hash: reason -> count, plus `_since`), its marker for
// this window, the window's event count over all addresses. ARGV: reason, now (ms), pending
// TTL, window seconds, events per window. Returns the pending counts (and clears them) when
// this refusal is the one to audit, else nil.
const refusalScript = `
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
const refusalCommand = 'bidbondRefusal';
type RefusalRedis = Redis & { [refusalCommand]: (pending: string, marker: string, events: string, ...argv: (string | number)[]) => Promise<string[] | null> };

function refusalRedis(redis: Redis): RefusalRedis {
  if (typeof (redis as unknown as Record<string, unknown>)[refusalCommand] !== 'function') redis.defineCommand(refusalCommand, { numberOfKeys: 3, lua: refusalScript });
  return redis as unknown as RefusalRedis;
}

/** The budget of audit events for one kind of refusal, its Redis keys under `<prefix>:<name>`. */
export class RefusalBudget {
  /** When Redis cannot be reached: the same bound kept per process (each process may then write
   *  its own event per address and window). The set is bounded by the events per window. */
  private readonly local = { window: -1, addresses: new Set<string>() };

  constructor(
    private readonly name: string,
    private readonly bounds: RefusalBounds,
  ) {}

  /** Counts a refusal and says whether to audit it, with the summary to write. */
  async count(redis: Redis, keyPrefix: string, address: string, reason: string, now: Date): Promise<RefusalSummary | undefined> {
    const { windowSeconds, eventsPerWindowMax, pendingSeconds } = this.bounds;
    const window = Math.floor(now.getTime() / 1000 / windowSeconds);
    const base = `${keyPrefix}:${this.name}`;
    let pending: string[] | null;
    try {
      pending = await refusalRedis(redis)[refusalCommand](
        `${base}:pending:${address}`,
        `${base}:audited:${address}:${window}`,
        `${base}:events:${window}`,
        reason,
        now.getTime(),
        pendingSeconds,
        windowSeconds,
        eventsPerWindowMax,
      );
    } catch {
      if (!this.firstLocally(address, window)) return undefined;
      return { count: 1, byReason: { [reason]: 1 }, since: now.toISOString(), countsUnavailable: true };
    }
    if (!pending) return undefined;
    const summary: RefusalSummary = { count: 0, byReason: {}, since: now.toISOString() };
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

  private firstLocally(address: string, window: number): boolean {
    if (this.local.window !== window) {
      this.local.window = window;
      this.local.addresses.clear();
    }
    if (this.local.addresses.has(address) || this.local.addresses.size >= this.bounds.eventsPerWindowMax) return false;
    this.local.addresses.add(address);
    return true;
  }
}
