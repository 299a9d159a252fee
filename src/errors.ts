// The service's error vocabulary. Services throw these; one HTTP middleware maps them to
// {error: {type, code, message, rule, param, requestId}} and a status, so the mapping is in one
// place and a caller always learns which rule was broken.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rule_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'api_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly extra: { rule?: string; param?: string; details?: unknown } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends ApiError {
  constructor(code: string, message: string, param?: string, details?: unknown) {
    super(400, 'invalid_request_error', code, message, { param, details });
  }
}

export class Unauthorized extends ApiError {
  constructor(code: string, message: string) {
    super(401, 'authentication_error', code, message);
  }
}

/** Also what a caller gets for another party's record: its existence is not revealed. */
export class NotFound extends ApiError {
  constructor(what: string, id?: string) {
    super(404, 'not_found_error', 'not_found', id ? `no ${what} ${id}` : `no such ${what}`);
  }
}

/** A legal request in the wrong state (e.g. opening before the deadline). */
export class Conflict extends ApiError {
  constructor(code: string, message: string, rule?: string) {
    super(409, 'conflict_error', code, message, { rule });
  }
}

/** A business rule (R1–R19) is broken. */
export class RuleViolation extends ApiError {
  constructor(rule: string, code: string, message: string, param?: string, details?: unknown) {
    super(422, 'rule_error', code, message, { rule, param, details });
  }
}

export class IdempotencyKeyReused extends ApiError {
  constructor() {
    super(422, 'idempotency_error', 'idempotency_key_reused', 'this Idempotency-Key was used with a different request body');
  }
}

export class IdempotencyInProgress extends ApiError {
  constructor() {
    super(409, 'idempotency_error', 'idempotency_request_in_progress', 'a request with this Idempotency-Key is still being processed; retry later');
  }
}

export class PayloadTooLarge extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'invalid_request_error', 'payload_too_large', `request body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaType extends ApiError {
  constructor(expected: string) {
    super(415, 'invalid_request_error', 'unsupported_media_type', `expected Content-Type ${expected}`);
  }
}

export class RateLimited extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limit_error', 'rate_limited', `too many requests; retry after ${retryAfterSeconds} s`);
  }
}

export class ServiceUnavailable extends ApiError {
  constructor(code: string, message: string) {
    super(503, 'api_error', code, message);
  }
}

/** A programmer error: the invariant is broken and continuing could move money wrongly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Well-formed but semantically invalid input that no rule id names (a bad check digit). */
export class Unprocessable extends ApiError {
  constructor(code: string, message: string, param?: string) {
    super(422, 'invalid_request_error', code, message, { param });
  }
}
