import type { Knex } from 'knex';

// What real banks do after the fact: a credit taken back (reversal), a refund sent back by the
// payee's bank (退汇), a booking reported only as a date, interest credited to the trust account.
//   deposits  `reversed` (the bank took the money back) and `held` (R3 cannot be decided from a
//             date-only booking notified after the deadline: the centre decides);
//   refunds   `returned` (the payee's bank sent the money back: owed to the bidder again);
//   credits   the booking reported as a date only, and when the notice arrived;
//   bank_exceptions  what a person must look at that is not a reconciliation line: a reversal that
//             matches no credit, or one after the opening; a return that matches no refund; an
//             entry in another currency; references that cannot tell two entries apart.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE deposits DROP CONSTRAINT deposits_status_check');
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_status_check CHECK (status IN ('received','valid','invalid','suspense','forfeited','refunded','reversed','held'))`);
  await knex.raw('ALTER TABLE deposits ADD COLUMN reversed_at timestamptz');
  await knex.raw('ALTER TABLE deposits ADD COLUMN held_reason text');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_status_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('scheduled','submitted','settled','returned','manual'))`);
  await knex.raw('ALTER TABLE refunds ADD COLUMN returned_at timestamptz');
  await knex.raw('ALTER TABLE refunds ADD COLUMN return_reason_code text');
  await knex.raw('ALTER TABLE credits ADD COLUMN booking_date_only boolean NOT NULL DEFAULT false');
  await knex.raw('ALTER TABLE credits ADD COLUMN notified_at timestamptz');
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_kind_check');
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_kind_check CHECK (kind IN ('deposit_receipt','refund_voucher','verification_report','opening_roster','claim_notice','reconciliation_report','deposit_reversal','refund_return'))`);
  await knex.schema.createTable('bank_exceptions', (t) => {
    t.text('id').primary();
    t.text('bank_id').notNullable().references('banks.id');
    t.text('kind').notNullable();
    t.text('entry_ref').notNullable();
    t.text('message_id');
    t.bigInteger('amount_fen');
    t.text('currency');
    t.text('section_id').references('sections.id');
    t.text('bidder_id').references('bidders.id');
    t.text('deposit_id').references('deposits.id');
    t.text('refund_id').references('refunds.id');
    t.text('detail').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('open');
    t.text('resolution');
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // One exception per bank entry and kind, however often the entry is notified.
    t.unique(['bank_id', 'entry_ref', 'kind']);
  });
  await knex.raw(`ALTER TABLE bank_exceptions ADD CONSTRAINT bank_exceptions_kind_check CHECK (kind IN ('reversal_unmatched','reversal_after_opening','return_unmatched','foreign_currency','reference_clash','not_our_account'))`);
  await knex.raw(`ALTER TABLE bank_exceptions ADD CONSTRAINT bank_exceptions_status_check CHECK (status IN ('open','resolved'))`);
  await knex.raw(`CREATE INDEX bank_exceptions_open ON bank_exceptions (bank_id, created_at) WHERE status = 'open'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bank_exceptions');
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_kind_check');
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_kind_check CHECK (kind IN ('deposit_receipt','refund_voucher','verification_report','opening_roster','claim_notice','reconciliation_report'))`);
  await knex.raw('ALTER TABLE credits DROP COLUMN notified_at');
  await knex.raw('ALTER TABLE credits DROP COLUMN booking_date_only');
  await knex.raw('ALTER TABLE refunds DROP COLUMN return_reason_code');
  await knex.raw('ALTER TABLE refunds DROP COLUMN returned_at');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_status_check');
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('scheduled','submitted','settled','manual'))`);
  await knex.raw('ALTER TABLE deposits DROP COLUMN held_reason');
  await knex.raw('ALTER TABLE deposits DROP COLUMN reversed_at');
  await knex.raw('ALTER TABLE deposits DROP CONSTRAINT deposits_status_check');
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_status_check CHECK (status IN ('received','valid','invalid','suspense','forfeited','refunded'))`);
}
