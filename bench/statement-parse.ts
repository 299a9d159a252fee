// Statement reconciliation throughput: a camt.053 of N entries uploaded to POST
// /v1/reconciliations over HTTP (streamed from a file by a sender in another process, as a
// centre's browser or script sends it), parsed as it streams by parseCamt053Stream into
// statement_entries (COPY) and matched against the ledger in SQL, in one transaction. Twice: the
// first statement the process reads (its code not yet compiled by V8's optimiser, as for a
// day's statement that comes once a day), then another day's. After them the parse alone (a
// consumer that keeps nothing), for where the time goes. Beside them, in the same run on the
// same file: `xmllint --stream --noout` (libxml2's streaming reader, the floor for reading the
// XML at all).
//
//   npx tsx bench/statement-parse.ts [entries=100000]
// Runs the api on a scratch database (bench/api.ts), dropped at the end. Needs `xmllint`
// (Debian: libxml2-utils).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { camt053Chunks, parseCamt053Stream } from '../src/banks/iso20022/camt053';
import type { StatementEntry } from '../src/banks/types';
import { bankIdHeader } from '../src/reconciliation/schemas';
import { startBenchApi } from './api';
import { startProfile } from './support';
import { reportRows } from './table';

const entriesN = Number(process.argv[2] ?? 100_000);
/** `--write file day account` after the size: write one statement and exit (see writeStatementApart). */
const writeArgs = process.argv[3] === '--write' ? process.argv.slice(4, 7) : undefined;
/** The days of the two statements uploaded. */
const date = '2024-06-28';
const secondDate = '2024-06-29';
/** xmllint runs per measurement; the median is the reference (the machine may be shared). */
const xmllintRuns = 3;
const goalRatioMax = 5;
const goalRssMiB = 256;

function* entries(day: string): Generator<StatementEntry> {
  for (let i = 1; i <= entriesN; i++) {
    // Debits only: a credit unknown to the ledger is recovered through the deposit rules one
    // by one (recordCredit, ~9 ms each, bounded by statementRecoveriesMax), which would measure
    // the deposit path, not the statement's.
    yield {
      entryRef: `B${String(i).padStart(9, '0')}`, direction: 'debit', amountFen: BigInt(100 + (i % 5000)), currency: 'CNY',
      bookedAt: `${day}T0${i % 10}:00:00Z`, valueDate: day, endToEndId: `E${String(i).padStart(9, '0')}`,
      counterparty: { name: '路桥建设有限公司', accountNumber: `6222${String(i).padStart(12, '0')}`, bankCode: '103100000026' }, remittance: '投标保证金',
    };
  }
}

/** writeStatement in a process of its own, so that the service's process is not measured
 *  holding the memory the writing took. */
function writeStatementApart(file: string, day: string, account: string): void {
  const run = spawnSync(process.execPath, [...process.execArgv, __filename, String(entriesN), '--write', file, day, account], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`writing ${file} failed (${run.status ?? run.signal})`);
}

/** The day's camt.053 for `account`, written to `file`. */
async function writeStatement(file: string, day: string, account: string): Promise<void> {
  let debits = 0n;
  for (const e of entries(day)) debits += e.amountFen;
  // Opening chosen so the statement adds up; the ledger knows none of it, so every line goes
  // through every matching step and ends missing_in_ledger with an exception (the most work
  // per line).
  const header = { messageId: `BENCH${randomBytes(4).toString('hex')}`, statementId: `BENCH${day}`, sequenceNumber: '1', account, currency: 'CNY', date: day, openingBalanceFen: debits, closingBalanceFen: 0n, createdAt: new Date() };
  await finished(Readable.from(camt053Chunks(header, entries(day))).pipe(createWriteStream(file)));
}

// The sender: node:http streaming the file with its length, timed from the request's start to
// the answer's last byte. A process of its own, so that reading and sending the file is not
// counted as the service's work, as a centre's upload comes from another machine.
const uploadScript = `
const http = require('node:http');
const fs = require('node:fs');
const [url, key, bankId, file] = process.argv.slice(1);
const t0 = performance.now();
const req = http.request(url, { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/xml', '${bankIdHeader}': bankId, 'content-length': fs.statSync(file).size } }, (res) => {
  const parts = [];
  res.on('data', (d) => parts.push(d));
  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, seconds: (performance.now() - t0) / 1000, body: Buffer.concat(parts).toString() })));
});
req.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
fs.createReadStream(file).pipe(req);
`;

