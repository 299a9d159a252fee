import path from 'node:path';
import type { Knex } from 'knex';

export const migrationsDirectory = path.resolve(__dirname, '../../migrations');

export const migrationConfig: Knex.MigratorConfig = {
  directory: migrationsDirectory,
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

/** Runs pending migrations. Several processes starting at once are safe: knex takes a lock. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest(migrationConfig);
  return applied as string[];
}
