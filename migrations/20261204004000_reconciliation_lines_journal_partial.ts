import type { Knex } from 'knex';

// Most lines of a large statement match nothing (a day the ledger has not seen yet): indexing
// their empty journal_id made every such line pay for an index entry no query reads. Every
// lookup by journal compares it with a journal's id, which no null equals.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX reconciliation_lines_journal');
  await knex.raw('CREATE INDEX reconciliation_lines_journal ON reconciliation_lines (journal_id) WHERE journal_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX reconciliation_lines_journal');
  await knex.raw('CREATE INDEX reconciliation_lines_journal ON reconciliation_lines (journal_id)');
}
