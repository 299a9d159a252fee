// The roster's verdict for a bidder its credit grade exempts (信用免缴): secured by exemption
// whatever it paid or had issued, unless it withdrew (R9).
import { rosterHeldOverride, rosterVerdict, type BidderSecurityFacts } from '../../../src/sections/rules';

const facts = (over: Partial<BidderSecurityFacts> = {}): BidderSecurityFacts => ({ requiredFen: 0n, deposits: [], withdrawn: false, exempt: true, ...over });
const excessOnly = { id: 'dep_1', status: 'valid', amountFen: 5_000_000n, excessFen: 5_000_000n, failedRules: [] };

describe('R4 an exempt bidder on the roster', () => {
  it('is secured by exemption with nothing paid, with its payment all excess, or beside a guarantee', () => {
    const exempt = { security: 'exemption', status: 'secured', rules: ['R4'] };
    expect(rosterVerdict(facts())).toEqual(exempt);
    expect(rosterVerdict(facts({ deposits: [excessOnly] }))).toEqual(exempt);
    expect(rosterVerdict(facts({ deposits: [{ ...excessOnly, status: 'invalid', excessFen: 0n, failedRules: ['R5'] }] }))).toEqual(exempt);
    expect(rosterVerdict(facts({ guarantee: { id: 'gty_1', number: 'G1', status: 'secured', amountFen: 5_000_000n, failedRules: [] } }))).toEqual(exempt);
  });

  it('R9 is missing once it withdrew', () => {
    expect(rosterVerdict(facts({ withdrawn: true }))).toEqual({ security: null, status: 'missing', rules: ['R9'] });
  });

  it('R3 a held payment does not turn an exemption into insufficient', () => {
    const held = { status: 'held', checks: [{ rule: 'R3', ok: false }], failed_rules: [] };
    expect(rosterHeldOverride(rosterVerdict(facts()), [held], false)).toBeUndefined();
  });

  it('refuses an exemption where something is still required (a programmer error)', () => {
    expect(() => rosterVerdict(facts({ requiredFen: 1n }))).toThrow(/assertion/);
  });

  it('judges a bidder not exempt at the deadline as before: a payment that was all excess secures nothing', () => {
    expect(rosterVerdict(facts({ exempt: false, requiredFen: 5_000_000n, deposits: [excessOnly] }))).toEqual({ security: 'cash', status: 'insufficient', rules: ['R4'], amountFen: 0n });
    expect(rosterVerdict(facts({ exempt: false, requiredFen: 5_000_000n }))).toEqual({ security: null, status: 'missing', rules: [] });
  });
});
