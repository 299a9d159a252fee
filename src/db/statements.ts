// The statements of the hot paths (a credit notification, an issuance, the audit chain, the
// ledger, a signed sender's certificate) run as named prepared statements on pg directly: knex's
// query building cost more per statement than PostgreSQL took to run it, and PostgreSQL parsed
// and planned each again. Each statement's text is fixed (sets travel as one jsonb or array
// parameter), so PostgreSQL parses it once per connection, and the pool's connections keep one
// generic plan of it (createDb sets plan_cache_mode): the parameters are opaque jsonb and arrays,
// whose values cannot change a plan.
//
// That plan is made the first time a connection runs the statement and made again only when
// autovacuum next analyses a table it reads; made on nearly empty tables (a new installation,
// a rush after a quiet night), a join of a set with a table is planned as a hash over the whole
// table, a cost that then grows with the table. So each statement reaches a set's rows by key,
// one index lookup per element (`CROSS JOIN LATERAL (... LIMIT 1)`, or `OFFSET 0` where a key
// has several rows, which keeps the planner from turning the lookups back into a join), and an
// UPDATE of a set updates each row where its lookup found it (`ctid`), on rows this transaction
// inserted or locked, whose place cannot change under it. test/integration/genericPlans.test.ts
// reads every statement's plan as made on an empty database.
import type { Knex } from 'knex';
import type { ClientBase, QueryResultRow } from 'pg';
import { assert } from '../errors';

export interface Statement {
  /** Unique per text: pg keeps one prepared statement per name and connection. */
  name: string;
  text: string;
}

const texts = new Map<string, string>();

/** Every statement declared so far, by name (a test reads their plans). */
export function declaredStatements(): Statement[] {
  return [...texts].map(([name, text]) => ({ name: `bidbond.${name}`, text }));
}

export function statement(name: string, text: string): Statement {
  const before = texts.get(name);
  assert(before === undefined || before === text, `statement ${name} is declared once`);
  texts.set(name, text);
  return { name: `bidbond.${name}`, text };
}

/** Every column of a row type, each named once (the compiler checks both), for a prepared
 *  statement's result: a `*` is expanded when the statement is prepared, and once a migration
 *  adds a column PostgreSQL refuses to run it again on that connection ("cached plan must not
 *  change result type"), so every pooled connection would fail it until it closed. */
export function columnList<Row>(alias: string | null, columns: { [K in keyof Row & string]: true }): string {
  return Object.keys(columns)
    .map((c) => (alias ? `${alias}.${c}` : c))
    .join(', ');
}

interface ConnectionSource {
  acquireConnection(): Promise<ClientBase>;
  releaseConnection(conn: ClientBase): Promise<unknown>;
  emit(event: 'query', q: { sql: string; bindings: unknown[]; method: 'raw'; __knexUid?: unknown; __knexTxId?: unknown }): boolean;
}

type KnexConnection = ClientBase & { __knexUid?: unknown; __knexTxId?: unknown };

// knex's own "query" event, as its queries emit it: whoever watches a handle's statements (a
// debug log, a test counting round trips) sees these too.
async function runOn<R extends QueryResultRow>(client: ConnectionSource, conn: KnexConnection, s: Statement, values: unknown[]): Promise<R[]> {
  client.emit('query', { __knexUid: conn.__knexUid, __knexTxId: conn.__knexTxId, sql: s.text, bindings: values, method: 'raw' });
  return (await conn.query<R>({ name: s.name, text: s.text, values })).rows;
}

const clientOf = (db: Knex | Knex.Transaction) => (db as unknown as { client: ConnectionSource }).client;

/** Runs `s` with `values`: on a transaction's own connection, or on one of the pool's for the
 *  time of the statement. */
export async function run<R extends QueryResultRow>(db: Knex | Knex.Transaction, s: Statement, values: unknown[]): Promise<R[]> {
  const client = clientOf(db);
  if ((db as Knex.Transaction).isTransaction === true) {
    assert(!(db as Knex.Transaction).isCompleted(), 'the transaction is still open');
    // A transaction's client hands out the one connection it holds, and keeps it.
    return runOn<R>(client, await client.acquireConnection(), s, values);
  }
  const conn = await client.acquireConnection();
  try {
    return await runOn<R>(client, conn, s, values);
  } finally {
    await client.releaseConnection(conn);
  }
}

/** JSON for a jsonb parameter: bigints as decimal strings, which PostgreSQL casts exactly. */
export function jsonParam(v: unknown): string {
  // The rows of a batch carry their amounts at the top: converted there, the text is written by
  // JSON.stringify alone, several times faster than with a replacer called for every value. A
  // bigint deeper down makes it throw, and the replacer then writes the same text.
  if (Array.isArray(v)) {
    try {
      return JSON.stringify(v.map(withBigintsAsText));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
    }
  }
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function withBigintsAsText(row: unknown): unknown {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return typeof row === 'bigint' ? row.toString() : row;
  let out: Record<string, unknown> | undefined;
  for (const k in row as Record<string, unknown>) {
    const x = (row as Record<string, unknown>)[k];
    if (typeof x === 'bigint') (out ??= { ...(row as Record<string, unknown>) })[k] = x.toString();
  }
  return out ?? row;
}
