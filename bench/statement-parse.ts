// Statement reconciliation throughput: a camt.053 of N entries streamed from a file through
// parseCamt053Stream into statement_entries (one COPY) and matched against the ledger in SQL,
// in one transaction, as POST /v1/reconciliations does. Beside it, in the same run on the same
// file: `xmllint --stream --noout` (libxml2's streaming reader, the floor for reading the XML at
// all), and the parse alone (parseCamt053Stream with a consumer that keeps nothing).
//
//   npx tsx bench/statement-parse.ts [entries=100000]
// Uses a fresh database `bidbond_bench_*` on TEST_DATABASE_ADMIN_URL / DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped at the end. Needs `xmllint`
// (Debian: libxml2-utils).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { camt053Chunks, parseCamt053Stream } from '../src/banks/iso20022/camt053';
import type { StatementEntry } from '../src/banks/types';
import { createDb } from '../src/db/knex';
import { defaultBusinessTables } from '../src/tables';
import { migrateLatest } from '../src/db/migrate';
import { reconcileStream } from '../src/reconciliation/service';
import { reportRows } from './table';

const entriesN = Number(process.argv[2] ?? 100_000);
const date = '2024-06-28';
const trust = '1209876543210001';
/** xmllint runs per measurement; the median is the reference (the machine may be shared). */
const xmllintRuns = 3;
const goalRatioMax = 5;
const goalRssMiB = 256;

function* entries(): Generator<StatementEntry> {
  for (let i = 1; i <= entriesN; i++) {
    // Debits only: a credit unknown to the ledger is recovered through the deposit rules one
    // by one (recordCredit, ~9 ms each, bounded by statementRecoveriesMax), which would measure
    // the deposit path, not the statement's.
    const credit = false;
    yield {
      entryRef: `B${String(i).padStart(9, '0')}`, direction: credit ? 'credit' : 'debit', amountFen: BigInt(100 + (i % 5000)), currency: 'CNY',
      bookedAt: `${date}T0${i % 10}:00:00Z`, valueDate: date, endToEndId: `E${String(i).padStart(9, '0')}`,
      counterparty: { name: '路桥建设有限公司', accountNumber: `6222${String(i).padStart(12, '0')}`, bankCode: '103100000026' }, remittance: '投标保证金',
    };
  }
}

