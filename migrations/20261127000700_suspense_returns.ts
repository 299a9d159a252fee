import type { Knex } from 'knex';

// A credit held in suspense (R15: unknown virtual account) can be returned to its source by a
// recorded decision of the centre; such a refund belongs to no section.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_reason_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check CHECK (reason IN ('invalid','excess','withdrawal','contract','award_non_winner','termination','suspense_return'))`);
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_section_check CHECK ((reason = 'suspense_return') = (section_id IS NULL))`);
  // A returned suspense credit is invalid under R15 alone and still belongs to no section.
  await knex.raw('ALTER TABLE deposits DROP CONSTRAINT deposits_matched_check');
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_matched_check CHECK (
    ((status = 'suspense' OR (status = 'invalid' AND failed_rules = ARRAY['R15']::text[])) = (section_id IS NULL))
    AND (section_id IS NULL) = (bidder_id IS NULL))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE deposits DROP CONSTRAINT deposits_matched_check');
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_matched_check CHECK ((status = 'suspense') = (section_id IS NULL) AND (section_id IS NULL) = (bidder_id IS NULL))`);
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_section_check');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_reason_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check CHECK (reason IN ('invalid','excess','withdrawal','contract','award_non_winner','termination'))`);
}
