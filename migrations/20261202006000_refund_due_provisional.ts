import type { Knex } from 'knex';

// R19: a working-day due date that runs past the years the calendar knows is computed from
// weekends alone and is only provisional; it is recomputed from the date it runs from when the
// next year's schedule is loaded.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE refunds ADD COLUMN due_from date');
  await knex.raw('ALTER TABLE refunds ADD COLUMN due_by_provisional boolean NOT NULL DEFAULT false');
  await knex.raw('CREATE INDEX refunds_due_provisional ON refunds (id) WHERE due_by_provisional');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refunds_due_provisional');
  await knex.raw('ALTER TABLE refunds DROP COLUMN due_by_provisional');
  await knex.raw('ALTER TABLE refunds DROP COLUMN due_from');
}
