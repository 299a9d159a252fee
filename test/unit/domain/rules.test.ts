import {
  checkDepositCap,
  checkR12Ground,
  checkR3BeforeDeadline,
  checkValidityCovers,
  r12Grounds,
  r18TendereeMayLearnSecurities,
  requiredValidUntil,
  worksDepositCapFenCommon,
  type R12Facts,
} from '../../../src/domain/rules';

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

describe('R3 in place before the deadline', () => {
  const deadline = new Date('2026-03-01T02:00:00.300Z');
  it('R3 judges a deposit booked and a guarantee issued alike, a time to the second by the whole second', () => {
    for (const event of ['booked', 'issued'] as const) {
      expect(checkR3BeforeDeadline(new Date('2026-03-01T02:00:00Z'), deadline, event)).toMatchObject({ rule: 'R3', ok: false });
      expect(checkR3BeforeDeadline(new Date('2026-03-01T01:59:59Z'), deadline, event).ok).toBe(true);
      expect(checkR3BeforeDeadline(new Date('2026-03-01T02:00:00.200Z'), deadline, event).ok).toBe(true);
      expect(checkR3BeforeDeadline(new Date('2026-03-01T02:00:00.300Z'), deadline, event).ok).toBe(false);
    }
  });
  it('R3 says what happened when', () => {
    expect(checkR3BeforeDeadline(new Date('2026-03-01T01:00:00Z'), deadline, 'issued').detail).toBe('issued 2026-03-01T01:00:00.000Z, before the bid deadline 2026-03-01T02:00:00.300Z');
  });
});

describe('R12 grounds for forfeiture and claims', () => {
  const bidDeadline = new Date('2026-03-01T02:00:00Z');
  const after = new Date('2026-03-02T02:00:00Z');
  const facts = (over: Partial<R12Facts> = {}): R12Facts => ({ now: after, bidDeadline, bidderId: 'bdr_a', winnerBidderId: null, withdrawal: null, ...over });

  it('R12 lists the five grounds of 实施条例 35 and 74', () => {
    expect([...r12Grounds]).toEqual(['withdrawal_after_deadline', 'refused_to_sign', 'conditions_at_signing', 'no_performance_security', 'false_documents']);
  });
  it('R12 holds no ground before the bid deadline', () => {
    for (const g of r12Grounds) {
      expect(checkR12Ground(g, facts({ now: new Date('2026-03-01T01:00:00Z'), winnerBidderId: 'bdr_a', withdrawal: { afterDeadline: true } }))).toMatchObject({ rule: 'R12', ok: false });
    }
  });
  it('R12 needs a withdrawal after the deadline on record for that ground', () => {
    expect(checkR12Ground('withdrawal_after_deadline', facts()).ok).toBe(false);
    expect(checkR12Ground('withdrawal_after_deadline', facts({ withdrawal: { afterDeadline: false } })).ok).toBe(false);
    expect(checkR12Ground('withdrawal_after_deadline', facts({ withdrawal: { afterDeadline: true } })).ok).toBe(true);
  });
  it("R12 takes the winner's failures only from the bidder the award names", () => {
    for (const g of ['refused_to_sign', 'conditions_at_signing', 'no_performance_security'] as const) {
      expect(checkR12Ground(g, facts()).ok).toBe(false);
      expect(checkR12Ground(g, facts({ winnerBidderId: 'bdr_b' })).detail).toMatch(/names bdr_b, not bdr_a/);
      expect(checkR12Ground(g, facts({ winnerBidderId: 'bdr_a' })).ok).toBe(true);
    }
  });
  it("R12 rests false documents on the centre's finding once the deadline has passed", () => {
    expect(checkR12Ground('false_documents', facts()).ok).toBe(true);
  });
});

describe('R18 sealed until the opening', () => {
  it('R18 lets a tenderee learn who secured a section only once it has opened', () => {
    expect(r18TendereeMayLearnSecurities({ openedAt: null })).toBe(false);
    expect(r18TendereeMayLearnSecurities({ openedAt: new Date() })).toBe(true);
  });
});
