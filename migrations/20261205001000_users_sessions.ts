import type { Knex } from 'knex';

// People who sign in to the console, and their browser sessions. A user speaks for the same
// parties an API key does (a role, and for tenderees and bidders the one party); a session is
// found by the SHA-256 of its cookie's token, so a leaked table does not leak sessions.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.text('id').primary();
    t.text('login').notNullable();
    t.text('role').notNullable();
    t.text('tenderee_id').references('tenderees.id');
    t.text('bidder_id').references('bidders.id');
    // scrypt$N$r$p$salt$hash: the parameters travel with the hash, so they can be raised later
    // without locking anyone out.
    t.text('password_hash').notNullable();
    t.timestamp('disabled_at', { useTz: true });
    t.integer('failed_attempts').notNullable().defaultTo(0);
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('password_changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Logins differ by more than case: "Zhang.Wei" and "zhang.wei" are one person.
  await knex.raw('CREATE UNIQUE INDEX users_login_lower ON users (lower(login))');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (
    (role = 'centre' AND tenderee_id IS NULL AND bidder_id IS NULL) OR
    (role = 'auditor' AND tenderee_id IS NULL AND bidder_id IS NULL) OR
    (role = 'tenderee' AND tenderee_id IS NOT NULL AND bidder_id IS NULL) OR
    (role = 'bidder' AND bidder_id IS NOT NULL AND tenderee_id IS NULL))`);
  await knex.raw('ALTER TABLE users ADD CONSTRAINT users_failed_attempts_check CHECK (failed_attempts >= 0)');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_password_hash_check CHECK (password_hash LIKE 'scrypt$%')`);

  await knex.schema.createTable('sessions', (t) => {
    t.text('id').primary();
    t.text('user_id').notNullable().references('users.id');
    t.text('csrf_token').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_seen_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.text('ip');
    t.text('user_agent');
  });
  await knex.raw(`ALTER TABLE sessions ADD CONSTRAINT sessions_id_check CHECK (id ~ '^[0-9a-f]{64}$')`);
  await knex.raw('ALTER TABLE sessions ADD CONSTRAINT sessions_expiry_check CHECK (expires_at > created_at AND last_seen_at >= created_at)');
  // Revoking a person's sessions (password reset, disable) finds the live ones by user.
  await knex.raw('CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL');
  await knex.raw('CREATE INDEX sessions_expires_at ON sessions (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sessions');
  await knex.schema.dropTable('users');
}
