// Amounts are integer fen held as bigint. The API and bank files write them as decimal
// strings; these two functions are the only places that cross between the two forms.

export const currency = 'CNY' as const;
export type Currency = typeof currency;

/** More than 15 integer digits is beyond any amount a Chinese bank system carries (and beyond
 *  what a double could ever have held exactly, should a caller have passed one through). */
export const amountIntegerDigitsMax = 15;

export class InvalidAmount extends Error {
  constructor(readonly input: string, readonly reason: string) {
    super(`invalid amount ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}: ${reason}`);
    this.name = 'InvalidAmount';
  }
}

const amountPattern = /^(\d+)(?:\.(\d{1,2}))?$/;

/** Parse "50000.00", "50000", "0.5" into fen. Rejects signs, exponents, spaces, more than two
 *  decimals and more than `amountIntegerDigitsMax` integer digits. */
export function parseAmount(input: string, opts: { allowZero?: boolean } = {}): bigint {
  if (typeof input !== 'string') throw new InvalidAmount(String(input), 'must be a decimal string');
  const m = amountPattern.exec(input);
  if (!m) {
    let reason = 'must be a decimal string like "50000.00"';
    if (/^-/.test(input)) reason = 'must not be negative';
    else if (/e/i.test(input)) reason = 'exponent forms are not accepted';
    else if (/^\d+\.\d{3,}$/.test(input)) reason = 'at most two decimal places';
    throw new InvalidAmount(input, reason);
  }
  const integer = m[1].replace(/^0+(?=\d)/, '');
  if (integer.length > amountIntegerDigitsMax) {
    throw new InvalidAmount(input, `at most ${amountIntegerDigitsMax} integer digits`);
  }
  const fraction = (m[2] ?? '').padEnd(2, '0');
  const fen = BigInt(integer) * 100n + BigInt(fraction);
  if (fen === 0n && !opts.allowZero) throw new InvalidAmount(input, 'must be greater than zero');
  return fen;
}

/** Parse a bank file's decimal (which may carry any number of trailing zero decimals, e.g.
 *  "1000.000") into fen; a non-zero third decimal is an error, never rounded. Signs are
 *  rejected: banks express direction with a separate indicator. */
export function parseBankDecimal(input: string): bigint {
  const s = input.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new InvalidAmount(input, 'not a plain decimal');
  const extra = (m[2] ?? '').slice(2);
  if (/[1-9]/.test(extra)) throw new InvalidAmount(input, 'has fractions of a fen');
  const integer = m[1].replace(/^0+(?=\d)/, '');
  if (integer.length > amountIntegerDigitsMax) {
    throw new InvalidAmount(input, `at most ${amountIntegerDigitsMax} integer digits`);
  }
  return BigInt(integer) * 100n + BigInt((m[2] ?? '').slice(0, 2).padEnd(2, '0'));
}

/** fen -> "50000.00" (negative amounts keep their sign, for ledger balances). */
export function formatAmount(fen: bigint): string {
  const negative = fen < 0n;
  const abs = negative ? -fen : fen;
  const s = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return negative ? `-${s}` : s;
}

export function assertFen(value: unknown, what: string): asserts value is bigint {
  if (typeof value !== 'bigint') throw new Error(`assertion: ${what} must be a bigint, got ${typeof value}`);
}

/** numerator / denominator rounded half-up (away from zero at exactly one half), in bigint:
 *  the one rounding step interest and fees take, at the very end. */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new Error('assertion: denominator must be positive');
  if (numerator < 0n) return -divRoundHalfUp(-numerator, denominator);
  return (numerator * 2n + denominator) / (denominator * 2n);
}
