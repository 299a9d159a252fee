import {
  isValidVirtualAccount,
  makeVirtualAccount,
  parseVirtualAccount,
  virtualAccountLengthMax,
  virtualAccountPrefixDigitsMax,
  virtualAccountSerialMax,
} from '../../../src/domain/virtualAccount';

describe('virtual sub-accounts', () => {
  const prefix = '755912';

  it('is prefix + 10-digit serial + check digit, the same for a number or a bigint serial', () => {
    const a = makeVirtualAccount(prefix, 42);
    expect(a).toMatch(/^7559120000000042\d$/);
    expect(makeVirtualAccount(prefix, 42n)).toBe(a);
    expect(isValidVirtualAccount(prefix, a)).toBe(true);
    expect(parseVirtualAccount(prefix, a)).toBe(42n);
  });
  it('R15 rejects every single mistyped digit, so a typo goes to suspense instead of another bidder', () => {
    for (const serial of [0n, 1n, 42n, 987654321n, virtualAccountSerialMax]) {
      const a = makeVirtualAccount(prefix, serial);
      for (let i = prefix.length; i < a.length; i++) {
        for (let d = 0; d <= 9; d++) {
          if (String(d) === a[i]) continue;
          const typo = a.slice(0, i) + d + a.slice(i + 1);
          expect(isValidVirtualAccount(prefix, typo)).toBe(false);
        }
      }
    }
  });
  it('R15 rejects a swap of two digits one apart, which Luhn would let through', () => {
    const a = makeVirtualAccount(prefix, 1203n); // ...0001203c
    const i = a.length - 5; // "1?3" -> "3?1"
    const swapped = a.slice(0, i) + a[i + 2] + a[i + 1] + a[i] + a.slice(i + 3);
    expect(swapped).not.toBe(a);
    expect(isValidVirtualAccount(prefix, swapped)).toBe(false);
  });
  it('rejects another prefix, another length and non-digits', () => {
    const a = makeVirtualAccount(prefix, 7n);
    expect(isValidVirtualAccount('755913', a)).toBe(false);
    expect(isValidVirtualAccount(prefix, a + '0')).toBe(false);
    expect(isValidVirtualAccount(prefix, a.slice(0, -1))).toBe(false);
    expect(isValidVirtualAccount(prefix, a.replace(/\d$/, 'X'))).toBe(false);
    expect(parseVirtualAccount(prefix, '')).toBeNull();
  });
  it('stays within 32 characters at the longest prefix and refuses a longer one', () => {
    const longest = '9'.repeat(virtualAccountPrefixDigitsMax);
    const a = makeVirtualAccount(longest, virtualAccountSerialMax);
    expect(a).toHaveLength(virtualAccountLengthMax);
    expect(isValidVirtualAccount(longest, a)).toBe(true);
    expect(() => makeVirtualAccount(longest + '9', 1n)).toThrow();
  });
  it('refuses serials outside the fixed width and bad prefixes', () => {
    expect(() => makeVirtualAccount(prefix, virtualAccountSerialMax + 1n)).toThrow();
    expect(() => makeVirtualAccount(prefix, -1n)).toThrow();
    expect(() => makeVirtualAccount(prefix, 1.5)).toThrow();
    expect(() => makeVirtualAccount('', 1n)).toThrow();
    expect(() => makeVirtualAccount('12a', 1n)).toThrow();
  });
});
