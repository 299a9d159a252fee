// Strict reading of customer API bodies: a field the route does not know is refused rather than
// ignored, because a misspelt option ("bookingDateonly") silently ignored runs a different test
// from the one its author meant. Each error names the field (param).
import { InvalidAmount, parseAmount } from '../domain/money';
import { SandboxError } from './errors';

export function strictBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SandboxError(400, 'invalid_request', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!fields.includes(key)) throw new SandboxError(400, 'invalid_request', `unknown field ${JSON.stringify(key)}; expected ${fields.length ? fields.join(', ') : 'no body'}`, key);
    const v = b[key];
    if (typeof v === 'string' && !isStorableText(v)) {
      throw new SandboxError(400, 'invalid_request', `${key} must be text without NUL characters or halves of surrogate pairs`, key);
    }
  }
  return b;
}

/** A body that may be absent: a route that reads nothing still refuses fields it would ignore. */
export function emptyBody(body: unknown): void {
  if (body !== undefined) strictBody(body, []);
}

/** PostgreSQL text cannot hold U+0000 (the insert fails), and a lone surrogate is not Unicode:
 *  UTF-8 encoding would silently store U+FFFD in its place. Both are refused where they arrive. */
const unstorableText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export function isStorableText(value: string): boolean {
  return !unstorableText.test(value);
}

/** A decimal string ("50000.00"), never a JSON number: a double cannot carry every fen. */
export function amountField(b: Record<string, unknown>, key: string): bigint {
  try {
    return parseAmount(b[key] as string);
  } catch (e) {
    if (e instanceof InvalidAmount) throw new SandboxError(400, 'invalid_request', `${key}: ${e.message}`, key);
    throw e;
  }
}

export function optionalBooleanField(b: Record<string, unknown>, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new SandboxError(400, 'invalid_request', `${key} must be true or false`, key);
  return v;
}

/** An Idempotency-Key header, when given. */
export const idempotencyKeyLengthMax = 200;
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key !== undefined && (key.length === 0 || key.length > idempotencyKeyLengthMax)) {
    throw new SandboxError(400, 'invalid_request', `Idempotency-Key must be 1-${idempotencyKeyLengthMax} characters`);
  }
  return key;
}
