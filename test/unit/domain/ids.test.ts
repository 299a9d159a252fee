import { createIdGenerator, idPrefixes, idTime, isId, newId } from '../../../src/domain/ids';

describe('ids', () => {
  it('are a prefix and 26 lower-case Crockford base32 characters', () => {
    for (const p of idPrefixes) {
      const id = newId(p);
      expect(id).toMatch(new RegExp(`^${p}_[0-9a-hjkmnp-tv-z]{26}$`));
      expect(isId(p, id)).toBe(true);
    }
  });
  it('carry their creation time', () => {
    const gen = createIdGenerator({ now: () => Date.UTC(2025, 4, 20, 1, 2, 3, 456) });
    expect(idTime(gen('dep')).toISOString()).toBe('2025-05-20T01:02:03.456Z');
    const before = Date.now();
    const t = idTime(newId('evt')).getTime();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
  it('increase within one millisecond and when the clock steps back', () => {
    let now = 1_750_000_000_000;
    const gen = createIdGenerator({ now: () => now, random80: () => (1n << 80n) - 3n });
    const a = gen('rfd');
    const b = gen('rfd');
    now -= 5_000;
    const c = gen('rfd');
    const d = gen('rfd'); // the random part overflows: borrows the next millisecond
    expect([a, b, c, d]).toEqual([a, b, c, d].slice().sort());
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(idTime(d).getTime()).toBe(1_750_000_000_001);
  });
  it('encode 48 bits of time and 80 of randomness as one 128-bit number in Crockford base32', () => {
    const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
    const base32 = (v: bigint) => Array.from({ length: 26 }, (_, i) => alphabet[Number((v >> BigInt(5 * (25 - i))) & 31n)]).join('');
    const time = 1_750_000_000_123;
    for (const random of [0n, 1n, (1n << 40n) - 1n, 1n << 40n, 0x1234_5678_9abc_def0_1234n, (1n << 80n) - 1n]) {
      const gen = createIdGenerator({ now: () => time, random80: () => random });
      expect(gen('dep')).toBe(`dep_${base32((BigInt(time) << 80n) | random)}`);
    }
  });
  it('sort in creation order and never repeat', () => {
    const ids = Array.from({ length: 5000 }, () => newId('jnl'));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice().sort()).toEqual(ids);
  });
  it('validate route params strictly', () => {
    const id = newId('gty');
    expect(isId('dep', id)).toBe(false);
    expect(isId('gty', id.toUpperCase().replace('GTY', 'gty'))).toBe(false);
    expect(isId('gty', id + 'a')).toBe(false);
    expect(isId('gty', id.slice(0, -1))).toBe(false);
    expect(isId('gty', id.slice(0, -1) + 'u')).toBe(false); // u is not Crockford
    expect(isId('gty', 'gty_8' + id.slice(5))).toBe(false); // beyond 48 bits of time
    expect(isId('gty', undefined)).toBe(false);
    expect(isId('gty', `${id}\n`)).toBe(false);
  });
  it('refuse an unknown prefix', () => {
    expect(() => newId('xyz' as never)).toThrow(/unknown id prefix/);
  });
});
