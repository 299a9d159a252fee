// `bidbond start` on the embedded default, stopped the way a terminal's Ctrl-C stops it: SIGINT to
// the whole foreground process group. The embedded PostgreSQL and Redis must not get that signal;
// they stop last, after the api, worker and sandbox bank have drained, and nothing is left running.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, freePort } from '../../src/db/embedded';

const bin = path.resolve(__dirname, '../../bin/bidbond.js');
/** The first start initialises the database cluster. */
const readyWithinMs = 90_000;
const exitWithinMs = 30_000;
/** A fast shutdown of PostgreSQL writes a checkpoint. */
const goneWithinMs = 30_000;

const stopLinesInOrder = [
  'bidbond: stopped api',
  'bidbond: stopped worker',
  'bidbond: stopped sandbox bank',
  'bidbond: stopped runtime file',
  'bidbond: stopped runtime (database pool, Redis, queues)',
  'bidbond: stopped embedded services',
];

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bb-lifecycle-'));
const postmasterPidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
const redisPidFile = path.join(dataDir, 'redis', 'redis-server.pid');
/** Every process a test saw, so that afterAll can end them if an assertion failed first. */
const seen: { service: ChildProcess[]; postgres: number[]; redis: number[] } = { service: [], postgres: [], redis: [] };

