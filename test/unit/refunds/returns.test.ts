import { endToEndIdOf } from '../../../src/refunds/repo';
import { endToEndIdAfterReturn, paymentGeneration, r17AfterReturn, refundReturnsMax, returnReasonText } from '../../../src/refunds/rules';

const refundId = 'rfd_01kc0000000000000000000000';
const first = endToEndIdOf(refundId);

describe('R17 a refund whose payment came back (退汇)', () => {
  it('is sent again under a new end-to-end id, <first>-2, then -3, each within ISO 20022\u2019s 35 characters', () => {
    expect(endToEndIdAfterReturn(first, first)).toBe(`${first}-2`);
    expect(endToEndIdAfterReturn(first, `${first}-2`)).toBe(`${first}-3`);
    const last = endToEndIdAfterReturn(first, `${first}-${refundReturnsMax}`);
    expect(last).toBe(`${first}-${refundReturnsMax + 1}`);
    expect(last.length).toBeLessThanOrEqual(35);
  });

  it('knows which payment of its refund an end-to-end id is, and refuses an id that is not the refund\u2019s', () => {
    expect(paymentGeneration(first, first)).toBe(1);
    expect(paymentGeneration(first, `${first}-7`)).toBe(7);
    expect(() => paymentGeneration(first, 'Eelsewhere-2')).toThrow(/does not follow/);
    expect(() => endToEndIdAfterReturn(first, `${first}-${refundReturnsMax + 1}`)).toThrow(/more than/);
  });

  it('waits for a person with the bank\u2019s reason in words, never for the worker to pay elsewhere', () => {
    expect(returnReasonText('AC04')).toMatch(/closed account/);
    expect(returnReasonText('ZZ99', 'payee unknown')).toMatch(/does not know.*payee unknown/);
    const reason = r17AfterReturn({ reasonCode: 'BE01', endToEndId: first, creditorAccount: '6222000011112222' });
    expect(reason).toMatch(/^R17/);
    expect(reason).toMatch(/BE01/);
    expect(reason).toMatch(/name does not match/);
    expect(reason).toMatch(/recorded decision/);
  });
});
