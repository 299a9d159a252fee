import type { Knex } from 'knex';

// At most one payment per refund, whatever the bank does: a refund keeps one end-to-end id for
// life and every attempt sends it again, so that a bank which still holds an earlier instruction
// (a queue, a worker that paused mid-send) refuses the repeat as a duplicate instead of paying
// twice. Each attempt keeps its own message id. `not_before` holds a new attempt back (after a
// bank said "no record", for hours); `manual_code` says why a person must look.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE refunds ADD COLUMN end_to_end_id text');
  await knex.raw(`
    UPDATE refunds r SET end_to_end_id = coalesce(
      (SELECT a.end_to_end_id FROM refund_attempts a WHERE a.refund_id = r.id ORDER BY a.seq LIMIT 1),
      'E' || substr(r.id, 5))`);
  await knex.raw('ALTER TABLE refunds ALTER COLUMN end_to_end_id SET NOT NULL');
  await knex.raw('CREATE UNIQUE INDEX refunds_bank_end_to_end ON refunds (bank_id, end_to_end_id)');
  await knex.raw('ALTER TABLE refunds ADD COLUMN not_before timestamptz');
  await knex.raw('ALTER TABLE refunds ADD COLUMN manual_code text');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_manual_code_check CHECK (manual_code IN ('account_rejected','attempts_exhausted','status_unknown','returned'))`);
  await knex.raw('ALTER TABLE refund_attempts DROP CONSTRAINT refund_attempts_end_to_end_id_unique');
  await knex.raw('CREATE INDEX refund_attempts_end_to_end ON refund_attempts (end_to_end_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refund_attempts_end_to_end');
  await knex.raw('ALTER TABLE refund_attempts ADD CONSTRAINT refund_attempts_end_to_end_id_unique UNIQUE (end_to_end_id)');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_manual_code_check');
  await knex.raw('ALTER TABLE refunds DROP COLUMN manual_code');
  await knex.raw('ALTER TABLE refunds DROP COLUMN not_before');
  await knex.raw('DROP INDEX refunds_bank_end_to_end');
  await knex.raw('ALTER TABLE refunds DROP COLUMN end_to_end_id');
}
