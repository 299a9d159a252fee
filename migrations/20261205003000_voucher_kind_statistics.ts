import type { Knex } from 'knex';

// A statistics report (统计报表凭证) put on record as a signed voucher: the centre asks for it,
// and the figures it shows are frozen in the voucher's data.
const before = `'deposit_receipt','refund_voucher','verification_report','opening_roster','claim_notice','reconciliation_report','deposit_reversal','refund_return'`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_kind_check');
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_kind_check CHECK (kind IN (${before},'statistics'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DELETE FROM vouchers WHERE kind = 'statistics'`);
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_kind_check');
  await knex.raw(`ALTER TABLE vouchers ADD CONSTRAINT vouchers_kind_check CHECK (kind IN (${before}))`);
}
