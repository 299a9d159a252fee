import { checkSectionTakesCredits, heldOnR3 } from '../../../src/deposits/rules';

describe('a credit to a finished section, and deposits held on R3', () => {
  const signed = new Date('2026-03-20T02:00:00Z');
  it('R11 R16 a contracted, closed or terminated section takes no credit; an open, opened or awarded one does', () => {
    for (const status of ['open', 'opened', 'awarded']) expect(checkSectionTakesCredits({ status, contractSignedAt: null, terminatedAt: null })).toBeUndefined();
    for (const status of ['contracted', 'closed']) {
      expect(checkSectionTakesCredits({ status, contractSignedAt: signed, terminatedAt: null })).toEqual({ rule: 'R11', ok: false, detail: expect.stringContaining(`contract signed on ${signed.toISOString()}`) });
    }
    expect(checkSectionTakesCredits({ status: 'terminated', contractSignedAt: null, terminatedAt: signed })).toEqual({ rule: 'R16', ok: false, detail: expect.stringMatching(/terminated on .*returned to its source/) });
  });

  it('R3 a deposit is held on R3 only when nothing failed and its R3 check did not pass', () => {
    const r3Undecided = { rule: 'R3', ok: false, detail: 'undecided' };
    expect(heldOnR3({ status: 'held', checks: [r3Undecided, { rule: 'R5', ok: true }], failed_rules: [] })).toBe(true);
    // Held after a returned refund (R17): its R3 passed long ago.
    expect(heldOnR3({ status: 'held', checks: [{ rule: 'R3', ok: true }], failed_rules: [] })).toBe(false);
    expect(heldOnR3({ status: 'invalid', checks: [r3Undecided], failed_rules: ['R3'] })).toBe(false);
  });
});
