// Random but valid identifiers, percentiles and pgbench's paced latency, shared by the benchmarks'
// set-ups and reports.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import path from 'node:path';
import { iso7064Mod1110CheckDigit } from '../src/domain/bankCode';

// The goal of the rate workloads (credits, issuances), each measured in two passes.
/** The first pass reaches at least this share of pgbench's floor (the same statements at the
 *  same concurrency). */
export const floorShareGoal = 0.5;
/** The second pass sends at this share of the rate the first reached, */
export const halfRateShare = 0.5;
/** and its p99 is within this many ms. */
export const p99GoalMs = 50;

/** n random digits, the first not zero (account numbers, prefixes). */
export const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');

/** A CNAPS bank code of the given category with its check digit. */
export const cnaps = (cat: string) => {
  const s = `${cat}1000${digits(4)}`;
  return s + iso7064Mod1110CheckDigit(s);
};

/** The p-th percentile of the samples (nearest rank). */
export const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Starts the V8 profiler in this process; the returned function stops it and gives the profile. */
export async function startProfile(): Promise<() => Promise<object>> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

/** The garbage collections of this process (the service's, in a bench that runs it) from now to
 *  the call of the returned function: a major collection marks the whole heap, and on two cores
 *  its marking takes time from PostgreSQL, so a latency tail is read beside them. */
export function watchCollections(): () => string {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    entries.push(...observer.takeRecords());
    observer.disconnect();
    const kind = (e: PerformanceEntry) => (e as PerformanceEntry & { detail: { kind: number } }).detail.kind;
    const major = entries.filter((e) => kind(e) === perfConstants.NODE_PERFORMANCE_GC_MAJOR);
    const minor = entries.filter((e) => kind(e) === perfConstants.NODE_PERFORMANCE_GC_MINOR);
    const longest = (xs: PerformanceEntry[]) => (xs.length ? Math.max(...xs.map((e) => e.duration)).toFixed(1) : '0');
    const total = entries.reduce((a, e) => a + e.duration, 0);
    return `${major.length} major (longest ${longest(major)} ms), ${minor.length} minor (longest ${longest(minor)} ms), ${total.toFixed(0)} ms in all`;
  };
}

/** pgbench running `script` on a fixed schedule (`-R`) at the given rate and concurrency: the
 *  p50 and p99 of each transaction's latency counted from when it was due (pgbench's time plus
 *  its schedule lag, from its per-transaction log), as the benchmarks' paced passes count theirs.
 *  The database's own latency at that rate, stalls included, beside the service's. */
export function pgbenchPaced(script: string, url: string, opts: { concurrency: number; ratePerSecond: number; seconds: number }): { p50: number; p99: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-pgbench-log-'));
  try {
    execFileSync('pgbench', ['-n', '-c', String(opts.concurrency), '-j', '2', '-T', String(opts.seconds), '-R', String(opts.ratePerSecond), '-l', `--log-prefix=${path.join(dir, 'tx')}`, '-f', script, url], { encoding: 'utf8' });
    // Each line: client, transaction, time (µs), script, epoch s, µs, schedule lag (µs).
    const latencies = readdirSync(dir).flatMap((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const fields = line.trim().split(/\s+/);
          return (Number(fields[2]) + Number(fields[6] ?? 0)) / 1000;
        }),
    );
    if (latencies.length === 0 || latencies.some((l) => !Number.isFinite(l))) throw new Error(`pgbench's log in ${dir} could not be read`);
    return { p50: pct(latencies, 50), p99: pct(latencies, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
