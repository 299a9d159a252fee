// The answers of signing in and of sessions that the shared error vocabulary has no class for.
import { ApiError, Unauthorized } from '../errors';

/** Wrong password, unknown login and disabled account answer with this one error, word for word,
 *  so that the answer never tells which it was. */
export class InvalidCredentials extends Unauthorized {
  constructor() {
    super('invalid_credentials', 'the login or the password is wrong');
  }
}

/** Too many wrong passwords in a row: retry after the lock ends (Retry-After). */
export class AccountLocked extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'authentication_error', 'account_locked', `too many wrong passwords: the account is locked; retry after ${retryAfterSeconds} s`);
  }
}

/** A state-changing request on a session without the session's X-CSRF-Token. */
export class CsrfTokenInvalid extends ApiError {
  constructor() {
    super(403, 'authentication_error', 'csrf_token_invalid', 'X-CSRF-Token must be the csrfToken of this session (GET /v1/session)');
  }
}

export class NotSignedIn extends Unauthorized {
  constructor() {
    super('not_signed_in', 'sign in first (POST /v1/session)');
  }
}

export class SessionExpired extends Unauthorized {
  constructor() {
    super('session_expired', 'the session has ended (signed out, timed out or revoked): sign in again');
  }
}
