import { Client } from 'pg';
import Redis from 'ioredis';

export default async function globalTeardown(): Promise<void> {
  const dbName = process.env.TEST_DATABASE_NAME;
  if (dbName && process.env.KEEP_TEST_DB !== '1') {
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  const prefix = process.env.BIDBOND_QUEUE_PREFIX;
  if (prefix && process.env.REDIS_URL) {
    const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // A Redis that is gone at teardown leaves only keys under a unique prefix behind.
    } finally {
      redis.disconnect();
    }
  }
}
