import type { Knex } from 'knex';

// A credit recovered from a statement must be recovered as what it is: a refund of ours that
// came back (退汇) goes back to its refund, the bank's interest (结息) to interest income, and
// only the rest through the deposit rules. The statement line keeps what the bank said of it:
// its bank transaction code and, for a return, the reason and the end-to-end id returned.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE statement_entries
    ADD COLUMN bank_transaction_code text,
    ADD COLUMN return_reason_code text,
    ADD COLUMN return_end_to_end_id text,
    ADD COLUMN return_additional_info text`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE statement_entries
    DROP COLUMN bank_transaction_code,
    DROP COLUMN return_reason_code,
    DROP COLUMN return_end_to_end_id,
    DROP COLUMN return_additional_info`);
}
