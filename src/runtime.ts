// Builds what a process needs from the configuration: database, Redis, queues, outbox relay,
// trust roots and the signing key. Starts the embedded PostgreSQL and Redis when their URLs are
// unset (development only).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Config } from './config';
import { createDb } from './db/knex';
import { configureBusinessTables } from './tables';
import { startEmbeddedPostgres } from './db/embedded';
import { migrateLatest } from './db/migrate';
import { createMetrics } from './http/metrics';
import type { AppDeps } from './http/deps';
import { parseCertificateBundle } from './pki/certs';
import { devP12Password, ensureDevPki } from './pki/devPki';
import { loadServiceSigner } from './pki/serviceSigner';
import { startEmbeddedRedis } from './queue/embeddedRedis';
import { startOutboxRelay } from './queue/outbox';
import { closeQueues, createQueues, requestConnection, workerConnection, type Queues } from './queue/queues';

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    // Secrets and account numbers never reach the log.
    redact: {
      paths: ['req.headers.authorization', 'req.headers["bidbond-signature"]', '*.accountNumber', '*.number', '*.keyPem', '*.password', '*.key'],
      censor: '[redacted]',
    },
  });
}

/** 6222020200001234567 → 6222***4567: enough to tell accounts apart in a log, not to use one. */
export function maskAccount(n: string): string {
  return n.length <= 8 ? '***' : `${n.slice(0, 4)}***${n.slice(-4)}`;
}

export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
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

export interface Runtime extends AppDeps {
  queues: Queues;
  queueRedis: Redis;
  close(): Promise<void>;
}

export function loadTrustRoots(config: Config) {
  if (config.BIDBOND_TRUST_ROOTS) {
    return config.BIDBOND_TRUST_ROOTS.split(',').flatMap((f) => parseCertificateBundle(readFileSync(f.trim(), 'utf8')));
  }
  const dev = ensureDevPki(path.join(config.dataDir, 'pki'));
  return parseCertificateBundle(readFileSync(dev.rootCert, 'utf8'));
}

export function loadSigner(config: Config) {
  if (config.BIDBOND_SIGNING_P12) return loadServiceSigner(config.BIDBOND_SIGNING_P12, config.BIDBOND_SIGNING_P12_PASSWORD ?? '');
  const dev = ensureDevPki(path.join(config.dataDir, 'pki'));
  return loadServiceSigner(dev.serviceP12, devP12Password);
}

export async function createRuntime(
  config: Config,
  infra: { databaseUrl: string; redisUrl: string },
  opts: { log?: Logger; migrate?: boolean; relayOutbox?: boolean } = {},
): Promise<Runtime> {
  const log = opts.log ?? createLogger(config);
  configureBusinessTables(config);
  const db = createDb(infra.databaseUrl);
  if (opts.migrate) {
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
  }
  const redis = requestConnection(infra.redisUrl);
  redis.on('error', (e) => log.warn({ err: e.message }, 'redis (request path) error'));
  const queueRedis = workerConnection(infra.redisUrl);
  queueRedis.on('error', (e) => log.warn({ err: e.message }, 'redis (queues) error'));
  const queues = createQueues(queueRedis, config.BIDBOND_QUEUE_PREFIX);
  const outbox =
    opts.relayOutbox === false
      ? { kick() {}, async stop() {} }
      : startOutboxRelay(db, queues, (e) => log.warn({ err: (e as Error).message }, 'outbox relay failed; will retry'));
  return {
    config,
    db,
    redis,
    log,
    metrics: createMetrics(),
    outbox,
    trustRoots: loadTrustRoots(config),
    signer: loadSigner(config),
    queues,
    queueRedis,
    close: async () => {
      await outbox.stop();
      await closeQueues(queues);
      queueRedis.disconnect();
      redis.disconnect();
      await db.destroy();
    },
  };
}
