import type { Knex } from 'knex';

// Credit grades of bidders (信用等级) and the reductions of the bid security sections grant for
// them; postponed bid deadlines (延期开标) and the extension requests they send to issuers.
export async function up(knex: Knex): Promise<void> {
  // A grade is the finding of an outside body (a credit platform, the centre's own evaluation)
  // for a stated period. Findings are never overwritten: a new one is a new row, so the grade a
  // security was judged under stays on record with its source.
  await knex.schema.createTable('bidder_credit_grades', (t) => {
    t.bigIncrements('id').primary();
    t.text('bidder_id').notNullable().references('bidders.id');
    t.text('grade').notNullable();
    t.text('source').notNullable();
    t.date('valid_from').notNullable();
    t.date('valid_to').notNullable();
    t.text('recorded_by').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE bidder_credit_grades ADD CONSTRAINT bidder_credit_grades_period_check CHECK (valid_from <= valid_to)');
  await knex.raw('CREATE INDEX bidder_credit_grades_bidder ON bidder_credit_grades (bidder_id, valid_from, id)');
  await knex.raw(`CREATE FUNCTION bidder_credit_grades_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'credit grades are append-only'; END $$`);
  await knex.raw('CREATE TRIGGER bidder_credit_grades_no_update BEFORE UPDATE OR DELETE ON bidder_credit_grades FOR EACH ROW EXECUTE FUNCTION bidder_credit_grades_append_only()');

  // [{grade, percent}] declared when the section is created: the security a bidder of that grade
  // must put up is reduced by percent.
  await knex.schema.alterTable('sections', (t) => {
    t.jsonb('credit_reductions').notNullable().defaultTo('[]');
  });

  await knex.schema.createTable('section_postponements', (t) => {
    t.bigIncrements('id').primary();
    t.text('section_id').notNullable().references('sections.id');
    t.timestamp('previous_deadline', { useTz: true }).notNullable();
    t.timestamp('bid_deadline', { useTz: true }).notNullable();
    t.text('reason').notNullable();
    t.text('requested_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE section_postponements ADD CONSTRAINT section_postponements_later_check CHECK (bid_deadline > previous_deadline)');
  await knex.raw('CREATE INDEX section_postponements_section ON section_postponements (section_id, id)');

  await knex.raw('ALTER TABLE issuer_messages DROP CONSTRAINT issuer_messages_kind_check');
  await knex.raw(`ALTER TABLE issuer_messages ADD CONSTRAINT issuer_messages_kind_check CHECK (kind IN ('application','claim','release','extension_request'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DELETE FROM issuer_message_attempts WHERE message_id IN (SELECT id FROM issuer_messages WHERE kind = 'extension_request')`);
  await knex.raw(`DELETE FROM issuer_messages WHERE kind = 'extension_request'`);
  await knex.raw('ALTER TABLE issuer_messages DROP CONSTRAINT issuer_messages_kind_check');
  await knex.raw(`ALTER TABLE issuer_messages ADD CONSTRAINT issuer_messages_kind_check CHECK (kind IN ('application','claim','release'))`);
  await knex.schema.dropTable('section_postponements');
  await knex.schema.alterTable('sections', (t) => {
    t.dropColumn('credit_reductions');
  });
  await knex.schema.dropTable('bidder_credit_grades');
  await knex.raw('DROP FUNCTION bidder_credit_grades_append_only()');
}
