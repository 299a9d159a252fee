import type { Knex } from 'knex';

// R3 for a credit recovered from a statement: a line that gives only a booking date must not be
// read as booked at midnight, so the flag the bank's statement carried is kept with the line.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE statement_entries ADD COLUMN booking_date_only boolean NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE statement_entries DROP COLUMN booking_date_only');
}
