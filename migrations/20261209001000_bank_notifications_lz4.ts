import type { Knex } from 'knex';

// A kept notification's raw body and its entries are written in the request that answers the
// bank: 18.6 MB of XML and about as much JSON for 20,000 credits. PostgreSQL's default
// compression (pglz) took about 90 ms for the body alone on the machine it was measured on, and
// lz4 about 25 ms, for a file about 15% larger on disk. Where the server was built without lz4
// the columns keep the default: nothing else depends on it.
const columns = ['body', 'entries'];

async function lz4Available(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw(`SELECT 'lz4' = ANY(enumvals) AS ok FROM pg_settings WHERE name = 'default_toast_compression'`);
  return rows[0]?.ok === true;
}

export async function up(knex: Knex): Promise<void> {
  if (!(await lz4Available(knex))) return;
  await knex.raw(`ALTER TABLE bank_notifications ${columns.map((c) => `ALTER COLUMN ${c} SET COMPRESSION lz4`).join(', ')}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE bank_notifications ${columns.map((c) => `ALTER COLUMN ${c} SET COMPRESSION default`).join(', ')}`);
}
