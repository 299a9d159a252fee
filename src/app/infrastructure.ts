// Where a process finds PostgreSQL and Redis: the configured URLs, those of a `bidbond start`
// running on the same data directory, or embedded ones started here (development only). Kept
// apart from the runtime so that an operator command that only needs the database does not load
// the queues, the PKI and the rest of the service.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { startEmbeddedPostgres } from '../db/embedded';
import { startEmbeddedRedis } from '../queue/embeddedRedis';
import { createLogger } from '../runtime';

export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

/** A running `bidbond start` records where its embedded services listen, so that other
 *  commands (keys, migrate, reconcile, demo) on the same machine reach the same database. */
export function runtimeFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'runtime.json');
}

/** The pid of a `bidbond start` serving from this data directory, if one is running. */
export function runningStart(config: Pick<Config, 'dataDir'>): { pid: number; databaseUrl: string; redisUrl: string } | undefined {
  const file = runtimeFile(config);
  if (!existsSync(file)) return undefined;
  const running = JSON.parse(readFileSync(file, 'utf8')) as { databaseUrl: string; redisUrl: string; pid: number };
  try {
    process.kill(running.pid, 0);
    return running;
  } catch {
    return undefined;
  }
}

/** The database and Redis of a running `bidbond start` on this data directory when their URLs
 *  are unset, else the configured or embedded ones. */
export async function connectInfrastructure(config: Config, log: Logger = createLogger(config)): Promise<Infrastructure> {
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    const running = runningStart(config);
    if (running) return { databaseUrl: config.DATABASE_URL ?? running.databaseUrl, redisUrl: config.REDIS_URL ?? running.redisUrl, stop: async () => {} };
  }
  return resolveInfrastructure(config, log);
}

export async function resolveInfrastructure(config: Config, log: Logger): Promise<Infrastructure> {
  const stops: (() => Promise<void>)[] = [];
  let databaseUrl = config.DATABASE_URL;
  let redisUrl = config.REDIS_URL;
  try {
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(config.dataDir, (m) => log.warn(m));
      stops.push(pg.stop);
      databaseUrl = pg.url;
      log.info({ dataDir: config.dataDir }, 'DATABASE_URL is unset: started the embedded PostgreSQL');
    }
    if (!redisUrl) {
      const redis = await startEmbeddedRedis(config.dataDir);
      stops.push(redis.stop);
      redisUrl = redis.url;
      log.info({ url: redis.url }, 'REDIS_URL is unset: started redis-server from the PATH');
    }
  } catch (e) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw e;
  }
  return {
    databaseUrl,
    redisUrl,
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    },
  };
}
