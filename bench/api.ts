// The service as a bench runs it: a scratch database `bidbond_bench_*` made and migrated on the
// server at DATABASE_URL, the runtime on it and Redis, the api listening on a free port of
// 127.0.0.1, a centre's API key and the development PKI that signs the bench's banks and issuers.
// `close` stops them all, drops the database and removes the data directory.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig, type Config } from '../src/config';
import { buildApi } from '../src/app/api';
import { createRuntime } from '../src/app/runtime';
import { migrateLatest } from '../src/db/migrate';
import { createDb } from '../src/db/knex';
import { createApiKey } from '../src/http/auth';
import { issueCertificate, type IssuedKeyPair } from '../src/pki/certs';
import { ensureDevPki, type DevPkiPaths } from '../src/pki/devPki';
import { createLogger } from '../src/runtime';
import { cnaps, digits } from './support';

const benchAdminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const benchRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchApiOptions {
  /** The process's log level; logs go to `api.log` in the data directory, as a production
   *  process sends them away from its terminal (BENCH_LOG_TO_STDOUT=1 shows them here). */
  logLevel?: string;
  /** Configuration beside the bench's own (poll delays and the like). */
  env?: Record<string, string>;
}

export interface BenchApi {
  /** The scratch database's URL. */
  databaseUrl: string;
  dataDir: string;
  config: Config;
  rt: Awaited<ReturnType<typeof createRuntime>>;
  /** `http://127.0.0.1:port`. */
  base: string;
  /** A centre's bearer key. */
  key: string;
  /** The development PKI in the data directory (its sandbox bank's key and certificate). */
  pki: DevPkiPaths;
  /** A key and a certificate signed by the development root, for a bank or an issuer. */
  issue(commonName: string): IssuedKeyPair;
  /** An ISO 20022 bank registered through the api, with the key its notifications are signed with. */
  createBank(): Promise<{ bank: Record<string, any>; cert: IssuedKeyPair; trustAccount: string; prefix: string }>;
  /** A JSON call as the centre (to the api, or to `root`); a failed one throws with its answer. */
  call(method: string, p: string, body?: unknown, root?: string): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startBenchApi(opts: BenchApiOptions = {}): Promise<BenchApi> {
  const dbName = `bidbond_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: benchAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(benchAdminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bb-bench-'));
  const config = loadConfig({
    ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: benchRedisUrl, BIDBOND_DATA_DIR: dataDir, BIDBOND_QUEUE_PREFIX: `bench${Date.now()}`,
    LOG_LEVEL: opts.logLevel ?? process.env.LOG_LEVEL ?? 'info', BIDBOND_RATE_LIMIT_PER_MINUTE: '1000000', ...opts.env,
  });
  const migrateDb = createDb(databaseUrl);
  await migrateLatest(migrateDb);
  await migrateDb.destroy();
  const { default: pino } = await import('pino');
  const fileLog = pino({ level: config.LOG_LEVEL }, pino.destination({ dest: path.join(dataDir, 'api.log'), sync: false }));
  const rt = await createRuntime(config, { databaseUrl, redisUrl: benchRedisUrl }, { log: process.env.BENCH_LOG_TO_STDOUT ? createLogger(config) : fileLog });
  const server = buildApi(rt).listen(0, '127.0.0.1');
  // Past a set-up's idle time: a connection the server closed while idle would be reused by
  // the client and reset.
  server.keepAliveTimeout = 120_000;
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { key } = await createApiKey(rt.db, { role: 'centre' });
  const pki = ensureDevPki(path.join(dataDir, 'pki'));
  const ca = { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') };
  const call: BenchApi['call'] = async (method, p, body, root = base) => {
    const res = await fetch(root + p, { method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
    return json as Record<string, any>;
  };
  const issue = (commonName: string) => issueCertificate({ commonName, ca });
  return {
    databaseUrl, dataDir, config, rt, base, key, pki, call, issue,
    async createBank() {
      const cert = issue('bench bank');
      const trustAccount = `9${digits(18)}`;
      const prefix = digits(8);
      const bank = await call('POST', '/v1/banks', {
        name: 'bench bank', bankCode: cnaps('104'), adapter: 'iso20022', endpoint: 'http://127.0.0.1:9/', certificatePem: cert.certPem,
        trustAccount: { number: trustAccount, name: '保证金专户' }, virtualAccountPrefix: prefix,
      });
      return { bank, cert, trustAccount, prefix };
    },
    async close() {
      await new Promise((r) => server.close(r));
      await rt.close();
      fileLog.flush();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
