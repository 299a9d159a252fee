// Passwords are kept as scrypt hashes (RFC 7914), Node's own, memory-hard so that a stolen table
// costs an attacker memory as well as time per guess. The stored string names its parameters
// (`scrypt$N$r$p$salt$hash`, salt and hash base64url), so raising them later leaves the hashes
// already stored readable.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { assert } from '../errors';

/** Cost parameters for new hashes: 2^15 × 8 × 128 bytes = 32 MiB of memory per hash, about
 *  0.1 s on one core (OWASP's scrypt recommendation). */
export const scryptCostN = 2 ** 15;
export const scryptBlockSizeR = 8;
export const scryptParallelizationP = 1;
export const scryptSaltBytes = 16;
export const scryptKeyBytes = 32;
/** Stored hashes with a higher cost than this are refused rather than computed: a corrupted or
 *  planted row must not make one sign-in take the machine's memory. */
export const scryptCostNMax = 2 ** 20;
/** Node refuses above its 32 MiB default exactly at our parameters: twice what they need. */
function maxmemFor(n: number, r: number): number {
  return 2 * 128 * n * r;
}

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, keyBytes: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: maxmemFor(params.n, params.r) };
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two systems can reach us composed or decomposed.
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params: ScryptParams = { n: scryptCostN, r: scryptBlockSizeR, p: scryptParallelizationP }): Promise<string> {
  const salt = randomBytes(scryptSaltBytes);
  const key = await derive(password, salt, scryptKeyBytes, params);
  return ['scrypt', params.n, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const storedPattern = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{22,88})$/;

/** Whether the password matches the stored hash; the comparison takes the same time wherever
 *  the first differing byte is. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = storedPattern.exec(stored);
  assert(m, 'a stored password hash is scrypt$N$r$p$salt$hash');
  const params = { n: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  assert(params.n >= 2 && params.n <= scryptCostNMax && (params.n & (params.n - 1)) === 0 && params.r >= 1 && params.p >= 1, 'stored scrypt parameters are within bounds');
  const expected = Buffer.from(m[5], 'base64url');
  const actual = await derive(password, Buffer.from(m[4], 'base64url'), expected.length, params);
  return timingSafeEqual(actual, expected);
}

/** A hash of a random password nobody kept, made with the parameters above (a test checks they
 *  still match): sign-ins by logins that do not exist are checked against it, which costs what
 *  checking a real password does, so the time of the answer does not tell them apart. A constant
 *  rather than one made at start, so that even the first such sign-in costs no more. */
export const dummyPasswordHash = 'scrypt$32768$8$1$1BirUbB8mHKMZ9fp-fgJgA$H8-n_TKlH2zCG8v08M4A2QQ08nd4qV56I4tsp1SAkuc';

export function storedParams(stored: string): ScryptParams | undefined {
  const m = storedPattern.exec(stored);
  return m ? { n: Number(m[1]), r: Number(m[2]), p: Number(m[3]) } : undefined;
}
