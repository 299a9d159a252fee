// Builds what a process needs from the configuration: database, Redis, queues, outbox relay,
// trust roots, the signing key, the business tables and timing. Where the database and Redis
// are (embedded ones included) is infrastructure.ts's.
import type Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createDb } from '../db/knex';
import { calendarDaysCoveredAhead, calendarDaysCoveredAheadMin, loadBusinessTables, type BusinessTables } from '../tables';
import { refreshedTables } from '../calendar/service';
import { businessDate } from '../domain/time';
import { migrateLatest } from '../db/migrate';
import { createMetrics } from '../http/metrics';
import { parseCertificateBundle } from '../pki/certs';
import { devP12Password, ensureDevPki } from '../pki/devPki';
import { loadServiceSigner } from '../pki/serviceSigner';
import { startOutboxRelay } from '../queue/outbox';
import { closeQueues, createQueues, requestConnection, workerConnection } from '../queue/queues';
import { createLogger, type Runtime } from '../runtime';
import { timingFromEnv, type Timing } from '../timing';

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

/** How often a process re-reads the calendar years an operator loaded. */
export const calendarRefreshIntervalMs = 60_000;

async function withStoredYears(db: ReturnType<typeof createDb>, tables: BusinessTables, log: Logger): Promise<BusinessTables> {
  try {
    return await refreshedTables(db, tables);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not read the stored calendar years; using the configured calendar');
    return tables;
  }
}

/** How long start-up waits for the request path's Redis connection. */
export const requestRedisReadyWaitMs = 5000;

function untilReady(redis: Redis, waitMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), waitMs);
    redis.once('ready', onReady);
  });
}

export async function createRuntime(
  config: Config,
  infra: { databaseUrl: string; redisUrl: string },
  opts: { log?: Logger; migrate?: boolean; relayOutbox?: boolean; tables?: BusinessTables; timing?: Timing } = {},
): Promise<Runtime> {
  const log = opts.log ?? createLogger(config);
  const db = createDb(infra.databaseUrl, { poolMax: config.BIDBOND_DB_POOL_MAX });
  if (opts.migrate) {
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
  }
  const configuredTables = opts.tables ?? loadBusinessTables(config);
  const startTables = await withStoredYears(db, configuredTables, log);
  const today = businessDate(new Date());
  const ahead = calendarDaysCoveredAhead(startTables.calendar, today);
  const coverage = { coveredThrough: startTables.calendar.coveredThrough(today) ?? null, daysCoveredAhead: ahead };
  if (ahead < calendarDaysCoveredAheadMin) {
    log.warn(coverage, `the R19 calendar holds the official schedule for only ${ahead} more days: load the next year with \`bidbond calendar load FILE\`; working-day deadlines beyond it are provisional`);
  } else {
    log.info(coverage, 'R19 calendar coverage');
  }
  const redis = requestConnection(infra.redisUrl);
  redis.on('error', (e) => log.warn({ err: e.message }, 'redis (request path) error'));
  // The request path's commands fail at once while its connection is not ready (they are not
  // queued), and a rate limit that cannot reach Redis lets requests through: without this wait
  // the first requests after a start would not be counted.
  if (!(await untilReady(redis, requestRedisReadyWaitMs))) {
    log.warn({ waitedMs: requestRedisReadyWaitMs }, 'redis (request path) not ready: starting anyway; rate limits let requests through until it is');
  }
  const queueRedis = workerConnection(infra.redisUrl);
  queueRedis.on('error', (e) => log.warn({ err: e.message }, 'redis (queues) error'));
  const queues = createQueues(queueRedis, config.BIDBOND_QUEUE_PREFIX);
  const outbox =
    opts.relayOutbox === false
      ? { kick() {}, async stop() {} }
      : startOutboxRelay(db, queues, (e) => log.warn({ err: (e as Error).message }, 'outbox relay failed; will retry'));
  const rt: Runtime = {
    config,
    db,
    redis,
    log,
    metrics: createMetrics(),
    outbox,
    trustRoots: loadTrustRoots(config),
    signer: loadSigner(config),
    tables: startTables,
    timing: opts.timing ?? timingFromEnv(config),
    queues,
    queueRedis,
    close: async () => {
      clearInterval(refresh);
      await outbox.stop();
      await closeQueues(queues);
      queueRedis.disconnect();
      redis.disconnect();
      await db.destroy();
    },
  };
  // A year loaded by another process (`bidbond calendar load`, POST /v1/calendar) reaches this
  // one within the interval; the configured tables stay the base.
  const refresh = setInterval(() => {
    void withStoredYears(db, configuredTables, log).then((t) => (rt.tables = t));
  }, calendarRefreshIntervalMs);
  refresh.unref();
  return rt;
}
