import type { Knex } from 'knex';

// Signed PDF vouchers on record. A voucher is requested in the transaction of its event
// (status pending) and rendered and signed by a job; its bytes and SHA-256 are then fixed.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('vouchers', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.text('section_id');
    t.text('bidder_id');
    t.jsonb('data').notNullable();
    t.text('record_sha256').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.binary('pdf');
    t.text('pdf_sha256');
    t.text('signer_subject');
    t.timestamp('signed_at', { useTz: true });
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['kind', 'subject_type', 'subject_id']);
  });
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_kind_check CHECK (kind IN ('deposit_receipt','refund_voucher','verification_report','opening_roster','claim_notice','reconciliation_report'))`);
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_status_check CHECK (status IN ('pending','signed','failed'))`);
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_signed_check CHECK (status <> 'signed' OR (pdf IS NOT NULL AND pdf_sha256 IS NOT NULL AND signed_at IS NOT NULL))`);
  await knex.raw('CREATE INDEX vouchers_pending ON vouchers (created_at) WHERE status = \'pending\'');
  await knex.raw('CREATE INDEX vouchers_section ON vouchers (section_id)');
  await knex.raw('CREATE INDEX vouchers_bidder ON vouchers (bidder_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('vouchers');
}
