// The embedded default for Redis: when REDIS_URL is unset, a redis-server from the PATH on a
// free loopback port, persisting nothing outside the data directory. Without one, a clear
// message that says what to install or set. Like the embedded PostgreSQL, it runs in its own
// process group, so a terminal's Ctrl-C does not take it away from the worker while it drains.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { findOnPath, freePort, spawnOwned, startOwnedServer, type OwnedProcess } from '../db/embedded';

export class RedisNotFound extends Error {
  constructor() {
    super(
      'no redis-server on the PATH. Install Redis (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_URL to a running Redis (e.g. redis://127.0.0.1:6379).',
    );
    this.name = 'RedisNotFound';
  }
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

export const redisStartTimeoutMs = 10_000;
/** Nothing is saved on shutdown (`--save ''`), so a SIGTERM ends it at once; the bound is for a
 *  server that hangs. */
export const redisStopGraceMs = 10_000;

export async function startEmbeddedRedis(dataDir: string): Promise<EmbeddedRedis> {
  const bin = findOnPath('redis-server');
  if (!bin) throw new RedisNotFound();
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // The pid file says which process serves this data directory, for an operator (or a test).
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--pidfile', path.join(dir, 'redis-server.pid'), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'];
  const url = `redis://127.0.0.1:${port}`;
  const server = await startOwnedServer(
    () => spawnOwned(bin, args, { spawn: { stdio: 'ignore' }, stopSignal: 'SIGTERM', forceSignal: 'SIGKILL', stopGraceMs: redisStopGraceMs }),
    (s) => awaitReady(s, url, port),
  );
  return { url, stop: () => server.stop() };
}

/** Resolves once `server` answers a PING at `url`; throws, saying why where it can, once it has
 *  ended or `redisStartTimeoutMs` has passed. */
async function awaitReady(server: OwnedProcess, url: string, port: number): Promise<void> {
  const deadline = Date.now() + redisStartTimeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      if (Date.now() > deadline || !server.running()) {
        const why = server.spawnError()?.message ?? (server.child.signalCode ? `ended by ${server.child.signalCode}` : undefined);
        throw new Error(`redis-server did not start on port ${port}${why ? ` (${why})` : ''}`);
      }
    } finally {
      probe.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
