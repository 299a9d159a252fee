import type { Knex } from 'knex';

// The audit chain is extended inside COMMIT. Each event's hash covers its predecessor's, so
// appends are serial under one lock, held to the end of the appending transaction. Taken by the
// application just before it commits, that lock was held across round trips to the client: the
// read of the last hash, the insert, and the wait until the client got round to sending COMMIT;
// on a busy api process that wait is the event loop's, and every appending transaction queued
// behind it. Here a transaction writes its events to audit_pending (no lock), and a deferred
// trigger moves them into audit_events at COMMIT: it takes the lock, reads the last hash (a
// VOLATILE function takes a fresh snapshot for each query, so it sees every event the previous
// holder committed), chains the hashes and inserts them in one multi-row INSERT, all inside the
// server; the lock is released when the commit is done.
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
    BEGIN
      -- One row's trigger moves all of the transaction's events; the others find none left.
      IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE tx = pg_current_xact_id()) THEN RETURN NULL; END IF;
      PERFORM pg_advisory_xact_lock(7243001);
      INSERT INTO audit_events (id, at, actor_type, actor_id, action, entity_type, entity_id, data, prev_hash, hash)
      WITH RECURSIVE ev AS (
        SELECT row_number() OVER (ORDER BY p.n) AS k, p.* FROM audit_pending p WHERE p.tx = pg_current_xact_id()
      ), chain (k, prev_hash, hash) AS (
        SELECT ev.k, h.prev, encode(sha256(convert_to(ev.hash_prefix || h.prev || ev.hash_suffix, 'UTF8')), 'hex')
        FROM ev, (SELECT coalesce((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), repeat('0', 64)) AS prev) h
        WHERE ev.k = 1
        UNION ALL
        SELECT ev.k, chain.hash, encode(sha256(convert_to(ev.hash_prefix || chain.hash || ev.hash_suffix, 'UTF8')), 'hex')
        FROM chain JOIN ev ON ev.k = chain.k + 1
      )
      SELECT ev.id, ev.at, ev.actor_type, ev.actor_id, ev.action, ev.entity_type, ev.entity_id, ev.data, chain.prev_hash, chain.hash
      FROM chain JOIN ev ON ev.k = chain.k
      ORDER BY chain.k;
      DELETE FROM audit_pending WHERE tx = pg_current_xact_id();
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER audit_pending_chained AFTER INSERT ON audit_pending DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_pending_chain()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE audit_pending');
  await knex.raw('DROP FUNCTION audit_pending_chain()');
}
