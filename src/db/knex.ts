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

export type Db = Knex;
export type Tx = Knex | Knex.Transaction;

/** Bounded pool: each api or worker process holds at most this many connections, so that a
 *  fleet of processes stays under the server's max_connections. */
export const dbPoolMax = 10;

export function createDb(connectionString: string, opts: { poolMax?: number } = {}): Knex {
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: 'bidbond' },
    pool: { min: 0, max: opts.poolMax ?? dbPoolMax },
    acquireConnectionTimeout: 10_000,
  });
}
