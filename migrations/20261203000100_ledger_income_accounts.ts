import type { Knex } from 'knex';

// Interest the deposit bank pays on the trust account (结息) is the source of the interest refunds
// pay out (R13): it is booked to an income account per bank (`bank:<bnk>:interest_income`), a
// type the ledger did not have. Balances stay debit-positive, so an income account's balance is
// negative, like a liability's.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_type_check');
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_type_check CHECK (type IN ('asset','liability','income','expense'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_type_check');
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_type_check CHECK (type IN ('asset','liability','expense'))`);
}
