import type { Knex } from 'knex';

// The opening reads every bidder that tried to secure a section in one query, among them those
// that only applied for a guarantee: without this index that part reads every application of
// every section.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX guarantee_applications_section ON guarantee_applications (section_id, bidder_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX guarantee_applications_section');
}
