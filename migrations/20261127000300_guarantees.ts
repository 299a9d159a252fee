import type { Knex } from 'knex';

// E-guarantees (电子保函), applications for them, and the signed messages the service sends to
// issuers (applications, claims, releases) with every delivery attempt. Amounts are bigint fen.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('guarantee_applications', (t) => {
    t.text('id').primary();
    t.text('section_id').notNullable().references('sections.id');
    t.text('bidder_id').notNullable().references('bidders.id');
    t.text('issuer_id').notNullable().references('issuers.id');
    t.text('kind').notNullable();
    t.text('status').notNullable().defaultTo('submitted');
    t.text('guarantee_id');
    t.text('decline_reason');
    t.text('requested_by_type').notNullable();
    t.text('requested_by_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE guarantee_applications ADD CONSTRAINT guarantee_applications_status_check CHECK (status IN ('submitted','sent','issued','declined','refused'))`);
  await knex.raw(`ALTER TABLE guarantee_applications ADD CONSTRAINT guarantee_applications_kind_check CHECK (kind IN ('bank','insurance','guarantor'))`);
  await knex.raw('CREATE INDEX guarantee_applications_bidder ON guarantee_applications (bidder_id, id)');

  await knex.schema.createTable('guarantees', (t) => {
    t.text('id').primary();
    t.text('issuer_id').notNullable().references('issuers.id');
    t.text('number').notNullable();
    t.text('kind').notNullable();
    t.text('status').notNullable();
    t.text('application_id').references('guarantee_applications.id');
    // A guarantee is only stored once its section and bidder are identified (else 422).
    t.text('section_id').notNullable().references('sections.id');
    t.text('bidder_id').notNullable().references('bidders.id');
    t.text('applicant_uscc').notNullable();
    t.text('applicant_name').notNullable();
    t.text('beneficiary_uscc').notNullable();
    t.text('beneficiary_name').notNullable();
    t.text('project_code').notNullable();
    t.text('section_code').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('currency').notNullable();
    t.date('valid_from').notNullable();
    t.date('valid_to').notNullable();
    t.text('issuing_bank_code');
    t.timestamp('issued_at', { useTz: true }).notNullable();
    t.text('document_sha256').notNullable();
    t.jsonb('checks').notNullable();
    t.text('event_id').notNullable();
    t.text('certificate_fingerprint').notNullable();
    t.text('claim_reason');
    t.bigInteger('claim_amount_fen');
    t.text('claimed_by');
    t.timestamp('claimed_at', { useTz: true });
    t.text('release_reason');
    t.timestamp('released_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // R7: a guarantee number is unique per issuer, rejected ones included.
    t.unique(['issuer_id', 'number']);
  });
  await knex.raw(`ALTER TABLE guarantees ADD CONSTRAINT guarantees_status_check CHECK (status IN ('issued','amended','secured','released','claimed','claim_paid','claim_refused','rejected','cancelled','expired'))`);
  await knex.raw(`ALTER TABLE guarantees ADD CONSTRAINT guarantees_kind_check CHECK (kind IN ('bank','insurance','guarantor'))`);
  await knex.raw(`ALTER TABLE guarantees ADD CONSTRAINT guarantees_amount_check CHECK (amount_fen > 0 AND (claim_amount_fen IS NULL OR (claim_amount_fen > 0 AND claim_amount_fen <= amount_fen)))`);
  await knex.raw(`ALTER TABLE guarantees ADD CONSTRAINT guarantees_validity_check CHECK (valid_from <= valid_to)`);
  await knex.raw(`ALTER TABLE guarantees ADD CONSTRAINT guarantees_claim_check CHECK (status NOT IN ('claimed','claim_paid','claim_refused') OR (claim_reason IS NOT NULL AND claim_amount_fen IS NOT NULL AND claimed_by IS NOT NULL))`);
  // R7: one live guarantee secures one bidder on one section, enforced under concurrency.
  await knex.raw(`CREATE UNIQUE INDEX guarantees_one_live_per_bidder ON guarantees (section_id, bidder_id) WHERE status NOT IN ('rejected','cancelled','expired')`);
  await knex.raw('CREATE INDEX guarantees_section ON guarantees (section_id, id)');
  await knex.raw('CREATE INDEX guarantees_bidder ON guarantees (bidder_id, id)');

  // Amendments, cancellations and claim outcomes as the issuer sent them.
  await knex.schema.createTable('guarantee_events', (t) => {
    t.bigIncrements('seq').primary();
    t.text('guarantee_id').notNullable().references('guarantees.id');
    t.text('type').notNullable();
    t.text('from_status').notNullable();
    t.text('to_status').notNullable();
    t.text('event_id').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX guarantee_events_guarantee ON guarantee_events (guarantee_id, seq)');

  await knex.schema.createTable('issuer_messages', (t) => {
    t.text('id').primary();
    t.text('issuer_id').notNullable().references('issuers.id');
    t.text('kind').notNullable();
    t.text('subject_id').notNullable();
    t.text('url').notNullable();
    // The exact bytes that are signed and sent, the same on every attempt.
    t.text('body').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE issuer_messages ADD CONSTRAINT issuer_messages_status_check CHECK (status IN ('pending','sending','sent','failed'))`);
  await knex.raw(`ALTER TABLE issuer_messages ADD CONSTRAINT issuer_messages_kind_check CHECK (kind IN ('application','claim','release'))`);
  await knex.raw(`CREATE INDEX issuer_messages_unsent ON issuer_messages (updated_at) WHERE status IN ('pending','sending')`);
  await knex.schema.createTable('issuer_message_attempts', (t) => {
    t.bigIncrements('seq').primary();
    t.text('message_id').notNullable().references('issuer_messages.id');
    t.integer('attempt').notNullable();
    t.integer('http_status');
    t.text('error');
    t.integer('duration_ms').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['message_id', 'attempt']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['issuer_message_attempts', 'issuer_messages', 'guarantee_events', 'guarantees', 'guarantee_applications']) await knex.schema.dropTable(t);
}
