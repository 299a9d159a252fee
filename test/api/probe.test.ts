// The probe: every route of the OpenAPI document the built api serves, called by every kind of
// caller (the centre, an auditor, two tenderees, three bidders, nobody, a revoked key) and with
// hostile path parameters and query strings. Whatever arrives: never a 5xx, never a stack trace
// or an internal message, nobody without a key past a route that needs one, and no caller ever
// shown a record of another party (a read of one answers exactly what a read of nothing does).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { createApiKey, revokeApiKey } from '../../src/http/auth';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { createUser } from '../../src/users/service';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';
import { World, dayMs, unique, type TestIssuer } from './guaranteesFixtures';

/** Requests in flight at once: enough to finish in seconds, few enough for the pool. */
const concurrency = 8;
/** Each step takes seconds on an idle machine; the bound is for a machine shared with other
 *  suites, where a step slowed tenfold must still finish rather than fail. */
const probeStepTimeoutMs = 180_000;

let rt: Runtime;
let app: Express;
let server: Server;
let base: string;

type CallerName = 'centre' | 'auditor' | 'tenderee1' | 'tenderee2' | 'bidder1' | 'bidder2' | 'bidder3' | 'anonymous' | 'revoked';
const keys = {} as Record<CallerName, string | undefined>;
/** Session cookies of people with the same role and party as the key of that name. */
const sessions = {} as Partial<Record<CallerName, string>>;

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  pathParams: string[];
  queryParams: string[];
  access: 'apiKey' | 'signed' | 'public';
  roles: string[];
  requestTypes: string[];
}
const operations: Operation[] = [];

/** The records of the world, by party. */
const ids = {} as {
  bank: string; issuer: string; tenderee1: string; tenderee2: string; bidder1: string; bidder2: string; bidder3: string;
  section1: string; section2: string; guarantee1: string; deposit1: string;
};

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function call(caller: CallerName, method: string, pathAndQuery: string, body?: { type: string; data: string }): Promise<Answer> {
  const headers: Record<string, string> = {};
  const key = keys[caller];
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body) headers['Content-Type'] = body.type;
  const res = await fetch(`${base}${pathAndQuery}`, { method: method.toUpperCase(), headers, body: body?.data });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** Runs the calls `concurrency` at a time; each returns its findings (empty when all is well). */
async function runAll(tasks: (() => Promise<string[]>)[]): Promise<string[]> {
  const findings: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      findings.push(...(await t()));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return findings;
}

/** What no answer may contain: a stack frame, a source path, SQL or a driver's message. */
const internals = [
  /\n\s+at \S/, /\bat [\w.$<>]+ \([^)]*:\d+:\d+\)/, /node_modules/, /\/work\/|\/src\/\w+\/\w+\.ts/, /\.ts:\d+/,
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/, /violates|syntax error at|invalid input syntax|duplicate key value|relation "\w+"/i,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError: Unexpected)\b/, /Cannot read propert|is not a function|undefined is not/,
  /ECONNREFUSED|ETIMEDOUT|knex|PostgreSQL|ioredis/i,
];

function inspect(label: string, a: Answer): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`${label} → ${a.status} ${a.text.slice(0, 200)}`);
  // Binary and documentation answers are not messages; the rest must say nothing internal.
  if (!/^%PDF|^-----BEGIN/.test(a.text)) {
    for (const re of internals) if (re.test(a.text)) out.push(`${label} → ${a.status} shows ${re}: ${a.text.slice(0, 300)}`);
  }
  return out;
}

/** Ids a caller may never be shown (other than echoed back from its own request). */
function forbiddenFor(caller: CallerName): string[] {
  switch (caller) {
    case 'bidder1':
      return [ids.bidder2, ids.bidder3];
    case 'bidder2':
    case 'bidder3':
      return [ids.bidder1, caller === 'bidder2' ? ids.bidder3 : ids.bidder2, ids.guarantee1, ids.deposit1];
    case 'tenderee1':
      // Before opening a tenderee learns nothing of who secured its sections (R18).
      return [ids.tenderee2, ids.section2, ids.deposit1, ids.guarantee1, ids.bidder1, ids.bidder2, ids.bidder3];
    case 'tenderee2':
      return [ids.tenderee1, ids.section1, ids.deposit1, ids.guarantee1, ids.bidder1, ids.bidder2, ids.bidder3];
    case 'anonymous':
    case 'revoked':
      return Object.values(ids);
    default:
      return [];
  }
}

function decoded(pathAndQuery: string): string {
  try {
    return decodeURIComponent(pathAndQuery);
  } catch {
    return pathAndQuery;
  }
}

