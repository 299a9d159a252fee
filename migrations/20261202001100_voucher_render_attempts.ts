import type { Knex } from 'knex';

// Render attempts of a voucher are counted so that one that cannot be rendered ends `failed`
// (with its last error) instead of being handed to the queue every minute for ever. The partial
// index lets the failed-vouchers gauge count them at every scrape without reading the table.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('vouchers', (t) => {
    t.integer('render_attempts').notNullable().defaultTo(0);
  });
  await knex.raw('ALTER TABLE vouchers ADD CONSTRAINT vouchers_render_attempts_check CHECK (render_attempts >= 0)');
  // A failed voucher says why: the person who picks it up starts from its last error.
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_failed_error_check CHECK (status <> 'failed' OR error IS NOT NULL)`);
  await knex.raw(`CREATE INDEX vouchers_failed ON vouchers (created_at) WHERE status = 'failed'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX vouchers_failed');
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_failed_error_check');
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_render_attempts_check');
  await knex.schema.alterTable('vouchers', (t) => {
    t.dropColumn('render_attempts');
  });
}
