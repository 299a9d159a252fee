// The embedded default for Redis: when REDIS_URL is unset, a redis-server from the PATH on a
// free loopback port, persisting nothing outside the data directory. Without one, a clear
// message that says what to install or set. Like the embedded PostgreSQL, it runs in its own
// process group, so a terminal's Ctrl-C does not take it away from the worker while it drains.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { endedByOurTerminalSignal, findOnPath, freePort, ownedServerSpawnsMax, spawnOwned } from '../db/embedded';

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
  const spawnServer = () => spawnOwned(bin, args, { spawn: { stdio: 'ignore' }, stopSignal: 'SIGTERM', forceSignal: 'SIGKILL', stopGraceMs: redisStopGraceMs });
  let server = spawnServer();
  let spawns = 1;
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + redisStartTimeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (endedByOurTerminalSignal(server) && spawns < ownedServerSpawnsMax) {
        server = spawnServer();
        spawns += 1;
        continue;
      }
      if (Date.now() > deadline || !server.running()) {
        await server.stop();
        const why = server.spawnError()?.message ?? (server.child.signalCode ? `ended by ${server.child.signalCode}` : undefined);
        throw new Error(`redis-server did not start on port ${port}${why ? ` (${why})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => server.stop() };
}