function leaks(label: string, caller: CallerName, pathAndQuery: string, a: Answer): string[] {
  return forbiddenFor(caller)
    .filter((id) => a.text.includes(id) && !decoded(pathAndQuery).includes(id))
    .map((id) => `${label} → ${a.status} shows ${id}, a record of another party`);
}

/** A well-formed id of the same kind that names nothing. */
function absentLike(id: string): string {
  return /^[a-z]{3}_[0-9a-z]{26}$/.test(id) ? `${id.slice(0, id.length - 6)}zzzzzz` : `${id}-absent`;
}

/** A real record for a path parameter where the world has one of that kind. */
function realParam(path: string, param: string): string {
  const before = path.split('/').slice(0, path.split('/').indexOf(`{${param}}`)).pop();
  switch (before) {
    case 'sections':
      return ids.section1;
    case 'issuers':
      return ids.issuer;
    case 'banks':
      return ids.bank;
    case 'tenderees':
      return ids.tenderee1;
    case 'bidders':
      return ids.bidder1;
    case 'guarantees':
      return ids.guarantee1;
    case 'deposits':
      return ids.deposit1;
    case 'refunds':
      return 'rfd_01aaaaaaaaaaaaaaaaaaaaaaaa';
    case 'vouchers':
      return 'vch_01aaaaaaaaaaaaaaaaaaaaaaaa';
    case 'reconciliations':
      return 'rcn_01aaaaaaaaaaaaaaaaaaaaaaaa';
    case 'bank-exceptions':
      return 'bex_01aaaaaaaaaaaaaaaaaaaaaaaa';
    case 'guarantee-applications':
    case 'applications':
      return 'app_01aaaaaaaaaaaaaaaaaaaaaaaa';
    case 'webhook-endpoints':
      return 'evt_01aaaaaaaaaaaaaaaaaaaaaaaa';
    default:
      return `absent-${param}`;
  }
}

function fill(op: Operation, values: Record<string, string> = {}): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, p: string) => values[p] ?? encodeURIComponent(realParam(op.path, p)));
}

/** Hostile values, already as they go into a URL. */
const hostile: [string, string][] = [
  ['unicode', encodeURIComponent('标段😀ẞ\u202e')],
  ['10,000 characters', 'a'.repeat(10_000)],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['SQL', encodeURIComponent("1' OR '1'='1'; DROP TABLE sections; --")],
  ['negative', '-1'],
  ['huge number', '99999999999999999999999999999999'],
  ['fractional', '1.5e308'],
  ['fullwidth digits', encodeURIComponent('１２３４５')],
  ['NUL', 'sec_%00'],
  ['a UTF-8 surrogate', '%ED%A0%80'],
  ['broken percent-encoding', '%E4%B8'],
  ['a path climb', '..%2F..%2Fetc%2Fpasswd'],
  ['an id of another kind', 'key_01aaaaaaaaaaaaaaaaaaaaaaaa'],
];

/** In a query string: the same, less what only a path can carry. */
const hostileQuery = hostile.filter(([what]) => !['10,000 characters', 'a path climb', 'an id of another kind', 'constructor'].includes(what));

/** Query parameters every list or search might be sent, besides the route's own. */
const extraQueryParams = ['__proto__', 'constructor', 'limit', 'cursor'];

function bodyFor(op: Operation): { type: string; data: string } | undefined {
  if (op.method === 'get' || op.method === 'delete') return undefined;
  if (op.requestTypes.includes('application/json') || op.requestTypes.length === 0) return { type: 'application/json', data: '{}' };
  return { type: op.requestTypes[0], data: '' };
}

