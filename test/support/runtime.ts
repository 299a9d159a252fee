// A real runtime for API and integration tests: the run's own PostgreSQL database and Redis
// prefix (set up by globalSetup), a development PKI per test worker.
import os from 'node:os';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config';
import { createApiKey, type Role } from '../../src/http/auth';
import { buildApi } from '../../src/app/api';
import { createRuntime } from '../../src/app/runtime';
import { createLogger, type Runtime } from '../../src/runtime';
import type { Timing } from '../../src/timing';
import { usccCheckChar, usccCharset } from '../../src/domain/uscc';
import { iso7064Mod1110CheckDigit } from '../../src/domain/bankCode';

export function testDataDir(): string {
  return path.join(os.tmpdir(), `bidbond-test-${process.env.BIDBOND_QUEUE_PREFIX}-${process.env.JEST_WORKER_ID ?? '0'}`);
}

export async function startTestRuntime(env: Record<string, string> = {}, opts: { timing?: Timing; log?: Logger } = {}): Promise<Runtime> {
  const config = loadConfig({ ...process.env, BIDBOND_DATA_DIR: testDataDir(), ...env });
  return createRuntime(config, { databaseUrl: config.DATABASE_URL!, redisUrl: config.REDIS_URL! }, { log: opts.log ?? createLogger(config), timing: opts.timing });
}

export function testApp(rt: Runtime): Express {
  return buildApi(rt);
}

export async function keyFor(rt: Runtime, role: Role, ids: { tendereeId?: string; bidderId?: string } = {}): Promise<string> {
  return (await createApiKey(rt.db, { role, ...ids })).key;
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** A valid USCC, random enough that no other test in this run draws the same one. */
export function uniqueUscc(): string {
  let body = '91110000';
  while (body.length < 17) body += usccCharset[randomInt(31)];
  return body + usccCheckChar(body);
}

/** A valid CNAPS code with the given 3-digit category. */
export function bankCode(category = '102', city = '1000', serial = '9999'): string {
  const first11 = `${category}${city}${serial}`;
  return first11 + String(iso7064Mod1110CheckDigit(first11));
}
