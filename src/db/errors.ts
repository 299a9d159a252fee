// PostgreSQL errors translated by SQLSTATE in one place. Services prefer
// INSERT ... ON CONFLICT to catching these; what reaches here is a race or a constraint that
// guards an invariant, and the caller gets a clear 409 instead of a 500.
import { ApiError, Conflict, ServiceUnavailable } from '../errors';

export function translateDbError(err: unknown): ApiError | undefined {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (typeof e?.code !== 'string') {
    if (e?.message && /Timeout acquiring a connection|ECONNREFUSED|Connection terminated/.test(e.message)) {
      return new ServiceUnavailable('database_unavailable', 'the database is unavailable; retry later');
    }
    return undefined;
  }
  switch (e.code) {
    case '23505':
      return new Conflict('already_exists', `a record with these values already exists${e.constraint ? ` (${e.constraint})` : ''}`);
    case '23503':
      return new Conflict('referenced_record_missing', 'a referenced record does not exist');
    case '23514':
      return new Conflict('constraint_violated', `a consistency rule was violated${e.constraint ? ` (${e.constraint})` : ''}`);
    case '40001':
    case '40P01':
      return new Conflict('concurrent_update', 'the record was changed by a concurrent request; retry');
    case '57P01':
    case '08006':
    case '08001':
      return new ServiceUnavailable('database_unavailable', 'the database is unavailable; retry later');
    default:
      return undefined;
  }
}
