import { checkDepositCap, checkValidityCovers, requiredValidUntil, worksDepositCapFenCommon } from '../../../src/domain/rules';

describe('R1 deposit cap', () => {
  it('R1 accepts a deposit of exactly 2% of the estimated price', () => {
    expect(checkDepositCap({ estimatedPriceFen: 100000000n, depositAmountFen: 2000000n })).toMatchObject({ rule: 'R1', ok: true });
  });
  it('R1 rejects one fen more than 2%', () => {
    const r = checkDepositCap({ estimatedPriceFen: 100000000n, depositAmountFen: 2000001n });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/at most 20000\.00/);
  });
  it('R1 applies a works cap of ¥800,000 when the section sets one', () => {
    const price = 10000000000n; // ¥100,000,000: 2% would be ¥2,000,000
    expect(checkDepositCap({ estimatedPriceFen: price, depositAmountFen: 100000000n }).ok).toBe(true);
    const r = checkDepositCap({ estimatedPriceFen: price, depositAmountFen: 100000000n, capFen: worksDepositCapFenCommon });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/cap 800000\.00/);
    expect(checkDepositCap({ estimatedPriceFen: price, depositAmountFen: 80000000n, capFen: worksDepositCapFenCommon }).ok).toBe(true);
  });
  it('R1 rejects zero amounts', () => {
    expect(checkDepositCap({ estimatedPriceFen: 100n, depositAmountFen: 0n }).ok).toBe(false);
    expect(checkDepositCap({ estimatedPriceFen: 0n, depositAmountFen: 1n }).ok).toBe(false);
  });
});

describe('R2 validity', () => {
  const bidDeadline = new Date('2025-06-10T01:30:00Z'); // 09:30 in Shanghai
  it('R2 requires validity to the deadline date plus the bid-validity days', () => {
    expect(requiredValidUntil(bidDeadline, 90)).toBe('2025-09-08');
  });
  it('R2 accepts a security valid from before the deadline to the end of bid validity', () => {
    expect(checkValidityCovers({ validFrom: '2025-06-01', validTo: '2025-09-08', bidDeadline, bidValidityDays: 90 }).ok).toBe(true);
  });
  it('R2 rejects a security that ends a day early or starts after the deadline', () => {
    expect(checkValidityCovers({ validFrom: '2025-06-01', validTo: '2025-09-07', bidDeadline, bidValidityDays: 90 })).toMatchObject({ ok: false, rule: 'R2' });
    expect(checkValidityCovers({ validFrom: '2025-06-11', validTo: '2025-12-31', bidDeadline, bidValidityDays: 90 }).ok).toBe(false);
  });
});
