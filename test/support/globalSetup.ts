// One PostgreSQL database and one queue prefix per test run, so that parallel runs (and a
// developer's running service) never see each other's data. Test workers inherit the
// environment set here.
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { migrateLatest } from '../../src/db/migrate';
import { createDb } from '../../src/db/knex';
// Migrations are TypeScript files that knex requires at run time.
import { register } from 'tsx/cjs/api';

export const adminUrlDefault = 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function globalSetup(): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? process.env.DATABASE_URL ?? adminUrlDefault;
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dbName = `bidbond_test_${runId}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  process.env.TEST_DATABASE_ADMIN_URL = adminUrl;
  process.env.TEST_DATABASE_NAME = dbName;
  process.env.DATABASE_URL = url.toString();
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.BIDBOND_QUEUE_PREFIX = `bbtest${runId}`;
  process.env.BIDBOND_ENV = 'test';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'silent';
  const unregister = register();
  const db = createDb(process.env.DATABASE_URL);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
    unregister();
  }
}
