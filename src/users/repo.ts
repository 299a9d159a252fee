// Queries of users and sessions; each takes the unit of work first.
import type { Knex } from 'knex';
import type { Role } from '../http/auth';

type Db = Knex | Knex.Transaction;

export interface UserRow {
  id: string;
  login: string;
  role: Role;
  tenderee_id: string | null;
  bidder_id: string | null;
  password_hash: string;
  disabled_at: Date | null;
  failed_attempts: number;
  locked_until: Date | null;
  created_at: Date;
  password_changed_at: Date;
}

export interface SessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  ip: string | null;
  user_agent: string | null;
}

export async function insertUser(
  db: Db,
  row: Pick<UserRow, 'id' | 'login' | 'role' | 'tenderee_id' | 'bidder_id' | 'password_hash'>,
): Promise<UserRow | undefined> {
  // A taken login is an answer, not an error: the transaction goes on to say so.
  const res = await db.raw(
    `INSERT INTO users (id, login, role, tenderee_id, bidder_id, password_hash) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT ((lower(login))) DO NOTHING RETURNING *`,
    [row.id, row.login, row.role, row.tenderee_id, row.bidder_id, row.password_hash],
  );
  return res.rows[0];
}

export async function findUserByLogin(db: Db, login: string, opts: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  const q = db<UserRow>('users').whereRaw('lower(login) = lower(?)', [login]).first();
  return opts.forUpdate ? q.forUpdate() : q;
}

export async function findUser(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  const q = db<UserRow>('users').where({ id }).first();
  return opts.forUpdate ? q.forUpdate() : q;
}

export async function recordFailure(db: Db, id: string, failedAttempts: number, lockedUntil: Date | null): Promise<void> {
  await db('users').where({ id }).update({ failed_attempts: failedAttempts, locked_until: lockedUntil });
}

export async function clearFailures(db: Db, id: string): Promise<void> {
  await db('users').where({ id }).update({ failed_attempts: 0, locked_until: null });
}

export async function setPassword(db: Db, id: string, passwordHash: string, now: Date): Promise<void> {
  await db('users').where({ id }).update({ password_hash: passwordHash, password_changed_at: now, failed_attempts: 0, locked_until: null });
}

export async function disableUser(db: Db, id: string, now: Date): Promise<boolean> {
  const n = await db('users').where({ id }).whereNull('disabled_at').update({ disabled_at: now });
  return n > 0;
}

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db('sessions').insert(row);
}

export async function findSessionWithUser(db: Db, id: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const row = await db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id', id)
    .first(
      's.id', 's.user_id', 's.csrf_token', 's.created_at', 's.last_seen_at', 's.expires_at', 's.revoked_at', 's.ip', 's.user_agent',
      'u.login', 'u.role', 'u.tenderee_id', 'u.bidder_id', 'u.disabled_at', 'u.password_hash', 'u.failed_attempts', 'u.locked_until', 'u.created_at as user_created_at', 'u.password_changed_at',
    );
  if (!row) return undefined;
  return {
    session: {
      id: row.id, user_id: row.user_id, csrf_token: row.csrf_token, created_at: row.created_at, last_seen_at: row.last_seen_at,
      expires_at: row.expires_at, revoked_at: row.revoked_at, ip: row.ip, user_agent: row.user_agent,
    },
    user: {
      id: row.user_id, login: row.login, role: row.role, tenderee_id: row.tenderee_id, bidder_id: row.bidder_id, password_hash: row.password_hash,
      disabled_at: row.disabled_at, failed_attempts: row.failed_attempts, locked_until: row.locked_until, created_at: row.user_created_at, password_changed_at: row.password_changed_at,
    },
  };
}

/** Records a use, unless one was recorded since `notBefore` (another request got there first). */
export async function touchSession(db: Db, id: string, now: Date, notBefore: Date): Promise<void> {
  await db('sessions').where({ id }).whereNull('revoked_at').where('last_seen_at', '<', notBefore).update({ last_seen_at: now });
}

export async function revokeSession(db: Db, id: string, now: Date): Promise<boolean> {
  const n = await db('sessions').where({ id }).whereNull('revoked_at').update({ revoked_at: now });
  return n > 0;
}

export async function revokeUserSessions(db: Db, userId: string, now: Date): Promise<number> {
  return db('sessions').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
}

export async function tendereeExists(db: Db, id: string): Promise<boolean> {
  return (await db('tenderees').where({ id }).first('id')) !== undefined;
}

export async function bidderExists(db: Db, id: string): Promise<boolean> {
  return (await db('bidders').where({ id }).first('id')) !== undefined;
}

/** Sessions over for longer than the grace, deleted a batch at a time. */
export async function deleteSessionsEndedBefore(db: Db, before: Date, limit: number): Promise<number> {
  const res = await db.raw(
    `DELETE FROM sessions WHERE id IN (
       SELECT id FROM sessions WHERE expires_at < ? OR revoked_at < ? ORDER BY expires_at LIMIT ?)`,
    [before, before, limit],
  );
  return res.rowCount ?? 0;
}
