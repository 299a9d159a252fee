import type { Knex } from 'knex';

// A bank notification too large to answer at once (a day's camt.054 of thousands of credits) is
// kept as it came, acknowledged, and worked through by the deposits queue in batches. The row is
// the job's state: `next_entry` is how many of its entries (in booking order) are done, moved in
// the same transaction as each batch's credits, so a worker that dies between batches resumes
// where the last commit left it and never books an entry twice.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bank_notifications', (t) => {
    t.text('bank_id').notNullable().references('banks.id');
    t.text('message_id').notNullable();
    t.text('content_type').notNullable();
    t.binary('body').notNullable();
    // Its entries as read when it came, in the order they are acted on (JSON, amounts in fen as
    // strings): the file is read once, and acted on as it was read when it was acknowledged.
    t.text('entries').notNullable();
    t.integer('entries_total').notNullable();
    t.integer('next_entry').notNullable().defaultTo(0);
    t.text('status').notNullable().defaultTo('processing');
    t.integer('accepted').notNullable().defaultTo(0);
    t.integer('duplicates').notNullable().defaultTo(0);
    t.integer('ignored').notNullable().defaultTo(0);
    t.integer('ignored_not_our_account').notNullable().defaultTo(0);
    t.integer('reversals').notNullable().defaultTo(0);
    t.integer('exceptions').notNullable().defaultTo(0);
    // When the notice reached us: it bounds a booking the bank gave as a date only (R3).
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.primary(['bank_id', 'message_id']);
  });
  await knex.raw(`ALTER TABLE bank_notifications ADD CONSTRAINT bank_notifications_status_check CHECK (status IN ('processing','done'))`);
  await knex.raw(`ALTER TABLE bank_notifications ADD CONSTRAINT bank_notifications_progress_check CHECK (next_entry >= 0 AND next_entry <= entries_total AND (status = 'done') = (completed_at IS NOT NULL))`);
  await knex.raw(`CREATE INDEX bank_notifications_processing ON bank_notifications (updated_at) WHERE status = 'processing'`);
  // The deposits a message made, for its outcome.
  await knex.raw('CREATE INDEX credits_bank_message ON credits (bank_id, message_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS credits_bank_message');
  await knex.schema.dropTableIfExists('bank_notifications');
}
