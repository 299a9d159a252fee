import type { Knex } from 'knex';

// Events out to the trading centre's other systems: derived from the audit chain by a relay
// that keeps its place in a stored cursor, listed to callers scoped like their subjects, and
// delivered, signed, to the endpoints the centre registers.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('events', (t) => {
    // The relay writes events one batch at a time under the cursor's lock, so this order is the
    // order of commit: a reader paging by it never skips an event written later with a lower key.
    t.bigIncrements('seq').primary();
    t.text('id').notNullable().unique();
    t.text('type').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('subject_type');
    t.text('subject_id');
    t.text('section_id');
    t.text('tenderee_id');
    t.text('bidder_id');
    t.text('issuer_id');
    t.text('bank_id');
    // Whether the event says anything about who bids on its section (R18: hidden from the
    // tenderee until the opening).
    t.boolean('reveals_bidders').notNullable();
    t.bigInteger('audit_seq');
    t.jsonb('data').notNullable();
  });
  // One event of a type per audit event, however often the relay runs.
  await knex.raw('CREATE UNIQUE INDEX events_audit_type ON events (audit_seq, type) WHERE audit_seq IS NOT NULL');
  await knex.raw('CREATE INDEX events_type ON events (type, seq)');
  await knex.raw('CREATE INDEX events_bidder ON events (bidder_id, seq) WHERE bidder_id IS NOT NULL');
  await knex.raw('CREATE INDEX events_tenderee ON events (tenderee_id, seq) WHERE tenderee_id IS NOT NULL');
  await knex.raw('CREATE INDEX events_issuer ON events (issuer_id, seq) WHERE issuer_id IS NOT NULL');
  await knex.raw('CREATE INDEX events_bank ON events (bank_id, seq) WHERE bank_id IS NOT NULL');
  await knex.raw(`CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'events are append-only'; END $$`);
  await knex.raw('CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()');

  await knex.schema.createTable('event_relay_cursors', (t) => {
    t.text('name').primary();
    t.bigInteger('audit_seq').notNullable();
    // A hole in the audit sequence seen right after audit_seq, and when it was first seen: it is
    // waited for a bounded time (a commit still in flight), then stepped over (a rollback).
    t.bigInteger('gap_after_seq');
    t.timestamp('gap_seen_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The relay starts at the beginning of the log, so a system that connects later can catch up
  // on everything that happened since the service first ran.
  await knex.raw(`INSERT INTO event_relay_cursors (name, audit_seq) VALUES ('events', 0)`);

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.text('id').primary();
    t.text('url').notNullable();
    t.specificType('event_types', 'text[]').notNullable();
    t.text('status').notNullable().defaultTo('enabled');
    t.text('description');
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Since when every attempt has failed; cleared by the first success.
    t.timestamp('failing_since', { useTz: true });
    t.timestamp('disabled_at', { useTz: true });
    t.text('disabled_reason');
    t.timestamp('deleted_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_status_check CHECK (status IN ('enabled','disabled','deleted'))`);
  await knex.raw(`ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_types_check CHECK (cardinality(event_types) > 0)`);

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.text('id').primary();
    t.text('endpoint_id').notNullable().references('webhook_endpoints.id');
    t.text('event_id').notNullable().references('events.id');
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The retry window runs from here; a redelivery starts a new one.
    t.timestamp('window_started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.text('last_error');
    t.unique(['endpoint_id', 'event_id']);
  });
  await knex.raw(`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending','sending','delivered','failed'))`);
  await knex.raw(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
  await knex.raw(`CREATE INDEX webhook_deliveries_sending ON webhook_deliveries (claimed_at) WHERE status = 'sending'`);

  await knex.schema.createTable('webhook_delivery_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.text('delivery_id').notNullable().references('webhook_deliveries.id');
    t.integer('attempt').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.integer('duration_ms').notNullable();
    t.integer('http_status');
    t.text('error');
    t.boolean('redelivery').notNullable().defaultTo(false);
    t.unique(['delivery_id', 'attempt']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_delivery_attempts');
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhook_endpoints');
  await knex.schema.dropTable('event_relay_cursors');
  await knex.raw('DROP TABLE events');
  await knex.raw('DROP FUNCTION events_append_only');
}
