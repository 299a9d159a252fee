import { checkGuarantee, checkAmendment, isLegalTransition, type GuaranteeFacts, type SectionFacts } from '../../../src/guarantees/rules';
import { iso7064Mod1110CheckDigit } from '../../../src/domain/bankCode';

const code = (first11: string) => first11 + String(iso7064Mod1110CheckDigit(first11));
const section: SectionFacts = {
  projectCode: 'P1', sectionCode: 'S1', tendereeUscc: '91330100716105852F', depositAmountFen: 5_000_000n,
  bidDeadline: new Date('2026-12-10T01:30:00Z'), bidValidityDays: 90, acceptedSecurity: ['bank', 'insurance'], guaranteeBankMatch: 'bank',
};
const good: GuaranteeFacts = {
  kind: 'bank', beneficiaryUscc: section.tendereeUscc, projectCode: 'P1', sectionCode: 'S1', amountFen: 5_000_000n,
  validFrom: '2026-12-01', validTo: '2027-03-10', issuedAt: new Date('2026-12-01T02:00:00Z'), issuingBankCode: code('10210000001'),
};
const basic = code('10231000002');
/** The issuer is registered as the bank whose branch `good` names. */
const issuerBank = code('10210000001');
const failed = (g: GuaranteeFacts, s = section, b = basic, issuer: string | null = issuerBank) =>
  checkGuarantee(g, s, { basicAccountBankCode: b, issuerBankCode: issuer }).filter((c) => !c.ok).map((c) => c.rule);
const r6 = (g: GuaranteeFacts, s = section, b = basic, issuer: string | null = issuerBank) =>
  checkGuarantee(g, s, { basicAccountBankCode: b, issuerBankCode: issuer }).find((c) => c.rule === 'R6')!;

describe('guarantee rules', () => {
  it('passes a guarantee that meets every rule', () => expect(failed(good)).toEqual([]));
  it('R2 rejects validity ending before deadline + bid validity days', () => expect(failed({ ...good, validTo: '2027-03-09' })).toEqual(['R2']));
  it('R2 accepts validity ending exactly on deadline + bid validity days', () => expect(failed({ ...good, validTo: '2027-03-10' })).toEqual([]));
  it('R3 rejects a guarantee issued at the deadline', () => expect(failed({ ...good, issuedAt: section.bidDeadline })).toEqual(['R3']));
  it('R3 rejects a guarantee stamped to the second in which the deadline falls, as for a deposit', () => {
    const deadline = new Date('2026-12-10T01:30:00.500Z');
    expect(failed({ ...good, issuedAt: new Date('2026-12-10T01:30:00Z') }, { ...section, bidDeadline: deadline })).toEqual(['R3']);
    expect(failed({ ...good, issuedAt: new Date('2026-12-10T01:29:59Z') }, { ...section, bidDeadline: deadline })).toEqual([]);
  });
  it('R4 rejects an amount one fen short', () => expect(failed({ ...good, amountFen: 4_999_999n })).toEqual(['R4']));
  it('R6 rejects a bank guarantee from another bank', () => {
    expect(failed({ ...good, issuingBankCode: code('10410000001') }, section, basic, code('10410000009'))).toEqual(['R6']);
  });
  it('R6 compares whole codes for city commercial banks', () => {
    const cityBank = code('31310000001');
    expect(failed({ ...good, issuingBankCode: cityBank }, section, code('31310000002'), cityBank)).toEqual(['R6']);
  });
  it('R6 does not apply to insurance', () => expect(failed({ ...good, kind: 'insurance', issuingBankCode: null }, section, basic, null)).toEqual([]));
  it('R6 is off when the section turns it off', () => {
    expect(failed({ ...good, issuingBankCode: code('10410000001') }, { ...section, guaranteeBankMatch: 'off' }, basic, code('10410000009'))).toEqual([]);
  });
  it("R6 accepts another branch of the issuer's own bank", () => expect(failed({ ...good, issuingBankCode: code('10233000007') })).toEqual([]));
  it("R6 rejects a branch of another bank than the issuer's, even where it is the bidder's own bank", () => {
    const check = r6({ ...good, issuingBankCode: code('10231000002') }, section, code('10231000002'), code('10410000009'));
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/is not a branch of the issuer's registered bank/);
  });
  it('R6 rejects a branch of another bank even when the section turns the basic-account match off', () => {
    expect(failed({ ...good, issuingBankCode: code('10410000001') }, { ...section, guaranteeBankMatch: 'off' })).toEqual(['R6']);
  });
  it("R6 takes only the issuer's own branch for a city commercial bank, whose category names no one bank", () => {
    expect(r6({ ...good, issuingBankCode: code('31310000003') }, section, code('31310000003'), code('31310000001')).ok).toBe(false);
  });
  it('R7 rejects a beneficiary other than the tenderee', () => expect(failed({ ...good, beneficiaryUscc: '911100007109208380' })).toEqual(['R7']));
  it('R8 rejects a kind the section does not list', () => expect(failed({ ...good, kind: 'guarantor', issuingBankCode: null })).toEqual(['R8']));
  it('reports every failure at once', () => expect(failed({ ...good, amountFen: 1n, validTo: '2026-12-31', kind: 'guarantor' })).toEqual(['R2', 'R4', 'R8']));
  it('re-checks amendments against R2 and R4 only', () => expect(checkAmendment({ ...good, amountFen: 1n }, section).map((c) => c.rule)).toEqual(['R2', 'R4']));
});

describe('guarantee lifecycle', () => {
  it('allows the legal moves', () => {
    expect(isLegalTransition('issued', 'amended')).toBe(true);
    expect(isLegalTransition('amended', 'amended')).toBe(true);
    expect(isLegalTransition('issued', 'cancelled')).toBe(true);
    expect(isLegalTransition('secured', 'claimed')).toBe(true);
    expect(isLegalTransition('claimed', 'claim_paid')).toBe(true);
    expect(isLegalTransition('claimed', 'claim_refused')).toBe(true);
    expect(isLegalTransition('secured', 'released')).toBe(true);
  });
  it('refuses the illegal ones', () => {
    expect(isLegalTransition('secured', 'amended')).toBe(false);
    expect(isLegalTransition('secured', 'cancelled')).toBe(false);
    expect(isLegalTransition('issued', 'claim_paid')).toBe(false);
    expect(isLegalTransition('rejected', 'secured')).toBe(false);
    expect(isLegalTransition('claimed', 'released')).toBe(false);
    expect(isLegalTransition('released', 'claimed')).toBe(false);
    expect(isLegalTransition('claim_paid', 'claim_refused')).toBe(false);
  });
});
