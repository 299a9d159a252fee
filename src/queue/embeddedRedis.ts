// The embedded default for Redis: when REDIS_URL is unset, a redis-server from the PATH on a
// free loopback port, persisting nothing outside the data directory. Without one, a clear
// message that says what to install or set.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../db/embedded';

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

export async function startEmbeddedRedis(dataDir: string): Promise<EmbeddedRedis> {
  const bin = findOnPath('redis-server');
  if (!bin) throw new RedisNotFound();
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    bin,
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'],
    { stdio: 'ignore' },
  );
  // If this process dies without closing, the redis-server it started must not outlive it.
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
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
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: async () => {
      process.off('exit', killChild);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
