// The statements of the credit path run as named prepared statements on the transaction's own pg
// connection: a credit notification is the service's busiest write, and knex's query building
// cost more per statement than PostgreSQL took to run it. Each statement's text is fixed (sets
// travel as one jsonb or array parameter), so PostgreSQL parses and plans it once per
// connection. Only this module reaches under knex, and only inside a transaction knex opened.
import type { Knex } from 'knex';
import type { ClientBase, QueryResultRow } from 'pg';
import { assert } from '../errors';

export interface Statement {
  /** Unique per text: pg keeps one prepared statement per name and connection. */
  name: string;
  text: string;
}

const texts = new Map<string, string>();

export function statement(name: string, text: string): Statement {
  const before = texts.get(name);
  assert(before === undefined || before === text, `statement ${name} is declared once`);
  texts.set(name, text);
  return { name: `bidbond.${name}`, text };
}

/** The connection a knex transaction holds: its client hands out that one connection. */
async function connectionOf(tx: Knex.Transaction): Promise<ClientBase> {
  assert(tx.isTransaction === true, 'a credit statement runs in a transaction');
  assert(!tx.isCompleted(), 'the transaction is still open');
  return (await (tx as unknown as { client: { acquireConnection(): Promise<ClientBase> } }).client.acquireConnection()) as ClientBase;
}

export async function run<R extends QueryResultRow>(tx: Knex.Transaction, s: Statement, values: unknown[]): Promise<R[]> {
  const conn = await connectionOf(tx);
  const res = await conn.query<R>({ name: s.name, text: s.text, values });
  return res.rows;
}

/** JSON for a jsonb parameter: bigints as decimal strings, which PostgreSQL casts exactly. */
export function jsonParam(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