interface Started {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** As an operator runs it on the development default: no DATABASE_URL, no REDIS_URL, the service's
 *  own log at info so that noise would show. Detached, so that it leads a process group of its own
 *  that the test can signal as a terminal would. */
async function startService(): Promise<Started> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'BIDBOND_ENV', 'BIDBOND_QUEUE_PREFIX']) delete env[k];
  Object.assign(env, { BIDBOND_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' });
  const child = spawn(process.execPath, [bin, 'start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  seen.service.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, stdout: () => stdout, stderr: () => stderr, exit };
}

async function until<T>(what: string, withinMs: number, probe: () => Promise<T | undefined> | T | undefined, started: Started): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (started.child.exitCode !== null || started.child.signalCode !== null) throw new Error(`bidbond start exited before ${what}:\n${started.stderr()}\n${started.stdout()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${withinMs} ms:\n${started.stderr()}\n${started.stdout()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pidIn(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The first pid written to `file` while the service runs. */
function watchPid(file: string, started: Started): { value?: number } {
  const seenPid: { value?: number } = {};
  const timer = setInterval(() => {
    seenPid.value ??= pidIn(file);
  }, 20);
  void started.exit.then(() => clearInterval(timer));
  return seenPid;
}

/** Running, that is: an exited process its new parent has not yet reaped (state Z) is not. */
function alive(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('Z');
  } catch {
    return false;
  }
}

function processGroupOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

/** Command lines of running processes that name this test's data directory (the postmaster's -D). */
function processesOnDataDir(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dataDir));
}

async function ready(started: Started): Promise<void> {
  await until(
    '/readyz answer',
    readyWithinMs,
    async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${started.port}/readyz`);
        return res.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    started,
  );
}

/** What a terminal's Ctrl-C does: SIGINT to every process in the foreground group. */
function ctrlC(started: Started): void {
  process.kill(-started.child.pid!, 'SIGINT');
}

async function exitOf(started: Started) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bidbond start did not exit within ${exitWithinMs} ms of the signal:\n${started.stderr()}`)), exitWithinMs);
  });
  try {
    return await Promise.race([started.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stop ends in exit code 0; on any other end, what the service printed to stderr (where a
 *  failed start or stop says why) comes with the failure. */
function expectCleanExit(started: Started, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
  const clean = exit.code === 0 && exit.signal === null;
  expect({ ...exit, ...(clean ? {} : { stderr: started.stderr() }) }).toEqual({ code: 0, signal: null });
}

/** pino's levels: 40 warn, 50 error. */
function expectQuietOrderlyStop(started: Started, outputBeforeStop: number, logLevelBelow: number): void {
  const stderrLines = started.stderr().split('\n').filter(Boolean);
  // Only the command's own lines: the signal, then one per part, services first.
  expect(stderrLines).toEqual(['bidbond: SIGINT: stopping', ...stopLinesInOrder]);
  const all = `${started.stdout()}\n${started.stderr()}`;
  expect(all).not.toMatch(/ECONNREFUSED/);
  expect(all).not.toMatch(/\n\s+at /);
  expect(all).not.toMatch(/terminating connection|loop failed/);
  // Anything on stdout that is not the service's own log counts as noise too.
  const loggedWhileStopping = started
    .stdout()
    .slice(outputBeforeStop)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as { level: number; msg: string };
      } catch {
        return { level: Infinity, msg: line };
      }
    });
  expect(loggedWhileStopping.filter((l) => l.level >= logLevelBelow)).toEqual([]);
}

function expectNothingLeft(postgresPid: number, redisPid: number | undefined): void {
  expect(redisPid).toBeDefined();
  expect(alive(postgresPid)).toBe(false);
  expect(alive(redisPid!)).toBe(false);
  expect(processesOnDataDir()).toEqual([]);
  expect(existsSync(postmasterPidFile)).toBe(false);
  expect(existsSync(redisPidFile)).toBe(false);
}

afterAll(() => {
  for (const child of seen.service) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const pid of seen.postgres) if (alive(pid)) process.kill(pid, 'SIGQUIT');
  for (const pid of seen.redis) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('bidbond start on the embedded default, when it is stopped', () => {
  it('by Ctrl-C, drains the api, worker and sandbox bank before stopping PostgreSQL and Redis, prints one line per part and leaves nothing running', async () => {
    const started = await startService();
    await ready(started);
    const postgresPid = pidIn(postmasterPidFile)!;
    const redisPid = pidIn(redisPidFile)!;
    expect(postgresPid).toBeDefined();
    expect(redisPid).toBeDefined();
    seen.postgres.push(postgresPid);
    seen.redis.push(redisPid);
    // Out of the service's process group, so a terminal's signal does not reach them.
    expect(processGroupOf(postgresPid)).not.toBe(started.child.pid);
    expect(processGroupOf(redisPid)).not.toBe(started.child.pid);

    const outputBeforeStop = started.stdout().length;
    ctrlC(started);
    const { code, signal } = await exitOf(started);

    expectCleanExit(started, { code, signal });
    // Stopping a running service logs nothing at warn or above.
    expectQuietOrderlyStop(started, outputBeforeStop, 40);
    expectNothingLeft(postgresPid, redisPid);
  }, readyWithinMs + exitWithinMs + 30_000);

  it('by Ctrl-C while it is still starting, it stops what has started, in the same order, once the start is done', async () => {
    const started = await startService();
    // PostgreSQL is up on the data directory initialised by the first test; the rest is not yet.
    const postgresPid = await until('postmaster.pid', readyWithinMs, () => pidIn(postmasterPidFile), started);
    seen.postgres.push(postgresPid);
    // Redis may start only after the signal, and it removes its pid file when it stops.
    const redisPid = watchPid(redisPidFile, started);
    const outputBeforeStop = started.stdout().length;
    ctrlC(started);
    const { code, signal } = await exitOf(started);
    if (redisPid.value !== undefined) seen.redis.push(redisPid.value);

    expectCleanExit(started, { code, signal });
    // The rest of the start still logs its warnings (a calendar running out); nothing fails.
    expectQuietOrderlyStop(started, outputBeforeStop, 50);
    expectNothingLeft(postgresPid, redisPid.value);
  }, readyWithinMs + exitWithinMs + 30_000);

  // Only the kernel can act on a SIGKILL: Linux's parent-death signal, which util-linux's setpriv sets.
  const itWhereSetprivIsInstalled = process.platform === 'linux' && findOnPath('setpriv') ? it : it.skip;
  itWhereSetprivIsInstalled('by SIGKILL, it leaves no PostgreSQL or Redis running', async () => {
    const started = await startService();
    await ready(started);
    const postgresPid = pidIn(postmasterPidFile)!;
    const redisPid = pidIn(redisPidFile)!;
    expect(postgresPid).toBeDefined();
    expect(redisPid).toBeDefined();
    seen.postgres.push(postgresPid);
    seen.redis.push(redisPid);
    process.kill(started.child.pid!, 'SIGKILL');
    await exitOf(started);
    const deadline = Date.now() + goneWithinMs;
    while ((alive(postgresPid) || alive(redisPid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    expectNothingLeft(postgresPid, redisPid);
  }, readyWithinMs + exitWithinMs + goneWithinMs + 30_000);
});
