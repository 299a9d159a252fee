// The demo itself, smaller (12 bidders: every mistake once), as CI runs it: in-process api,
// worker and sandbox bank, driven only over HTTP, ending with its own invariant checks. It runs
// in a database and queue prefix of its own on the run's PostgreSQL and Redis, because its
// worker takes every job it sees and must not take other test files' (nor they its).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { buildApi } from '../../src/app/api';
import { createRuntime } from '../../src/app/runtime';
import { startEmbeddedSandbox } from '../../src/app/sandbox';
import { buildWorker } from '../../src/app/worker';
import type { RunningWorkers } from '../../src/queue/worker';
import { createLogger, type Runtime } from '../../src/runtime';
import { runDemoAgainst, type DemoSummary } from '../../src/demo';
import { defaultTiming } from '../../src/timing';
import { testDataDir } from '../support/runtime';

const run = promisify(execFile);
const biddersInTest = 12;
const dbName = `${process.env.TEST_DATABASE_NAME}_demo`;

let rt: Runtime;
let server: Server;
let workers: RunningWorkers;
let sandbox: Awaited<ReturnType<typeof startEmbeddedSandbox>>;
let summary: DemoSummary;
let printed = '';
let apiUrl = '';
const outDir = mkdtempSync(path.join(os.tmpdir(), 'bidbond-demo-'));

async function admin(sql: string) {
  const c = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${dbName}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: url.toString(), BIDBOND_QUEUE_PREFIX: `${process.env.BIDBOND_QUEUE_PREFIX}demo`, BIDBOND_DATA_DIR: testDataDir() });
  rt = await createRuntime(config, { databaseUrl: config.DATABASE_URL!, redisUrl: config.REDIS_URL! }, { log: createLogger(config), migrate: true });
  server = buildApi(rt).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workers = await buildWorker(rt, config.REDIS_URL!);
  // The same wiring as `bidbond start`: the sandbox registered as the deposit bank, signing
  // with the development PKI of the data directory.
  sandbox = await startEmbeddedSandbox(rt, config.DATABASE_URL!, apiUrl, rt.log);
  const out = new PassThrough();
  out.on('data', (c) => (printed += c.toString()));
  summary = await runDemoAgainst({ rt, apiUrl, sandbox, bidders: biddersInTest, seed: 7, outDir, out });
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  await workers?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}, 60_000);

describe('bidbond demo (12 bidders)', () => {
  it('passes every check it makes and says so', () => {
    const failed = summary.checks.filter((c) => !c.ok);
    expect(failed).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(summary.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'every deposit refunded in full to its source account',
        'no refund paid twice',
        'ledger trust balance = sandbox trust account balance',
        'reconciliation balanced with no exceptions',
        'audit chain verifies',
        'every voucher verifies and matches the record',
      ]),
    );
    expect(printed).toMatch(/All checks passed/);
    // The worker's timing is put back for whoever runs after the demo.
    expect(rt.timing).toEqual(defaultTiming);
  });

  it('the summary counts add up: every bidder is secured or rejected with a rule', () => {
    const b = summary.bidders;
    expect(b.total).toBe(biddersInTest);
    expect(b.secured + b.notSecured).toBe(b.total);
    expect(b.securedByCash + b.securedByGuarantee).toBe(b.secured);
    expect(summary.notSecured.map((n) => n.rules.filter((r) => ['R2', 'R3', 'R4', 'R5', 'R6'].includes(r))).flat().sort()).toEqual(['R2', 'R3', 'R4', 'R5', 'R6']);
    const r = summary.refunds;
    expect(r.settled + r.manual).toBe(r.count);
    expect(r.manual).toBe(1);
    expect(summary.manualRefunds[0].reason).toMatch(/AC04/);
    expect(Object.values(r.byReason).reduce((s, n) => s + n, 0)).toBe(r.count);
    expect(r.bankAttempts).toBeGreaterThanOrEqual(r.count);
    expect(summary.reconciliation).toMatchObject({ result: 'balanced', exceptions: 0 });
    expect(summary.reconciliation.closingBank).toBe(summary.reconciliation.closingLedger);
  });

  it('writes the roster, summary.json and every voucher as a PDF that pdfsig reports valid', async () => {
    expect(JSON.parse(readFileSync(path.join(outDir, 'roster.json'), 'utf8')).entries).toHaveLength(biddersInTest);
    expect(JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8'))).toMatchObject({ ok: true, vouchers: { count: summary.vouchers.count } });
    const pdfs = readdirSync(path.join(outDir, 'vouchers')).filter((f) => f.endsWith('.pdf'));
    expect(pdfs).toHaveLength(summary.vouchers.count);
    expect(summary.vouchers.verified).toBe(summary.vouchers.count);
    for (const kind of ['deposit_receipt', 'refund_voucher', 'opening_roster', 'verification_report', 'reconciliation_report']) {
      expect(pdfs.some((f) => f.startsWith(`${kind}-`))).toBe(true);
    }
    // One of each kind through poppler: a reader's own tool says the signature is valid.
    const sample = [...new Map(pdfs.map((f) => [f.split('-')[0], f])).values()];
    for (const f of sample) {
      const file = path.join(outDir, 'vouchers', f);
      expect(existsSync(file)).toBe(true);
      const { stdout } = await run('pdfsig', [file]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
      expect(stdout).toContain('Signature is Valid');
    }
  });

  it('leaves the console open: its address and four sign-ins printed and written, each signing in as its role and seeing only its own', async () => {
    expect(summary.console?.url).toBe(`${apiUrl}/console/`);
    expect(printed).toContain(`Console: ${apiUrl}/console/`);
    const lines = readFileSync(path.join(outDir, 'sign-ins.txt'), 'utf8').trim().split('\n').slice(1);
    expect(lines).toHaveLength(4);
    const people = summary.console!.signIns.map((s, i) => ({ ...s, password: lines[i].trim().split(/\s+/).pop()! }));
    expect(people.map((p) => p.role)).toEqual(['centre', 'tenderee', 'bidder', 'bidder']);
    for (const p of people) {
      expect(printed).toContain(p.password);
      const res = await fetch(`${apiUrl}/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: p.login, password: p.password }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { user: { role: string; bidderId?: string } };
      expect(body.user.role).toBe(p.role);
      const cookie = res.headers.get('set-cookie')!.split(';')[0];
      if (p.role !== 'bidder') continue;
      // A bidder of the section secured it by cash or by guarantee, and sees only its own.
      const own = [];
      for (const what of ['deposits', 'guarantees']) {
        const list = (await (await fetch(`${apiUrl}/v1/${what}?limit=100`, { headers: { cookie } })).json()) as { data: { bidderId: string }[] };
        own.push(...list.data);
      }
      expect(own.length).toBeGreaterThan(0);
      expect(own.every((d) => d.bidderId === body.user.bidderId)).toBe(true);
    }
  });
});
