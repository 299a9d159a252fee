// Ids are a prefix naming the kind of record and a ULID-like body: 48 bits of Unix time in ms
// and 80 random bits, in lower-case Crockford base32 (26 chars). Lower case reads better in
// URLs beside the lower-case prefix and still sorts by time, since digits < letters in ASCII.
// Within one process ids made in the same millisecond increase (the random part is
// incremented), so a list ordered by id is ordered by creation even under load.
import { randomBytes } from 'node:crypto';

export const idPrefixes = [
  'tnd', 'bdr', 'iss', 'bnk', 'sec', 'gty', 'dep', 'rfd', 'rcn', 'vch', 'evt', 'app', 'key', 'crd',
  'att', 'jnl', 'rsn', 'bex', 'usr',
] as const;
export type IdPrefix = (typeof idPrefixes)[number];

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const timeChars = 10;
const randomChars = 16;
const timeMax = 2 ** 48 - 1;
const randomMax = (1n << 80n) - 1n;

export interface IdGenerator {
  (prefix: IdPrefix): string;
}

/** Injectable clock and randomness, for tests that need to see the monotonic step. */
export function createIdGenerator(
  options: { now?: () => number; random80?: () => bigint } = {},
): IdGenerator {
  const now = options.now ?? Date.now;
  const random80 = options.random80 ?? defaultRandom80;
  let lastTime = -1;
  let lastRandom = 0n;
  return (prefix: IdPrefix): string => {
    if (!idPrefixes.includes(prefix)) throw new Error(`assertion: unknown id prefix ${JSON.stringify(prefix)}`);
    let time = now();
    if (!Number.isSafeInteger(time) || time < 0 || time > timeMax) throw new Error(`assertion: bad clock value ${time}`);
    // A clock that steps back (NTP) must not make a later id sort first: keep the last time.
    if (time <= lastTime) {
      time = lastTime;
      if (lastRandom === randomMax) {
        // 2^80 ids in one millisecond cannot happen with real randomness; borrow the next ms.
        time += 1;
        lastRandom = random80();
      } else {
        lastRandom += 1n;
      }
    } else {
      lastRandom = random80();
    }
    lastTime = time;
    // The random part as two 40-bit numbers: encoded with number arithmetic, several times
    // faster than bigint's, which showed in the profile of a batch of thousands of credits.
    return `${prefix}_${encode(time, timeChars)}${encode(Number(lastRandom >> 40n), randomChars / 2)}${encode(Number(lastRandom & low40), randomChars / 2)}`;
  };
}

function defaultRandom80(): bigint {
  return BigInt(`0x${randomBytes(10).toString('hex')}`);
}

const low40 = (1n << 40n) - 1n;

/** `value` (an integer below 2^53) in `chars` base32 characters, most significant first. */
function encode(value: number, chars: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < chars; i++) {
    out = alphabet[v % 32] + out;
    v = Math.floor(v / 32);
  }
  if (v !== 0) throw new Error('assertion: value does not fit the id field');
  return out;
}

export const newId: IdGenerator = createIdGenerator();

// The first time character is at most 7 (48 bits in 50), which also keeps ids below 2^128.
const bodyPattern = '[0-7][0-9a-hjkmnp-tv-z]{25}';
const patterns = new Map<string, RegExp>(idPrefixes.map((p) => [p, new RegExp(`^${p}_${bodyPattern}$`)]));

/** For route params: exactly the form `newId` makes (lower case, right length, right prefix). */
export function isId(prefix: IdPrefix, s: unknown): s is string {
  const re = patterns.get(prefix);
  if (!re) return false;
  return typeof s === 'string' && re.test(s);
}

/** The creation time encoded in an id. */
export function idTime(id: string): Date {
  const m = /^[a-z]{3}_([0-7][0-9a-hjkmnp-tv-z]{9})[0-9a-hjkmnp-tv-z]{16}$/.exec(id);
  if (!m) throw new Error(`not an id: ${JSON.stringify(id.slice(0, 40))}`);
  let ms = 0;
  for (const c of m[1]) ms = ms * 32 + alphabet.indexOf(c);
  return new Date(ms);
}
