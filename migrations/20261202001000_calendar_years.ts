import type { Knex } from 'knex';

// R19: each year's schedule of holidays and make-up working days, loaded by an operator when the
// State Council publishes it (usually in November). Kept in the database so that every api and
// worker process of a deployment counts working days the same way without a restart.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE calendar_years (
      year int PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
      holidays date[] NOT NULL,
      makeup_workdays date[] NOT NULL,
      source text NOT NULL,
      loaded_by text NOT NULL,
      loaded_at timestamptz NOT NULL DEFAULT now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE calendar_years');
}
