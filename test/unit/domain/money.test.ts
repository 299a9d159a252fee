import { formatAmount, parseAmount, parseBankDecimal } from '../../../src/domain/money';

describe('money', () => {
  it('parses decimal strings into fen', () => {
    expect(parseAmount('50000.00')).toBe(5000000n);
    expect(parseAmount('0.5')).toBe(50n);
    expect(parseAmount('999999999999999.99')).toBe(99999999999999999n);
  });
  it('rejects negatives, exponents, three decimals and sixteen integer digits', () => {
    for (const bad of ['-1.00', '1e5', '1.001', '1000000000000000.00', ' 1', '1,000.00', '']) {
      expect(() => parseAmount(bad)).toThrow(/invalid amount/);
    }
  });
  it('formats fen with two places', () => {
    expect(formatAmount(5000000n)).toBe('50000.00');
    expect(formatAmount(5n)).toBe('0.05');
    expect(formatAmount(-150n)).toBe('-1.50');
  });
  it('reads bank decimals with trailing zeros but never rounds', () => {
    expect(parseBankDecimal('1000.000')).toBe(100000n);
    expect(() => parseBankDecimal('1.005')).toThrow();
  });
});
