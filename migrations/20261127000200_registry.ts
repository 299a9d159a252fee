import type { Knex } from 'knex';

// Parties and sections. Amounts are bigint fen.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenderees', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('uscc').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('bidders', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('uscc').notNullable().unique();
    t.text('basic_bank_code').notNullable();
    t.text('basic_account_number').notNullable();
    t.text('basic_account_name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('issuers', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('kind').notNullable();
    t.text('bank_code');
    t.text('callback_url');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE issuers ADD CONSTRAINT issuers_kind_check CHECK (kind IN ('bank','insurance','guarantor'))`);
  await knex.raw(`ALTER TABLE issuers ADD CONSTRAINT issuers_bank_code_check CHECK (kind <> 'bank' OR bank_code IS NOT NULL)`);
  await knex.schema.createTable('banks', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('bank_code').notNullable();
    t.text('adapter').notNullable();
    t.text('endpoint').notNullable();
    t.text('trust_account_number').notNullable();
    t.text('trust_account_name').notNullable();
    t.text('virtual_account_prefix').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE banks ADD CONSTRAINT banks_adapter_check CHECK (adapter IN ('iso20022','cn-h2h','sandbox'))`);
  // Signing certificates of issuers and banks; several may be valid at once (rotation).
  await knex.schema.createTable('certificates', (t) => {
    t.text('fingerprint').primary();
    t.text('owner_type').notNullable();
    t.text('owner_id').notNullable();
    t.text('pem').notNullable();
    t.text('subject').notNullable();
    t.text('issuer_dn').notNullable();
    t.text('serial_number').notNullable();
    t.timestamp('not_before', { useTz: true }).notNullable();
    t.timestamp('not_after', { useTz: true }).notNullable();
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retired_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE certificates ADD CONSTRAINT certificates_owner_check CHECK (owner_type IN ('issuer','bank'))`);
  await knex.raw('CREATE INDEX certificates_owner ON certificates (owner_type, owner_id)');
  await knex.schema.createTable('sections', (t) => {
    t.text('id').primary();
    t.text('project_code').notNullable();
    t.text('section_code').notNullable();
    t.text('name').notNullable();
    t.text('tenderee_id').notNullable().references('tenderees.id');
    t.text('regime').notNullable();
    t.bigInteger('estimated_price_fen').notNullable();
    t.bigInteger('deposit_amount_fen').notNullable();
    t.bigInteger('deposit_cap_fen');
    t.text('currency').notNullable();
    t.timestamp('bid_deadline', { useTz: true }).notNullable();
    t.integer('bid_validity_days').notNullable();
    t.text('deposit_bank_id').references('banks.id');
    t.specificType('accepted_security', 'text[]').notNullable();
    t.text('guarantee_bank_match').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['project_code', 'section_code']);
  });
  await knex.raw(`ALTER TABLE sections ADD CONSTRAINT sections_amounts_check CHECK (estimated_price_fen > 0 AND deposit_amount_fen > 0 AND deposit_amount_fen * 50 <= estimated_price_fen AND (deposit_cap_fen IS NULL OR deposit_amount_fen <= deposit_cap_fen))`);
  await knex.raw(`ALTER TABLE sections ADD CONSTRAINT sections_regime_check CHECK (regime IN ('tendering_law','government_procurement'))`);
  await knex.raw(`ALTER TABLE sections ADD CONSTRAINT sections_status_check CHECK (status IN ('open','opened','awarded','contracted','closed','terminated'))`);
  await knex.raw('CREATE INDEX sections_tenderee ON sections (tenderee_id)');
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['sections', 'certificates', 'banks', 'issuers', 'bidders', 'tenderees']) await knex.schema.dropTable(t);
}
