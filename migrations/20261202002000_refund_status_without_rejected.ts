import type { Knex } from 'knex';

// A bank's rejection ends an attempt, not the refund: the refund goes back to `scheduled` for a
// new attempt or on to `manual` for a person (R17), so no refund is ever `rejected`. The
// constraint says so, and a row that claims otherwise is refused instead of going unnoticed by
// the worker, the gauges and the API.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_status_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('scheduled','submitted','settled','manual'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_status_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('scheduled','submitted','settled','rejected','manual'))`);
}
