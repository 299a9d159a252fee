import { r3BookedBeforeDeadline, r4Currency, r4Total, r5FromBasicAccount } from '../../../src/deposits/rules';

const deadline = new Date('2026-03-01T02:00:00Z');

describe('deposit rules', () => {
  it('R3 accepts a booking before the deadline and rejects one at or after it', () => {
    expect(r3BookedBeforeDeadline(new Date('2026-03-01T01:59:59Z'), deadline).ok).toBe(true);
    expect(r3BookedBeforeDeadline(deadline, deadline).ok).toBe(false);
    expect(r3BookedBeforeDeadline(new Date('2026-03-02T00:00:00Z'), deadline)).toMatchObject({ rule: 'R3', ok: false });
  });

  it('R3 judges a booking stamped to the second by the whole of that second', () => {
    const subSecondDeadline = new Date('2026-03-01T02:00:00.300Z');
    // Stamped 02:00:00 by the bank: it may have been at 02:00:00.700, after the deadline.
    expect(r3BookedBeforeDeadline(new Date('2026-03-01T02:00:00Z'), subSecondDeadline).ok).toBe(false);
    expect(r3BookedBeforeDeadline(new Date('2026-03-01T01:59:59Z'), subSecondDeadline).ok).toBe(true);
    // A bank that reports milliseconds is taken at its word.
    expect(r3BookedBeforeDeadline(new Date('2026-03-01T02:00:00.200Z'), subSecondDeadline).ok).toBe(true);
    expect(r3BookedBeforeDeadline(new Date('2026-03-01T02:00:00.300Z'), subSecondDeadline).ok).toBe(false);
  });

  it('R4 waits while short, completes with the excess, and treats a credit after completion as all excess', () => {
    expect(r4Total({ requiredFen: 5000000n, securedFen: 0n, waitingFen: 0n, creditFen: 3000000n })).toMatchObject({ kind: 'short', totalFen: 3000000n });
    expect(r4Total({ requiredFen: 5000000n, securedFen: 0n, waitingFen: 3000000n, creditFen: 2000000n })).toMatchObject({ kind: 'complete', excessFen: 0n });
    expect(r4Total({ requiredFen: 5000000n, securedFen: 0n, waitingFen: 3000000n, creditFen: 2500050n })).toMatchObject({ kind: 'complete', excessFen: 500050n });
    expect(r4Total({ requiredFen: 5000000n, securedFen: 5000000n, waitingFen: 0n, creditFen: 1n })).toMatchObject({ kind: 'surplus', excessFen: 1n });
    expect(r4Currency('USD')).toMatchObject({ rule: 'R4', ok: false });
    expect(r4Currency('CNY')).toBeUndefined();
  });

  it('R5 rejects a deposit paid from another account or under another name', () => {
    const basic = { number: '0200001234567890123', name: '甲建设有限公司' };
    expect(r5FromBasicAccount({ accountNumber: '0200001234567890123', name: '甲建设有限公司' }, basic).ok).toBe(true);
    expect(r5FromBasicAccount({ accountNumber: '200001234567890123', name: '甲建设有限公司' }, basic)).toMatchObject({ rule: 'R5', ok: false });
    expect(r5FromBasicAccount({ accountNumber: '0200001234567890123', name: '甲建设有限责任公司' }, basic).ok).toBe(false);
  });

  it('R5 treats a full-width or differently spaced name as the same holder', () => {
    expect(r5FromBasicAccount({ accountNumber: '1', name: 'ＡＢＣ建设（集团）有限公司' }, { number: '1', name: 'abc建设 (集团) 有限公司' }).ok).toBe(true);
  });
});
