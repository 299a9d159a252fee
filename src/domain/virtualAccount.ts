// A virtual sub-account (虚拟子账号) = the deposit bank's `virtualAccountPrefix` + a serial of
// `virtualAccountSerialDigits` digits + one check digit.
//
// The check digit is ISO 7064 MOD 11,10, not Luhn. Both catch every single mistyped digit and
// about 98% of swapped neighbours, but Luhn catches none of the swaps across one digit
// (123 -> 321) where MOD 11,10 catches about 91% (measured over random 19-digit numbers); and
// it is the algorithm CNAPS bank codes already use, so there is one implementation. A bidder
// who mistypes the account in a bank transfer then lands in suspense (R15) instead of being
// credited to another bidder's sub-account.
import { iso7064Mod1110CheckDigit } from './bankCode';

export const virtualAccountSerialDigits = 10;
/** Account number fields in CNAPS and ISO 20022 (Othr/Id up to 34) are safe at 32. */
export const virtualAccountLengthMax = 32;
export const virtualAccountPrefixDigitsMax = virtualAccountLengthMax - virtualAccountSerialDigits - 1;
export const virtualAccountSerialMax = 10n ** BigInt(virtualAccountSerialDigits) - 1n;

export function isValidVirtualAccountPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && new RegExp(`^\\d{1,${virtualAccountPrefixDigitsMax}}$`).test(prefix);
}

export function makeVirtualAccount(prefix: string, serial: bigint | number): string {
  if (!isValidVirtualAccountPrefix(prefix)) {
    throw new Error(`assertion: virtual account prefix must be 1..${virtualAccountPrefixDigitsMax} digits`);
  }
  if (typeof serial === 'number' && !Number.isSafeInteger(serial)) throw new Error('assertion: serial must be an integer');
  const n = BigInt(serial);
  if (n < 0n || n > virtualAccountSerialMax) throw new Error(`assertion: serial must be in 0..${virtualAccountSerialMax}`);
  const body = prefix + n.toString().padStart(virtualAccountSerialDigits, '0');
  const account = body + String(iso7064Mod1110CheckDigit(body));
  if (account.length > virtualAccountLengthMax) throw new Error('assertion: virtual account too long');
  return account;
}

/** The serial of a well-formed sub-account under `prefix`, or null (wrong prefix, length or
 *  check digit): the matcher sends such a credit to suspense rather than guess. */
export function parseVirtualAccount(prefix: string, number: string): bigint | null {
  if (!isValidVirtualAccountPrefix(prefix) || typeof number !== 'string') return null;
  if (number.length !== prefix.length + virtualAccountSerialDigits + 1) return null;
  if (!/^\d+$/.test(number) || !number.startsWith(prefix)) return null;
  const body = number.slice(0, -1);
  if (iso7064Mod1110CheckDigit(body) !== Number(number[number.length - 1])) return null;
  return BigInt(body.slice(prefix.length));
}

export function isValidVirtualAccount(prefix: string, number: string): boolean {
  return parseVirtualAccount(prefix, number) !== null;
}
