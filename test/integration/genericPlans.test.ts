// The pool's connections keep one generic plan per prepared statement (db/statements.ts), made
// the first time a connection runs it, and PostgreSQL makes it again only once autovacuum has
// analysed a table it reads. A plan made while the tables were nearly empty (a new installation,
// the first minutes after a deploy) joins whole tables by hash or scans them, and stays while
// they grow: a cost per statement that grows with the table. The hot statements are therefore
// written so that even a plan made on empty tables reaches rows by index, one key at a time.
// This reads every declared statement's generic plan on an empty database.
import { Client } from 'pg';
import '../../src/app/api';
import '../../src/app/worker';
import { declaredStatements } from '../../src/db/statements';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PlanNode[];
}

const relationScans = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);
/** A condition naming another relation's column (`x.event_id`): a lookup per outer row. */
const perRowKey = /\b[a-z_][a-z0-9_]*\.[a-z_]/;

/** Tables a plan reads whole (a sequential scan), or by a range not keyed to each row of the set
 *  it acts on, hashed or merged with that set. */
function wholeTableReads(node: PlanNode, inJoin = false): string[] {
  const found: string[] = [];
  const relation = node['Relation Name'];
  if (relation && node['Node Type'] === 'Seq Scan') found.push(`Seq Scan on ${relation}`);
  else if (relation && inJoin && relationScans.has(node['Node Type']) && !perRowKey.test(`${node['Index Cond'] ?? ''} ${node['Recheck Cond'] ?? ''}`)) {
    found.push(`${node['Node Type']} on ${relation} (${node['Index Cond'] ?? node['Recheck Cond'] ?? 'no condition'}) in a hash or merge join`);
  }
  const joining = inJoin || node['Node Type'] === 'Hash Join' || node['Node Type'] === 'Merge Join';
  for (const child of node.Plans ?? []) found.push(...wholeTableReads(child, joining && node['Node Type'] !== 'Nested Loop'));
  return found;
}

let isolated: IsolatedDatabase;
let client: Client;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('plans');
  client = new Client({ connectionString: isolated.url, options: '-c plan_cache_mode=force_generic_plan' });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await isolated?.drop();
});

it('every prepared statement reaches its rows by index even when its plan was made on empty tables', async () => {
  const statements = declaredStatements();
  expect(statements.length).toBeGreaterThan(15);
  const reads: Record<string, string[]> = {};
  for (const [k, s] of statements.entries()) {
    const params = Math.max(0, ...(s.text.match(/\$\d+/g) ?? []).map((p) => Number(p.slice(1))));
    await client.query(`PREPARE plan_${k} AS ${s.text}`);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_${k}(${Array(params).fill('NULL').join(', ')})`);
    const found = wholeTableReads(rows[0]['QUERY PLAN'][0].Plan as PlanNode);
    if (found.length > 0) reads[s.name] = found;
  }
  expect(reads).toEqual({});
});
