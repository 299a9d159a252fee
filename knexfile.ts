// For the knex CLI (`npx knex migrate:make name`); the service itself migrates through
// `bidbond migrate` and at start.
import { migrationsDirectory } from './src/db/migrate';

export default {
  client: 'pg',
  connection: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bidbond',
  migrations: { directory: migrationsDirectory, extension: 'ts', loadExtensions: ['.ts'] },
};
