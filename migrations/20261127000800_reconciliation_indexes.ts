import type { Knex } from 'knex';

// Reconciliation looks refunds up by the bank's reference and credits by end-to-end id, for every
// line of a statement; without these a large day scans both tables once per line.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX refund_attempts_bank_reference ON refund_attempts (bank_reference) WHERE bank_reference IS NOT NULL');
  await knex.raw('CREATE INDEX credits_bank_end_to_end ON credits (bank_id, end_to_end_id) WHERE end_to_end_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refund_attempts_bank_reference');
  await knex.raw('DROP INDEX credits_bank_end_to_end');
}
