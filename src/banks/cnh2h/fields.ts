// Envelope heads and strict field readers: every protocol field is a string, checked for
// presence and length, and every error names the field it is about.
import { BankMessageInvalid } from '../types';
import { parseBankDecimal } from '../../domain/money';
import { parseJsonStrict, RepeatedJsonKey } from '../../domain/json';
import { shanghaiParts } from '../iso20022/time';
import { cnh2hBodyBytesMax, cnh2hRetCodeOk, type Cnh2hEnvelopeOptions, type Cnh2hRequestHead, type Cnh2hResponse, type Cnh2hResponseHead } from './types';

// ------------------------------------------------------------------------------------------
// Small helpers

/** Truncates by code points, never splitting a surrogate pair (rare CJK names use them). */
export function truncateChars(value: string, charsMax: number): string {
  const chars = Array.from(value);
  return chars.length <= charsMax ? value : chars.slice(0, charsMax).join('');
}

export function requestHead(transCode: string, reqSeqNo: string, opts: Cnh2hEnvelopeOptions): Cnh2hRequestHead {
  const p = shanghaiParts(opts.now ?? new Date());
  return { transCode, reqSeqNo, transDate: p.compactDate, transTime: p.compactTime, custNo: opts.custNo ?? '' };
}

export function responseHead(transCode: string, reqSeqNo: string, retCode: string, retMsg: string, opts: Cnh2hEnvelopeOptions): Cnh2hResponseHead {
  const p = shanghaiParts(opts.now ?? new Date());
  return {
    transCode,
    reqSeqNo,
    respSeqNo: opts.respSeqNo ?? `R${p.compactDate}${p.compactTime}${reqSeqNo}`.slice(0, 32),
    transDate: p.compactDate,
    transTime: p.compactTime,
    retCode,
    retMsg,
  };
}

