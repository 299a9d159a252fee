// knex on PostgreSQL. int8 columns (every amount) come back as bigint, never as a string that
// someone later turns into a lossy JS number.
import knex, { type Knex } from 'knex';
import pg from 'pg';

const int8Oid = 20;
const int8ArrayOid = 1016;
pg.types.setTypeParser(int8Oid, (v: string) => BigInt(v));
pg.types.setTypeParser(int8ArrayOid as typeof int8Oid, (v: string) =>
  v === '{}' ? [] : v.slice(1, -1).split(',').map((x) => (x === 'NULL' ? null : BigInt(x))),
);
// Business dates stay strings ("2026-11-27"): a JS Date would shift them by the server's zone.
const dateOid = 1082;
pg.types.setTypeParser(dateOid, (v: string) => v);
// A date[] holds bare YYYY-MM-DD elements, never quoted or containing commas.
const dateArrayOid = 1182;
pg.types.setTypeParser(dateArrayOid as typeof dateOid, (v: string) => (v === '{}' ? [] : v.slice(1, -1).split(',')));

export type Db = Knex;
export type Tx = Knex | Knex.Transaction;

/** Bounded pool: each api or worker process holds at most this many connections, so that a
 *  fleet of processes stays under the server's max_connections. */
export const dbPoolMax = 10;

export function createDb(connectionString: string, opts: { poolMax?: number } = {}): Knex {
  const db = knex({
    client: 'pg',
    // One generic plan per prepared statement and connection (db/statements.ts): their
    // parameters are jsonb and arrays, which the planner cannot see into anyway.
    connection: { connectionString, application_name: 'bidbond', options: '-c plan_cache_mode=force_generic_plan' },
    pool: { min: 0, max: opts.poolMax ?? dbPoolMax },
    acquireConnectionTimeout: 10_000,
  });
  return withCommitHooks(db);
}

type Hook = () => Promise<void>;
const commitHooks = new WeakMap<object, Hook[]>();

/** Runs `hook` inside `tx` just before it commits (never if it rolls back). Returns false when
 *  `tx` was not opened through a hooked handle; the caller then does the work at once. */
export function beforeCommit(tx: Knex.Transaction, hook: Hook): boolean {
  const hooks = commitHooks.get(tx);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

// Work that must serialise across all transactions (the audit chain's lock) is done last, just
// before commit, so the lock is held for the shortest time instead of for the whole unit of work.
function withCommitHooks(db: Knex): Knex {
  const original = db.transaction.bind(db) as (...args: unknown[]) => unknown;
  const hooked = (first?: unknown, ...rest: unknown[]) => {
    if (typeof first !== 'function') return original(first, ...rest);
    const work = first as (tx: Knex.Transaction) => Promise<unknown>;
    return original(async (tx: Knex.Transaction) => {
      commitHooks.set(tx, []);
      const result = await work(tx);
      // Hooks may add hooks; run until none are left.
      for (let hooks = commitHooks.get(tx)!; hooks.length; ) await hooks.shift()!();
      return result;
    }, ...rest);
  };
  Object.defineProperty(db, 'transaction', { value: hooked, configurable: true, writable: false, enumerable: false });
  return db;
}