/** CPU seconds of waited-for children (utime + stime of RUSAGE_CHILDREN, from /proc). */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields 16 and 17 of stat (cutime, cstime), counted after the command name.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function xmllint(file: string): { wallS: number; cpuS: number } {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const run = spawnSync('xmllint', ['--stream', '--noout', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wallS = (performance.now() - t0) / 1000;
  if (run.error) throw new Error(`xmllint did not run (Debian: apt-get install libxml2-utils): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`xmllint refused the file: ${run.stderr.toString().slice(0, 500)}`);
  return { wallS, cpuS: childrenCpuSeconds() - cpu0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bidbond-bench-statements-'));
  const file = path.join(dir, 'camt053.xml');
  let credits = 0n;
  let debits = 0n;
  for (const e of entries()) (e.direction === 'credit' ? (credits += e.amountFen) : (debits += e.amountFen));
  // Opening chosen so the statement adds up; the ledger knows none of it, so every line goes
  // through every matching step and ends missing_in_ledger with an exception (the most work
  // per line).
  const header = { messageId: `BENCH${randomBytes(4).toString('hex')}`, statementId: 'BENCH', sequenceNumber: '1', account: trust, currency: 'CNY', date, openingBalanceFen: debits, closingBalanceFen: credits, createdAt: new Date() };
  await finished(Readable.from(camt053Chunks(header, entries())).pipe(createWriteStream(file)));
  const bytes = statSync(file).size;

  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = createDb(adminUrl, { poolMax: 1 });
  const dbName = `bidbond_bench_${randomBytes(4).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const db = createDb(url.toString());
  try {
    await migrateLatest(db);
    const bankId = 'bnk_' + '0'.repeat(26);
    await db('banks').insert({ id: bankId, name: 'bench', bank_code: '102100099996', adapter: 'iso20022', endpoint: 'http://127.0.0.1:9', trust_account_number: trust, trust_account_name: 'bench', virtual_account_prefix: '999' });
    const bank = await db('banks').where({ id: bankId }).first();
    const load0 = loadavg()[0];

    // The reference first, so that both read the file from the page cache.
    const lint = Array.from({ length: xmllintRuns }, () => xmllint(file));

    const parseCpu0 = ownCpuSeconds();
    const tp = performance.now();
    let parsed = 0;
    await parseCamt053Stream(createReadStream(file), () => {
      parsed += 1;
    });
    const parseS = (performance.now() - tp) / 1000;
    const parseCpuS = ownCpuSeconds() - parseCpu0;
    if (parsed !== entriesN) throw new Error(`assertion: parsed ${parsed} of ${entriesN} entries`);

    const cpu0 = ownCpuSeconds();
    const t0 = performance.now();
    const out = await reconcileStream({ db, tables: defaultBusinessTables }, bank, createReadStream(file), parseCamt053Stream, { source: 'cli', actor: { type: 'operator', id: 'bench' } });
    const reconcileS = (performance.now() - t0) / 1000;
    const reconcileCpuS = ownCpuSeconds() - cpu0;
    const load1 = loadavg()[0];
    const r = await db('reconciliations').where({ id: out.reconciliationId }).first();
    if (r.entry_count !== entriesN || r.exception_count < entriesN) throw new Error(`assertion: reconciled ${r.entry_count} entries with ${r.exception_count} exceptions`);
    const rssMiB = process.resourceUsage().maxRSS / 1024;

    const lintS = median(lint.map((l) => l.wallS));
    const lintCpuS = median(lint.map((l) => l.cpuS));
    const rate = (s: number) => Math.round(entriesN / s).toLocaleString('en-US');
    const line = (what: string, s: number, cpu: string) => process.stdout.write(`| ${what} | ${s.toFixed(2)} | ${cpu} | ${rate(s)} |\n`);
    process.stdout.write(`statement: ${entriesN} entries, ${(bytes / 1048576).toFixed(1)} MiB camt.053.001.08; result ${r.result}, ${r.exception_count} exceptions, ${r.recovered_count} recovered\n`);
    process.stdout.write(`load average (1 min) ${load0.toFixed(1)} before, ${load1.toFixed(1)} after, on ${cpus().length} CPUs\n`);
    process.stdout.write(`| what | wall s | CPU s | entries/s |\n| --- | ---: | ---: | ---: |\n`);
    line('reconcileStream (parse + COPY + match + exceptions + voucher request)', reconcileS, `${reconcileCpuS.toFixed(2)} (node only)`);
    line('parseCamt053Stream alone (nothing kept)', parseS, parseCpuS.toFixed(2));
    line(`reference: xmllint --stream --noout (median of ${xmllintRuns})`, lintS, lintCpuS.toFixed(2));
    process.stdout.write(`parse alone: ${(parseS / lintS).toFixed(1)}× xmllint (CPU ${(parseCpuS / lintCpuS).toFixed(1)}×); peak RSS of the process ${rssMiB.toFixed(0)} MiB\n`);

    const ratio = reconcileS / lintS;
    reportRows([
      {
        workload: `${entriesN.toLocaleString('en-US')}-entry camt.053 reconciled`,
        ours: `${reconcileS.toFixed(2)} s, RSS ${rssMiB.toFixed(0)} MB`,
        reference: `xmllint --stream ${lintS.toFixed(2)} s`,
        ratio: `${ratio.toFixed(1)}×`,
        goal: `≤ ${goalRatioMax}×, RSS ≤ ${goalRssMiB} MB`,
        met: ratio <= goalRatioMax && rssMiB <= goalRssMiB,
      },
    ]);
  } finally {
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