function upload(url: string, key: string, bankId: string, file: string): Promise<{ status: number; seconds: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', uploadScript, url, key, bankId, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the sender exited with ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the sender printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
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

/** The process's resident set sampled every `rssSampleMs` until stopped: its peak while the
 *  service handles one upload (the process's lifetime peak would count the bench's own set-up). */
const rssSampleMs = 100;
function rssPeak(): { stop(): void; peakMiB(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), rssSampleMs);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
    },
    peakMiB: () => peak / 1048576,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const api = await startBenchApi({ logLevel: 'silent' });
  const { rt, dataDir } = api;
  try {
    const { bank: created, trustAccount: trust } = await api.createBank();
    const bank = await rt.db('banks').where({ id: created.id }).first();
    const file = path.join(dataDir, 'camt053.xml');
    const secondFile = path.join(dataDir, 'camt053-second.xml');
    writeStatementApart(file, date, trust);
    writeStatementApart(secondFile, secondDate, trust);
    const bytes = statSync(file).size;
    const load0 = loadavg()[0];

    // The reference first, so that both read the file from the page cache.
    const lint = Array.from({ length: xmllintRuns }, () => xmllint(file));

    // The first statement this process reads, as a day's statement comes to a service that has
    // not read one since yesterday; then another day's, with the code warm.
    const uploaded = async (f: string) => {
      const cpu0 = ownCpuSeconds();
      const rss = rssPeak();
      const sent = await upload(`${api.base}/v1/reconciliations`, api.key, bank.id, f).finally(rss.stop);
      if (sent.status !== 201) throw new Error(`assertion: the upload was answered ${sent.status}: ${sent.body.slice(0, 500)}`);
      const r = await rt.db('reconciliations').where({ id: JSON.parse(sent.body).id }).first();
      if (r.entry_count !== entriesN || r.exception_count < entriesN) throw new Error(`assertion: ${r.id} reconciled ${r.entry_count} entries with ${r.exception_count} exceptions`);
      return { seconds: sent.seconds, cpuS: ownCpuSeconds() - cpu0, r, rssMiB: rss.peakMiB() };
    };
    const idleRssMiB = process.memoryUsage.rss() / 1048576;
    // BENCH_CPU_PROFILE=file.cpuprofile profiles the first upload alone.
    const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined;
    const first = await uploaded(file);
    if (profile) writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(await profile()));
    const second = await uploaded(secondFile);
    const rssMiB = Math.max(first.rssMiB, second.rssMiB);

    const parseCpu0 = ownCpuSeconds();
    const tp = performance.now();
    let parsed = 0;
    await parseCamt053Stream(createReadStream(file), () => {
      parsed += 1;
    });
    const parseS = (performance.now() - tp) / 1000;
    const parseCpuS = ownCpuSeconds() - parseCpu0;
    if (parsed !== entriesN) throw new Error(`assertion: parsed ${parsed} of ${entriesN} entries`);
    const load1 = loadavg()[0];

    const lintS = median(lint.map((l) => l.wallS));
    const lintCpuS = median(lint.map((l) => l.cpuS));
    const rate = (s: number) => Math.round(entriesN / s).toLocaleString('en-US');
    const line = (what: string, s: number, cpu: string) => process.stdout.write(`| ${what} | ${s.toFixed(2)} | ${cpu} | ${rate(s)} |\n`);
    const { r } = first;
    process.stdout.write(`statement: ${entriesN} entries, ${(bytes / 1048576).toFixed(1)} MiB camt.053.001.08; result ${r.result}, ${r.exception_count} exceptions, ${r.recovered_count} recovered\n`);
    process.stdout.write(`load average (1 min) ${load0.toFixed(1)} before, ${load1.toFixed(1)} after, on ${cpus().length} CPUs\n`);
    process.stdout.write(`| what | wall s | CPU s of the service | entries/s |\n| --- | ---: | ---: | ---: |\n`);
    line('POST /v1/reconciliations, the process\'s first statement: request to answer (parse + COPY + match + exceptions + voucher request)', first.seconds, first.cpuS.toFixed(2));
    line('the same, another day\'s statement', second.seconds, second.cpuS.toFixed(2));
    line('parseCamt053Stream alone (nothing kept)', parseS, parseCpuS.toFixed(2));
    line(`reference: xmllint --stream --noout (median of ${xmllintRuns})`, lintS, `${lintCpuS.toFixed(2)} (xmllint)`);
    process.stdout.write(`parse alone: ${(parseS / lintS).toFixed(1)}× xmllint (CPU ${(parseCpuS / lintCpuS).toFixed(1)}×); the second statement ${(second.seconds / lintS).toFixed(1)}×; the process's RSS ${idleRssMiB.toFixed(0)} MiB before the uploads, at most ${first.rssMiB.toFixed(0)} and ${second.rssMiB.toFixed(0)} MiB during them\n`);

    const ratio = first.seconds / lintS;
    reportRows([
      {
        workload: `${entriesN.toLocaleString('en-US')}-entry camt.053 uploaded and reconciled`,
        ours: `${first.seconds.toFixed(2)} s (the next day's ${second.seconds.toFixed(2)} s), RSS ${rssMiB.toFixed(0)} MB`,
        reference: `xmllint --stream ${lintS.toFixed(2)} s`,
        ratio: `${ratio.toFixed(1)}×`,
        goal: `≤ ${goalRatioMax}×, RSS ≤ ${goalRssMiB} MB`,
        met: ratio <= goalRatioMax && rssMiB <= goalRssMiB,
      },
    ]);
  } finally {
    await api.close();
  }
}

(writeArgs ? writeStatement(writeArgs[0], writeArgs[1], writeArgs[2]) : main()).catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
