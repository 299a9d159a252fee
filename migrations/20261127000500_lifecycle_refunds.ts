import type { Knex } from 'knex';

// The section lifecycle's records (the roster fixed at opening, the award and contract facts)
// and the execution of refunds: attempts sent to a bank, the amounts computed when a refund is
// submitted (R13), and the decisions a person records for a refund in manual handling (R17).
export async function up(knex: Knex): Promise<void> {
  // ---- sections: the lifecycle's facts ----------------------------------------------------
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS winner_bidder_id text');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS opened_at timestamptz');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS evaluation_report_at timestamptz');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS award_notice_at timestamptz');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS contract_signed_at timestamptz');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS terminated_at timestamptz');
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS termination_reason text');

  // The roster fixed at opening: one per section, never changed afterwards.
  await knex.schema.createTable('rosters', (t) => {
    t.text('id').primary();
    t.text('section_id').notNullable().unique().references('sections.id');
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.bigInteger('required_deposit_fen').notNullable();
    t.jsonb('entries').notNullable();
    t.text('voucher_id');
    t.text('opened_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // ---- refunds: amounts and state of execution ----------------------------------------------
  // Interest and late fee are known only when the money is paid (R13: to the refund's value
  // date); they are written once, when the refund settles, from the attempt that paid it.
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS interest_fen bigint');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS late_fee_fen bigint');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS value_date date');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS settled_at timestamptz');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS bank_reference text');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS attempts_count integer NOT NULL DEFAULT 0');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS last_reason_code text');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS manual_reason text');
  await knex.raw('ALTER TABLE refunds ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now()');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_extra_amounts_check CHECK ((interest_fen IS NULL OR interest_fen >= 0) AND (late_fee_fen IS NULL OR late_fee_fen >= 0))`);
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_settled_amounts_check CHECK (status <> 'settled' OR (interest_fen IS NOT NULL AND late_fee_fen IS NOT NULL AND value_date IS NOT NULL))`);
  // An amount once set is never changed: principal at scheduling, interest and fee at settlement.
  await knex.raw(`
    CREATE FUNCTION refunds_amounts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.principal_fen IS DISTINCT FROM OLD.principal_fen
         OR (OLD.interest_fen IS NOT NULL AND NEW.interest_fen IS DISTINCT FROM OLD.interest_fen)
         OR (OLD.late_fee_fen IS NOT NULL AND NEW.late_fee_fen IS DISTINCT FROM OLD.late_fee_fen) THEN
        RAISE EXCEPTION 'refund % amounts are fixed once set', OLD.id USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER refunds_amounts_immutable BEFORE UPDATE ON refunds FOR EACH ROW EXECUTE FUNCTION refunds_amounts_immutable()`);

  // One row per instruction sent (or about to be sent) to the bank. Its amounts are computed
  // when it is claimed and never change; a new attempt gets new end-to-end and message ids.
  await knex.schema.createTable('refund_attempts', (t) => {
    t.text('id').primary();
    t.text('refund_id').notNullable().references('refunds.id');
    t.integer('seq').notNullable();
    t.text('end_to_end_id').notNullable().unique();
    t.text('message_id').notNullable().unique();
    t.text('status').notNullable();
    t.bigInteger('principal_fen').notNullable();
    t.bigInteger('interest_fen').notNullable();
    t.bigInteger('late_fee_fen').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.date('value_date').notNullable();
    t.date('interest_from').notNullable();
    t.text('creditor_account_number').notNullable();
    t.text('creditor_account_name').notNullable();
    t.text('creditor_bank_code');
    t.text('reserve_journal_id').notNullable();
    t.text('bank_status');
    t.text('reason_code');
    t.text('reason_text');
    t.text('bank_reference');
    t.text('last_error');
    t.integer('polls').notNullable().defaultTo(0);
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('unknown_since', { useTz: true });
    t.timestamp('next_poll_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['refund_id', 'seq']);
  });
  await knex.raw(`ALTER TABLE refund_attempts ADD CONSTRAINT refund_attempts_status_check CHECK (status IN ('sending','sent','sent_unknown','settled','rejected','no_record'))`);
  await knex.raw(`ALTER TABLE refund_attempts ADD CONSTRAINT refund_attempts_amount_check CHECK (principal_fen > 0 AND interest_fen >= 0 AND late_fee_fen >= 0 AND amount_fen = principal_fen + interest_fen + late_fee_fen)`);
  // Never two instructions in flight for one refund, whatever two workers do at once.
  await knex.raw(`CREATE UNIQUE INDEX refund_attempts_one_in_flight ON refund_attempts (refund_id) WHERE status IN ('sending','sent','sent_unknown')`);
  await knex.raw(`CREATE INDEX refund_attempts_in_flight_poll ON refund_attempts (next_poll_at) WHERE status IN ('sending','sent','sent_unknown')`);
  await knex.raw(`
    CREATE FUNCTION refund_attempts_amounts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.principal_fen <> OLD.principal_fen OR NEW.interest_fen <> OLD.interest_fen OR NEW.late_fee_fen <> OLD.late_fee_fen
         OR NEW.amount_fen <> OLD.amount_fen OR NEW.creditor_account_number <> OLD.creditor_account_number
         OR NEW.end_to_end_id <> OLD.end_to_end_id OR NEW.message_id <> OLD.message_id THEN
        RAISE EXCEPTION 'refund attempt % is fixed once sent', OLD.id USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER refund_attempts_amounts_immutable BEFORE UPDATE ON refund_attempts FOR EACH ROW EXECUTE FUNCTION refund_attempts_amounts_immutable()`);

  // R17: what a person decided for a refund in manual handling, and where it goes next.
  await knex.schema.createTable('refund_decisions', (t) => {
    t.bigIncrements('seq').primary();
    t.text('refund_id').notNullable().references('refunds.id');
    t.text('decision').notNullable();
    t.text('account_number');
    t.text('account_name');
    t.text('account_bank_code');
    t.text('decided_by').notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX refund_decisions_refund ON refund_decisions (refund_id, seq)');
  await knex.raw('CREATE INDEX refunds_section ON refunds (section_id)');
  await knex.raw(`CREATE INDEX refunds_open_status ON refunds (status) WHERE status IN ('scheduled','submitted','manual')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS refund_decisions');
  await knex.raw('DROP TABLE IF EXISTS refund_attempts');
  await knex.raw('DROP FUNCTION IF EXISTS refund_attempts_amounts_immutable()');
  await knex.raw('DROP TRIGGER IF EXISTS refunds_amounts_immutable ON refunds');
  await knex.raw('DROP FUNCTION IF EXISTS refunds_amounts_immutable()');
  await knex.raw('DROP TABLE IF EXISTS rosters');
  for (const c of ['interest_fen', 'late_fee_fen', 'value_date', 'settled_at', 'bank_reference', 'attempts_count', 'last_reason_code', 'manual_reason', 'updated_at']) {
    await knex.raw(`ALTER TABLE refunds DROP COLUMN IF EXISTS ${c}`);
  }
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT IF EXISTS refunds_extra_amounts_check');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT IF EXISTS refunds_settled_amounts_check');
  for (const c of ['opened_at', 'evaluation_report_at', 'award_notice_at', 'contract_signed_at', 'terminated_at', 'termination_reason']) {
    await knex.raw(`ALTER TABLE sections DROP COLUMN IF EXISTS ${c}`);
  }
}
