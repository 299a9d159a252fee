import type { Knex } from 'knex';

// Callers, idempotency, the audit chain and the outbox that hands work to the queues.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('key_hash').notNullable().unique();
    t.text('role').notNullable();
    t.text('tenderee_id');
    t.text('bidder_id');
    t.text('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (
    (role = 'centre' AND tenderee_id IS NULL AND bidder_id IS NULL) OR
    (role = 'auditor' AND tenderee_id IS NULL AND bidder_id IS NULL) OR
    (role = 'tenderee' AND tenderee_id IS NOT NULL AND bidder_id IS NULL) OR
    (role = 'bidder' AND bidder_id IS NOT NULL AND tenderee_id IS NULL))`);

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('caller_id').notNullable();
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['caller_id', 'key']);
  });
  await knex.raw('CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)');

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('seq').primary();
    t.text('id').notNullable().unique();
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.text('action').notNullable();
    t.text('entity_type');
    t.text('entity_id');
    t.jsonb('data').notNullable();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable().unique();
  });
  await knex.raw('CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id)');
  // Append-only: the chain is there to expose edits, and the database refuses the ordinary ones.
  await knex.raw(`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`);
  await knex.raw(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW WHEN (current_setting('bidbond.audit_maintenance', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION audit_events_append_only()`);

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('seq').primary();
    t.text('queue').notNullable();
    t.text('job_name').notNullable();
    t.text('job_id').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('dispatched_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX outbox_pending ON outbox (seq) WHERE dispatched_at IS NULL');

  await knex.schema.createTable('webhook_events', (t) => {
    t.text('sender_type').notNullable();
    t.text('sender_id').notNullable();
    t.text('event_id').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['sender_type', 'sender_id', 'event_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_events');
  await knex.schema.dropTable('outbox');
  await knex.raw('DROP TABLE audit_events');
  await knex.raw('DROP FUNCTION audit_events_append_only');
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('api_keys');
}
