import {
  defaultDepositRateTable,
  defaultLoanRateTable,
  interestFen,
  lateFeeFen,
  loadRateTable,
  percentToMillionths,
  rateOn,
} from '../../../src/domain/interest';

describe('interest and late fees', () => {
  it('R13 pays principal × rate × days / 360, days from credit to refund value date', () => {
    // ¥50,000 × 0.35% × 30 / 360 = ¥14.5833…
    expect(interestFen(5000000n, defaultDepositRateTable, '2025-03-01', '2025-03-31')).toBe(1458n);
    // ¥800,000 for a year (366 days in 2024) = ¥2,846.67
    expect(interestFen(80000000n, defaultDepositRateTable, '2024-01-01', '2025-01-01')).toBe(284667n);
  });
  it('R13 pays nothing for a refund on the day of the credit', () => {
    expect(interestFen(5000000n, defaultDepositRateTable, '2025-03-01', '2025-03-01')).toBe(0n);
  });
  it('R13 rounds half-up to the fen', () => {
    const onePercent = loadRateTable([{ from: '2024-01-01', annualRatePercent: '1' }]);
    expect(interestFen(18000n, onePercent, '2025-01-01', '2025-01-02')).toBe(1n); // exactly 0.5 fen
    expect(interestFen(17999n, onePercent, '2025-01-01', '2025-01-02')).toBe(0n); // 0.49997 fen
  });
  it('R13 sums the pieces when the rate changes, and rounds once', () => {
    const table = loadRateTable([
      { from: '2024-01-01', annualRatePercent: '0.35' },
      { from: '2024-01-11', annualRatePercent: '1.00' },
    ]);
    // 5 days at 0.35% and 5 days at 1%: ¥360,000 × (0.0175 + 0.05)% / 360 × … = ¥67.50
    expect(interestFen(36000000n, table, '2024-01-06', '2024-01-16')).toBe(6750n);
    // Each piece alone would round to 0 (0.3 and 0.4 fen); together they are 0.7 -> 1.
    const small = loadRateTable([
      { from: '2024-01-01', annualRatePercent: '3' },
      { from: '2024-01-02', annualRatePercent: '4' },
    ]);
    expect(interestFen(3600n, small, '2024-01-01', '2024-01-02')).toBe(0n);
    expect(interestFen(3600n, small, '2024-01-01', '2024-01-03')).toBe(1n);
  });
  it('R13 stays exact for the largest amounts', () => {
    const max = 99999999999999999n;
    // 0.35% × 360 days / 360 = 0.35% of the principal, half-up.
    expect(interestFen(max, defaultDepositRateTable, '2025-01-01', '2025-12-27')).toBe((max * 3500n * 2n + 1_000_000n) / 2_000_000n);
  });
  it('R13 refuses a refund value date before the credit and dates before the table', () => {
    expect(() => interestFen(100n, defaultDepositRateTable, '2025-03-02', '2025-03-01')).toThrow(/before it starts/);
    expect(() => interestFen(100n, defaultDepositRateTable, '2010-01-01', '2025-03-01')).toThrow(/no rate configured/);
    expect(() => interestFen(-1n, defaultDepositRateTable, '2025-03-01', '2025-03-02')).toThrow();
  });
  it('R13 charges a late fee at the loan rate × 1.2 for the days past due', () => {
    // ¥50,000 × 3.00% × 1.2 × 10 / 360 = ¥50
    expect(lateFeeFen(5000000n, defaultLoanRateTable, '2025-06-10', '2025-06-20')).toBe(5000n);
  });
  it('R13 charges no late fee on or before the due date', () => {
    expect(lateFeeFen(5000000n, defaultLoanRateTable, '2025-06-10', '2025-06-10')).toBe(0n);
    expect(lateFeeFen(5000000n, defaultLoanRateTable, '2025-06-10', '2025-06-01')).toBe(0n);
  });
  it('R13 late fee follows the LPR change of 2024-10-21 day by day', () => {
    // 10-19, 10-20 at 3.35%; 10-21, 10-22, 10-23 at 3.10%: ¥360,000 × 0.16% × 1.2 / 360 = ¥192
    expect(lateFeeFen(36000000n, defaultLoanRateTable, '2024-10-18', '2024-10-23')).toBe(19200n);
  });
  it('R13 holds the 1-year LPR history', () => {
    expect(rateOn(defaultLoanRateTable, '2024-07-21')).toBe(34500n);
    expect(rateOn(defaultLoanRateTable, '2024-07-22')).toBe(33500n);
    expect(rateOn(defaultLoanRateTable, '2024-10-21')).toBe(31000n);
    expect(rateOn(defaultLoanRateTable, '2025-05-20')).toBe(30000n);
    expect(rateOn(defaultLoanRateTable, '2019-08-19')).toBe(43500n);
    expect(rateOn(defaultDepositRateTable, '2026-01-01')).toBe(3500n);
  });

  describe('loadRateTable', () => {
    it('reads percent strings exactly into millionths', () => {
      expect(percentToMillionths('0.35')).toBe(3500n);
      expect(percentToMillionths('3.45')).toBe(34500n);
      expect(percentToMillionths('1.7625')).toBe(17625n);
      expect(percentToMillionths('0.0035')).toBe(35n);
      expect(percentToMillionths('24')).toBe(240000n);
    });
    it('R13 refuses numbers, too many decimals, huge rates, unsorted or unknown entries', () => {
      expect(() => loadRateTable([{ from: '2025-01-01', annualRatePercent: 0.35 }])).toThrow(/string/);
      expect(() => loadRateTable([{ from: '2025-01-01', annualRatePercent: '0.00001' }])).toThrow(/4 decimals/);
      expect(() => loadRateTable([{ from: '2025-01-01', annualRatePercent: '35' }])).toThrow(/above 24%/);
      expect(() => loadRateTable([{ from: '2025-01-01', annualRatePercent: '-1' }])).toThrow();
      expect(() => loadRateTable([{ from: '2025-01-01', annualRatePercent: '1e-2' }])).toThrow();
      expect(() => loadRateTable([
        { from: '2025-02-01', annualRatePercent: '1' },
        { from: '2025-01-01', annualRatePercent: '1' },
      ])).toThrow(/ascending/);
      expect(() => loadRateTable([{ from: '2025-01-01', rate: '1' }])).toThrow(/unknown keys/);
      expect(() => loadRateTable([{ from: '2025-13-01', annualRatePercent: '1' }])).toThrow(/YYYY-MM-DD/);
      expect(() => loadRateTable([])).toThrow(/non-empty/);
      expect(() => loadRateTable({})).toThrow(/non-empty/);
    });
  });
});
