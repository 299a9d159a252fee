import fc from 'fast-check';
import {
  creditExemptionPercent,
  creditReductionPercentMax,
  creditReductionsProblem,
  describeRequirement,
  exemptionNotice,
  gradeValidAt,
  isExempt,
  reducedAmountFen,
  reductionAuditData,
  requiredSecurity,
  type CreditGradeRecord,
} from '../../../src/domain/creditReduction';

const finding = (over: Partial<CreditGradeRecord> = {}): CreditGradeRecord => ({ seq: 1n, grade: 'A', source: '信用中国', validFrom: '2026-01-01', validTo: '2026-12-31', ...over });
// 2026-12-10 10:00 in Beijing.
const deadline = new Date('2026-12-10T02:00:00Z');

describe('the grade valid at an instant', () => {
  it('counts both ends of the period, by the Beijing date', () => {
    expect(gradeValidAt([finding({ validTo: '2026-12-10' })], deadline)?.grade).toBe('A');
    expect(gradeValidAt([finding({ validFrom: '2026-12-10' })], deadline)?.grade).toBe('A');
    // 2026-12-09T17:00Z is already the 10th in Beijing.
    expect(gradeValidAt([finding({ validFrom: '2026-12-10', validTo: '2026-12-10' })], new Date('2026-12-09T17:00:00Z'))?.grade).toBe('A');
  });

  it('ignores a finding expired by the instant or not yet in force', () => {
    expect(gradeValidAt([finding({ validTo: '2026-12-09' })], deadline)).toBeUndefined();
    expect(gradeValidAt([finding({ validFrom: '2026-12-11' })], deadline)).toBeUndefined();
  });

  it('takes the finding recorded last where two cover the day', () => {
    const records = [finding({ seq: 7n, grade: 'B' }), finding({ seq: 3n, grade: 'AAA' })];
    expect(gradeValidAt(records, deadline)?.grade).toBe('B');
  });
});

describe('R4 with a reduction', () => {
  it('rounds the reduced security up to the fen', () => {
    expect(reducedAmountFen(5_000_000n, 20)).toBe(4_000_000n);
    // 333 × 0.7 = 233.1 fen: 234, never less than the exact share.
    expect(reducedAmountFen(333n, 30)).toBe(234n);
    expect(reducedAmountFen(1n, creditExemptionPercent - 1)).toBe(1n);
  });

  it('never goes below the exact share nor above the full amount, and leaves a fen short of an exemption', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.integer({ min: 0, max: creditExemptionPercent - 1 }), (full, percent) => {
        const r = reducedAmountFen(full, percent);
        const exactTimes100 = full * BigInt(100 - percent);
        return r * 100n >= exactTimes100 && (r - 1n) * 100n < exactTimes100 && r > 0n && r <= full;
      }),
    );
  });

  it('R4 leaves nothing to secure under a whole exemption, and refuses more than the whole or fractions of a percent', () => {
    expect(creditReductionPercentMax).toBe(creditExemptionPercent);
    expect(reducedAmountFen(5_000_000n, 100)).toBe(0n);
    expect(reducedAmountFen(1n, 100)).toBe(0n);
    expect(() => reducedAmountFen(100n, 101)).toThrow(/whole percent/);
    expect(() => reducedAmountFen(100n, 12.5)).toThrow(/whole percent/);
    expect(() => reducedAmountFen(100n, -1)).toThrow(/whole percent/);
  });

  it('reduces for the grade held at the deadline, names its source, and changes nothing otherwise', () => {
    const section = { depositAmountFen: 5_000_000n, bidDeadline: deadline, creditReductions: [{ grade: 'A', percent: 20 }] };
    const r = requiredSecurity(section, [finding()]);
    expect(r.requiredFen).toBe(4_000_000n);
    expect(r.reduction).toMatchObject({ grade: 'A', percent: 20, source: '信用中国' });
    expect(describeRequirement(r)).toBe('40000.00 (50000.00 less 20% for credit grade A, found by 信用中国, valid 2026-01-01 to 2026-12-31)');
    expect(requiredSecurity(section, [finding({ validTo: '2026-12-09' })])).toEqual({ requiredFen: 5_000_000n, fullFen: 5_000_000n, reduction: null });
    expect(requiredSecurity(section, [finding({ grade: 'C' })]).reduction).toBeNull();
    expect(requiredSecurity({ ...section, creditReductions: [] }, [finding()]).requiredFen).toBe(5_000_000n);
    expect(isExempt(r)).toBe(false);
    expect(exemptionNotice(r)).toBeNull();
  });

  it('R4 exempts a bidder whose grade at the deadline the section waives whole, and names the finding', () => {
    const section = { depositAmountFen: 5_000_000n, bidDeadline: deadline, creditReductions: [{ grade: 'AAA', percent: 100 }, { grade: 'A', percent: 20 }] };
    const r = requiredSecurity(section, [finding({ grade: 'AAA', seq: 9n })]);
    expect(r).toMatchObject({ requiredFen: 0n, fullFen: 5_000_000n, reduction: { grade: 'AAA', percent: 100, source: '信用中国', gradeSeq: 9n } });
    expect(isExempt(r)).toBe(true);
    expect(describeRequirement(r)).toBe('0.00 (exempt from the 50000.00 for credit grade AAA, found by 信用中国, valid 2026-01-01 to 2026-12-31)');
    expect(exemptionNotice(r)).toContain('免交投标保证金：信用等级 AAA（信用中国');
    expect(exemptionNotice(r)).toContain('Exempt from the bid security: credit grade AAA (信用中国');
    expect(reductionAuditData(r)).toMatchObject({ grade: 'AAA', percent: 100, source: '信用中国', gradeId: '9', required: '0.00', fullAmount: '50000.00', exempt: true });
    // Lapsed the day before the deadline: judged at the deadline, so no exemption.
    const lapsed = requiredSecurity(section, [finding({ grade: 'AAA', validTo: '2026-12-09' })]);
    expect(lapsed).toEqual({ requiredFen: 5_000_000n, fullFen: 5_000_000n, reduction: null });
    expect(isExempt(lapsed)).toBe(false);
    // A later finding of a lesser grade for the deadline's day replaces the exemption.
    expect(requiredSecurity(section, [finding({ grade: 'AAA', seq: 1n }), finding({ grade: 'A', seq: 2n })]).requiredFen).toBe(4_000_000n);
  });
});

describe("a section's declared reductions", () => {
  it('accepts well-formed grades once each and refuses the rest', () => {
    expect(creditReductionsProblem([{ grade: 'AAA', percent: 50 }, { grade: 'A+', percent: 0 }])).toBeUndefined();
    expect(creditReductionsProblem([{ grade: 'A', percent: 10 }, { grade: 'A', percent: 20 }])).toMatch(/twice/);
    expect(creditReductionsProblem([{ grade: 'a', percent: 10 }])).toMatch(/not a credit grade/);
    expect(creditReductionsProblem([{ grade: 'A', percent: 100 }])).toBeUndefined();
    expect(creditReductionsProblem([{ grade: 'A', percent: 101 }])).toMatch(/whole percent from 0 to 100/);
  });
});