/** Parses a JSON message given as bytes, text or an already parsed value. */
export function cnh2hReadJson(input: unknown, what: string): Record<string, unknown> {
  let value = input;
  if (Buffer.isBuffer(input) || typeof input === 'string') {
    const bytes = Buffer.isBuffer(input) ? input.length : Buffer.byteLength(input, 'utf8');
    if (bytes > cnh2hBodyBytesMax) throw new BankMessageInvalid(`${what}: body of ${bytes} bytes exceeds ${cnh2hBodyBytesMax}`);
    try {
      value = parseJsonStrict(Buffer.isBuffer(input) ? input.toString('utf8') : input);
    } catch (err) {
      if (err instanceof RepeatedJsonKey) throw new BankMessageInvalid(`${what}: ${err.message}`, err.path);
      throw new BankMessageInvalid(`${what}: not JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BankMessageInvalid(`${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function obj(parent: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const v = parent[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BankMessageInvalid(`${path}.${key}: expected an object`);
  return v as Record<string, unknown>;
}

export function arr(parent: Record<string, unknown>, key: string, path: string, itemsMax: number): unknown[] {
  const v = parent[key];
  if (!Array.isArray(v)) throw new BankMessageInvalid(`${path}.${key}: expected an array`);
  if (v.length > itemsMax) throw new BankMessageInvalid(`${path}.${key}: ${v.length} items exceed ${itemsMax}`);
  return v;
}

/** Every field of the protocol is a string: numbers would lose account digits and fen. */
export function str(parent: Record<string, unknown>, key: string, path: string, charsMax: number): string {
  const v = parent[key];
  if (typeof v !== 'string' || v.length === 0) throw new BankMessageInvalid(`${path}.${key}: expected a non-empty string`);
  if (Array.from(v).length > charsMax) throw new BankMessageInvalid(`${path}.${key}: longer than ${charsMax} characters`);
  if (isUnstorable(v)) throw new BankMessageInvalid(`${path}.${key}: contains a NUL character or half of a surrogate pair`);
  return v;
}

/** What no text column can hold: PostgreSQL refuses U+0000, and a lone surrogate is not Unicode
 *  (UTF-8 has no encoding for it). Refused where the message is read, never at the insert. The
 *  plain character class settles almost every field; only text with a surrogate pair (rare CJK)
 *  takes the second look. */
const suspectText = /[\u0000\uD800-\uDFFF]/;
const unstorableText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function isUnstorable(v: string): boolean {
  return suspectText.test(v) && unstorableText.test(v);
}

export function optStr(parent: Record<string, unknown>, key: string, path: string, charsMax: number): string | undefined {
  const v = parent[key];
  if (v === undefined || v === null || v === '') return undefined;
  return str(parent, key, path, charsMax);
}

export function amount(parent: Record<string, unknown>, key: string, path: string, opts: { allowZero?: boolean } = {}): bigint {
  const raw = str(parent, key, path, 40);
  let fen: bigint;
  try {
    fen = parseBankDecimal(raw);
  } catch (err) {
    throw new BankMessageInvalid(`${path}.${key}: ${(err as Error).message}`);
  }
  if (fen === 0n && !opts.allowZero) throw new BankMessageInvalid(`${path}.${key}: must be greater than zero`);
  return fen;
}

/** Totals and balances may exceed the 15 integer digits of one amount (a batch of many
 *  maximal payments); they are read exactly up to 18 digits in all. */
export const cnh2hTotalDigitsMax = 18;
export function total(parent: Record<string, unknown>, key: string, path: string): bigint {
  const raw = str(parent, key, path, 40);
  const m = /^(\d+)\.(\d{2})$/.exec(raw);
  if (!m || m[1].length + 2 > cnh2hTotalDigitsMax) throw new BankMessageInvalid(`${path}.${key}: not a decimal "0.00" of at most ${cnh2hTotalDigitsMax} digits`);
  return BigInt(m[1]) * 100n + BigInt(m[2]);
}

export function oneOf<T extends string>(parent: Record<string, unknown>, key: string, path: string, allowed: readonly T[]): T {
  const v = str(parent, key, path, 10);
  if (!(allowed as readonly string[]).includes(v)) throw new BankMessageInvalid(`${path}.${key}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  return v as T;
}

export function count(parent: Record<string, unknown>, key: string, path: string): number {
  const v = str(parent, key, path, 10);
  if (!/^\d{1,9}$/.test(v)) throw new BankMessageInvalid(`${path}.${key}: not a count`);
  return Number(v);
}

const cnapsPattern = /^\d{12}$/;
export function optBankNo(parent: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = optStr(parent, key, path, 12);
  if (v !== undefined && !cnapsPattern.test(v)) throw new BankMessageInvalid(`${path}.${key}: not a 12-digit CNAPS code`);
  return v;
}

export function cnh2hParseRequestHead(message: Record<string, unknown>): Cnh2hRequestHead {
  const head = obj(message, 'head', '');
  return {
    transCode: str(head, 'transCode', 'head', 10),
    reqSeqNo: str(head, 'reqSeqNo', 'head', 32),
    transDate: str(head, 'transDate', 'head', 8),
    transTime: str(head, 'transTime', 'head', 6),
    custNo: headText(head, 'custNo'),
  };
}

/** A head field read leniently (absent or not a string is ''), but never text no column can hold:
 *  the response serials become a statement's message id. */
function headText(head: Record<string, unknown>, key: string): string {
  const v = head[key];
  if (typeof v !== 'string') return '';
  if (isUnstorable(v)) throw new BankMessageInvalid(`head.${key}: contains a NUL character or half of a surrogate pair`);
  return v;
}

export function cnh2hParseResponseHead(message: Record<string, unknown>): Cnh2hResponseHead {
  const head = obj(message, 'head', '');
  return {
    transCode: str(head, 'transCode', 'head', 10),
    reqSeqNo: headText(head, 'reqSeqNo'),
    respSeqNo: headText(head, 'respSeqNo'),
    transDate: headText(head, 'transDate'),
    transTime: headText(head, 'transTime'),
    retCode: str(head, 'retCode', 'head', 10),
    retMsg: headText(head, 'retMsg'),
  };
}

/** A whole-request refusal (any trade code): head only. */
export function cnh2hBuildErrorResponse(
  transCode: string,
  reqSeqNo: string,
  retCode: string,
  retMsg: string,
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hResponse<never> {
  if (retCode === cnh2hRetCodeOk) throw new Error('assertion: an error response needs an error code');
  return { head: responseHead(transCode, reqSeqNo, retCode, retMsg, opts) };
}