beforeAll(async () => {
  rt = await startTestRuntime({ BIDBOND_RATE_LIMIT_PER_MINUTE: '1000000' });
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The world, made through the product: two tenderees with a section each, three bidders, a
  // guarantee of bidder 1 in tenderee 1's section, a cash deposit of bidder 1 in tenderee 2's.
  const g = await new World(rt, app).init();
  const w = new DepositWorld(rt, app, g.centre);
  const bank: Bank = await w.bank();
  const issuer: TestIssuer = await g.issuer('bank');
  const [t1, t2] = [await g.tenderee(), await g.tenderee()];
  const [b1, b2, b3] = [await g.bidder(issuer.bankCode!), await g.bidder(issuer.bankCode!), await g.bidder()];
  // One section per tenderee that takes both cash and bank guarantees, its deposits at the bank.
  const section = async (tendereeId: string) => {
    const res = await request(app).post('/v1/sections').set(bearer(g.centre)).send({
      projectCode: unique('P'), sectionCode: unique('S'), name: '某道路工程一标段', tendereeId, regime: 'tendering_law',
      estimatedPrice: '10000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 10 * dayMs).toISOString(),
      bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'bank'], guaranteeBankMatch: 'bank',
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; projectCode: string; sectionCode: string; bidDeadline: string; bidValidityDays: number };
  };
  const s1 = await section(t1.id);
  const s2 = await section(t2.id);
  const issued = await g.issue(issuer, g.issuance({ issuer, tenderee: t1, bidder: b1, section: s1 }));
  expect(issued.status).toBe(201);
  expect(issued.body.status).toBe('issued');

  keys.centre = g.centre;
  keys.auditor = await keyFor(rt, 'auditor');
  keys.tenderee1 = await keyFor(rt, 'tenderee', { tendereeId: t1.id });
  keys.tenderee2 = await keyFor(rt, 'tenderee', { tendereeId: t2.id });
  keys.bidder1 = await keyFor(rt, 'bidder', { bidderId: b1.id });
  keys.bidder2 = await keyFor(rt, 'bidder', { bidderId: b2.id });
  keys.bidder3 = await keyFor(rt, 'bidder', { bidderId: b3.id });
  keys.anonymous = undefined;
  const revoked = await createApiKey(rt.db, { role: 'bidder', bidderId: b3.id });
  await revokeApiKey(rt.db, revoked.id);
  keys.revoked = revoked.key;

  // People signed in with a session, speaking for the same parties as the keys above.
  for (const [who, role, party] of [['tenderee1', 'tenderee', { tendereeId: t1.id }], ['bidder1', 'bidder', { bidderId: b1.id }], ['auditor', 'auditor', {}]] as const) {
    const login = `probe.${who}.${unique('u').toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    const password = `pw-${unique('p')}`;
    await rt.db.transaction((tx) => createUser(tx, { type: 'operator', id: 'probe' }, { login, role, password, ...party }));
    const signedIn = await request(app).post('/v1/session').send({ login, password });
    expect(signedIn.status).toBe(200);
    sessions[who] = String(signedIn.headers['set-cookie']).split(';')[0];
  }

  const account = await request(app).post(`/v1/sections/${s2.id}/deposit-accounts`).set(bearer(keys.bidder1)).send({ bidderId: b1.id });
  expect([200, 201]).toContain(account.status);
  const credited = await w.notify(bank, jsonNotification([entry(account.body.virtualAccount, '50000.00', { name: b1.name, number: '6222020200001234567' })]));
  expect(credited.status).toBe(200);
  const deposits = await request(app).get(`/v1/deposits?sectionId=${s2.id}`).set(bearer(g.centre));
  expect(deposits.body.data).toHaveLength(1);

  Object.assign(ids, {
    bank: bank.id, issuer: issuer.id, tenderee1: t1.id, tenderee2: t2.id, bidder1: b1.id, bidder2: b2.id, bidder3: b3.id,
    section1: s1.id, section2: s2.id, guarantee1: issued.body.id, deposit1: deposits.body.data[0].id,
  });

  const doc = await request(app).get('/v1/openapi.json');
  expect(doc.status).toBe(200);
  for (const [path, methods] of Object.entries(doc.body.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const security = (op.security ?? []) as Record<string, unknown>[];
      operations.push({
        method: method as Operation['method'],
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        access: security.length === 0 ? 'public' : 'apiKey' in security[0] ? 'apiKey' : 'signed',
        roles: op['x-roles'] ?? [],
        requestTypes: Object.keys(op.requestBody?.content ?? {}),
      });
    }
  }
}, probeStepTimeoutMs);

afterAll(async () => {
  // fetch keeps its connections alive; close them rather than wait for them to time out.
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rt?.close();
});

describe('the probe walks every route of the OpenAPI document', () => {
  test('the document names the routes of every area, each with its access', () => {
    expect(operations.length).toBeGreaterThanOrEqual(50);
    for (const area of ['/v1/sections', '/v1/deposits', '/v1/guarantees', '/v1/refunds', '/v1/reconciliations', '/v1/vouchers', '/v1/audit', '/v1/banks', '/v1/issuers']) {
      expect(operations.some((o) => o.path.startsWith(area))).toBe(true);
    }
    for (const o of operations.filter((x) => x.access === 'apiKey')) expect(o.roles.length).toBeGreaterThan(0);
  });

  const callers: CallerName[] = ['centre', 'auditor', 'tenderee1', 'tenderee2', 'bidder1', 'bidder2', 'bidder3', 'anonymous', 'revoked'];

  test('every caller on every route: no 5xx, nothing internal, 401 without a valid key, nothing of another party', async () => {
    const tasks: (() => Promise<string[]>)[] = [];
    for (const op of operations) {
      for (const caller of callers) {
        // A mutation with real records is left to callers who may not make it: the centre's
        // would change the world the other checks read (the hostile calls below cover it).
        if (op.method !== 'get' && caller === 'centre') continue;
        const url = fill(op);
        tasks.push(async () => {
          const label = `${caller} ${op.method.toUpperCase()} ${url.slice(0, 120)}`;
          const a = await call(caller, op.method, url, bodyFor(op));
          const found = [...inspect(label, a), ...leaks(label, caller, url, a)];
          if ((caller === 'anonymous' || caller === 'revoked') && op.access !== 'public' && a.status !== 401) found.push(`${label} → ${a.status}, not 401`);
          if (op.access === 'apiKey' && caller !== 'anonymous' && caller !== 'revoked') {
            const role = caller.replace(/\d$/, '');
            if (!op.roles.includes(role) && a.status < 400) found.push(`${label} → ${a.status} for a role the route does not allow (${op.roles.join(', ')})`);
          }
          return found;
        });
      }
    }
    expect(await runAll(tasks)).toEqual([]);
  }, probeStepTimeoutMs);

  test("another party's record answers exactly what no record does", async () => {
    const cases: [CallerName, string][] = [
      ['tenderee2', `/v1/tenderees/${ids.tenderee1}`],
      ['bidder1', `/v1/tenderees/${ids.tenderee1}`],
      ['tenderee2', `/v1/sections/${ids.section1}`],
      ['tenderee2', `/v1/sections/${ids.section1}/roster`],
      ['tenderee1', `/v1/sections/${ids.section2}`],
      ['bidder2', `/v1/bidders/${ids.bidder1}`],
      ['bidder3', `/v1/bidders/${ids.bidder1}`],
      ['tenderee1', `/v1/bidders/${ids.bidder1}`],
      ['tenderee2', `/v1/bidders/${ids.bidder1}`],
      ['bidder2', `/v1/guarantees/${ids.guarantee1}`],
      ['bidder3', `/v1/guarantees/${ids.guarantee1}`],
      ['tenderee2', `/v1/guarantees/${ids.guarantee1}`],
      ['tenderee1', `/v1/guarantees/${ids.guarantee1}`],
      ['bidder2', `/v1/deposits/${ids.deposit1}`],
      ['bidder3', `/v1/deposits/${ids.deposit1}`],
      ['tenderee1', `/v1/deposits/${ids.deposit1}`],
      ['tenderee2', `/v1/deposits/${ids.deposit1}`],
      ['bidder2', `/v1/banks/${ids.bank}/notifications/absent`],
    ];
    const findings: string[] = [];
    for (const [caller, path] of cases) {
      const id = path.split('/').find((part) => /^[a-z]{3}_[0-9a-z]{26}$/.test(part))!;
      const theirs = await call(caller, 'get', path);
      const nothing = await call(caller, 'get', path.replace(id, absentLike(id)));
      if (theirs.status !== 404) findings.push(`${caller} GET ${path} → ${theirs.status}, not 404`);
      const shape = (a: Answer) => JSON.stringify({ status: a.status, code: a.json?.error?.code, message: String(a.json?.error?.message ?? '').replace(/[a-z]{3}_[0-9a-z]{26}/g, 'ID') });
      if (shape(theirs) !== shape(nothing)) findings.push(`${caller} GET ${path}: ${shape(theirs)} differs from an absent record's ${shape(nothing)}`);
    }
    expect(findings).toEqual([]);
  });

  test("lists show each caller only its own: no other party's record in any list", async () => {
    const lists = operations.filter((o) => o.method === 'get' && o.pathParams.length === 0 && o.access === 'apiKey');
    const tasks = lists.flatMap((op) =>
      (['tenderee1', 'tenderee2', 'bidder1', 'bidder2', 'bidder3'] as CallerName[]).flatMap((caller) =>
        [op.path, `${op.path}?sectionId=${ids.section1}`, `${op.path}?sectionId=${ids.section2}`, `${op.path}?bidderId=${ids.bidder1}`].map((url) => async () => {
          const a = await call(caller, 'get', url);
          const label = `${caller} GET ${url}`;
          return [...inspect(label, a), ...leaks(label, caller, '', a)];
        }),
      ),
    );
    expect(await runAll(tasks)).toEqual([]);
  }, probeStepTimeoutMs);

  test('hostile path parameters and query strings: never a 5xx, never anything internal', async () => {
    // Every hostile value in every path parameter of a read as the centre (who may read the
    // most); of a mutation, every other one, taking turns with the rest. A bidder and nobody each
    // meet every parameter with one of them.
    const tasks: (() => Promise<string[]>)[] = [];
    let turn = 0;
    for (const op of operations) {
      for (const param of op.pathParams) {
        const values = op.method === 'get' ? hostile : hostile.filter((_v, i) => (i + turn) % 2 === 0);
        const calls: [CallerName, string, string][] = values.map(([what, value]) => ['centre', what, value]);
        for (const caller of ['bidder1', 'anonymous'] as CallerName[]) calls.push([caller, ...hostile[turn++ % hostile.length]]);
        for (const [caller, what, value] of calls) {
          const url = fill(op, { [param]: value });
          tasks.push(async () => {
            const a = await call(caller, op.method, url, bodyFor(op));
            const label = `${caller} ${op.method.toUpperCase()} ${op.path} with ${param} = ${what}`;
            const found = [...inspect(label, a), ...leaks(label, caller, url, a)];
            // A URL that cannot be decoded is malformed whoever sends it: 400 before any key is read.
            const undecodable = what === 'a UTF-8 surrogate' || what === 'broken percent-encoding';
            if (caller === 'anonymous' && op.access !== 'public' && a.status !== 401 && !(undecodable && a.status === 400)) found.push(`${label} → ${a.status}, not 401`);
            if (a.status < 400 && op.method !== 'get') found.push(`${label} → ${a.status}: a mutation accepted a hostile id`);
            return found;
          });
        }
      }
      // Query strings go to a caller the route admits, or they would be refused before they are
      // read; a mutation names no real record, so nothing is changed whatever the query does.
      const isList = op.method === 'get' && op.pathParams.length === 0;
      const reader = (['centre', 'auditor', 'tenderee1', 'bidder1'] as CallerName[]).find((c) => op.access !== 'apiKey' || op.roles.includes(c.replace(/\d$/, ''))) ?? 'centre';
      const target = op.method === 'get' ? fill(op) : op.path.replace(/\{(\w+)\}/g, (_m, p: string) => encodeURIComponent(absentLike(realParam(op.path, p))));
      for (const param of [...op.queryParams, ...(isList ? extraQueryParams : [])]) {
        for (const [what, value] of [...hostileQuery, ['an array', `1&${param}=2`], ['brackets', '1'] as [string, string]]) {
          const name = what === 'brackets' ? `${param}[a][b]` : param;
          const url = `${target}?${name}=${value}`;
          tasks.push(async () => {
            const a = await call(reader, op.method, url, bodyFor(op));
            const label = `${reader} ${op.method.toUpperCase()} ${op.path}?${name} = ${what}`;
            return [...inspect(label, a), ...leaks(label, reader, url, a)];
          });
        }
      }
    }
    expect(tasks.length).toBeGreaterThan(500);
    expect(await runAll(tasks)).toEqual([]);
  }, probeStepTimeoutMs);

  test('a person signed in reads exactly what the matching API key reads, on every route it may read', async () => {
    const tasks: (() => Promise<string[]>)[] = [];
    const stripped = (text: string) => text.replace(/"requestId":"[^"]*"/g, '');
    for (const op of operations.filter((o) => o.method === 'get' && o.access === 'apiKey')) {
      for (const who of Object.keys(sessions) as CallerName[]) {
        const url = fill(op);
        tasks.push(async () => {
          const [byKey, bySession] = await Promise.all([
            call(who, 'get', url),
            fetch(`${base}${url}`, { headers: { Cookie: sessions[who]! } }).then(async (r) => ({ status: r.status, text: await r.text() })),
          ]);
          const label = `${who} GET ${url.slice(0, 120)}`;
          // Lists carry their own records only; an answer that differs names the difference.
          if (byKey.status !== bySession.status) return [`${label}: key ${byKey.status}, session ${bySession.status}`];
          // Files carry their time of making; statistics and the chain check read everything, which
          // other test files change while this one runs.
          if (/\/pdf$|\.csv$|\.xlsx$|statistics|\/audit\/verify$/.test(op.path)) return [];
          return stripped(byKey.text) === stripped(bySession.text) ? [] : [`${label}: key and session answers differ`];
        });
      }
    }
    expect(tasks.length).toBeGreaterThan(50);
    expect(await runAll(tasks)).toEqual([]);
  }, probeStepTimeoutMs);
});
