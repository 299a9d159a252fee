import type { Knex } from 'knex';

// The audit chain is extended inside COMMIT. Each event's hash covers its predecessor's, so
// appends are serial under one lock, held to the end of the appending transaction. Taken by the
// application just before it commits, that lock was held across round trips to the client: the
// read of the last hash, the insert, and the wait until the client got round to sending COMMIT;
// on a busy api process that wait is the event loop's, and every appending transaction queued
// behind it. Here a transaction writes its events to audit_pending (no lock), and a deferred
// trigger moves them into audit_events at COMMIT: it takes the lock, reads the last hash (a
// VOLATILE function takes a fresh snapshot for each query, so it sees every event the previous
// holder committed), chains the hashes and inserts them in order, all inside the server; the lock is released when the commit is done.
//
// The application sends each event with its canonical JSON (src/audit/canonical.ts) cut where
// the predecessor's hash goes: "prevHash" sorts last among the hashed keys, so the text is
// hash_prefix || prev_hash || hash_suffix, and the hash is the SHA-256 of its UTF-8 bytes, exactly
// what verifyChain recomputes. The lock key is the chain's (src/audit/repo.ts).
//
// audit_pending rows never outlive their transaction (moved out at its commit, gone with its
// rollback), so the table is unlogged: no WAL for rows nobody will ever read back.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE audit_pending (
      n bigserial PRIMARY KEY,
      tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
      id text NOT NULL,
      at timestamptz NOT NULL,
      actor_type text NOT NULL,
      actor_id text,
      action text NOT NULL,
      entity_type text,
      entity_id text,
      data jsonb NOT NULL,
      hash_prefix text NOT NULL,
      hash_suffix text NOT NULL
    )`);
  await knex.raw('CREATE INDEX audit_pending_tx ON audit_pending (tx, n)');
  await knex.raw(`
    CREATE FUNCTION audit_pending_chain() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      prev text;
      h text;
      e record;
    BEGIN
      -- One row's trigger moves all of the transaction's events; the others were moved with it.
      -- They learn so from a transaction-local mark, not by looking in audit_pending: the moved
      -- rows stay in its index as dead entries until the transaction ends, so a look per row
      -- would cost the whole set each time (quadratic in the events of a transaction).
      IF NEW.n <= coalesce(nullif(current_setting('bidbond.audit_chained_through', true), ''), '0')::bigint THEN RETURN NULL; END IF;
      PERFORM pg_advisory_xact_lock(7243001);
      -- A loop, not a recursive query: each step of a recursive CTE joins the whole set again,
      -- which made a transaction of 10,000 events (a large termination) take 20 s at COMMIT.
      SELECT hash INTO prev FROM audit_events ORDER BY seq DESC LIMIT 1;
      prev := coalesce(prev, repeat('0', 64));
      FOR e IN SELECT * FROM audit_pending WHERE tx = pg_current_xact_id() ORDER BY n LOOP
        h := encode(sha256(convert_to(e.hash_prefix || prev || e.hash_suffix, 'UTF8')), 'hex');
        INSERT INTO audit_events (id, at, actor_type, actor_id, action, entity_type, entity_id, data, prev_hash, hash)
        VALUES (e.id, e.at, e.actor_type, e.actor_id, e.action, e.entity_type, e.entity_id, e.data, prev, h);
        prev := h;
      END LOOP;
      PERFORM set_config('bidbond.audit_chained_through', (SELECT max(n) FROM audit_pending WHERE tx = pg_current_xact_id())::text, true);
      DELETE FROM audit_pending WHERE tx = pg_current_xact_id();
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER audit_pending_chained AFTER INSERT ON audit_pending DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_pending_chain()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE audit_pending');
  await knex.raw('DROP FUNCTION audit_pending_chain()');
}
