// A database of its own for a test file whose workers act on every job and row they find, so
// that they never touch another file's work in the run's shared database.
import { Client } from 'pg';
import { register } from 'tsx/cjs/api';
import { createDb } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

export interface IsolatedDatabase {
  url: string;
  /** A queue prefix of its own as well. */
  queuePrefix: string;
  /** Both, as startTestRuntime takes them. */
  env: { DATABASE_URL: string; BIDBOND_QUEUE_PREFIX: string };
  drop(): Promise<void>;
}

export async function createIsolatedDatabase(name: string): Promise<IsolatedDatabase> {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL!;
  const dbName = `${process.env.TEST_DATABASE_NAME}_${name}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const unregister = register();
  const db = createDb(u.toString());
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
    unregister();
  }
  const queuePrefix = `${process.env.BIDBOND_QUEUE_PREFIX}${name}`;
  return {
    url: u.toString(),
    queuePrefix,
    env: { DATABASE_URL: u.toString(), BIDBOND_QUEUE_PREFIX: queuePrefix },
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    },
  };
}
