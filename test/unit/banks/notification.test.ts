import { parseNotification, parseServiceNotification, completeStatusReport } from '../../../src/banks/adapters';
import { buildCamt054 } from '../../../src/banks/iso20022/camt054';
import { cnh2hBuildCreditNotice, cnh2hBuildPaymentRequest } from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid } from '../../../src/banks/types';
import { credit, sample, transferBatch, trustAccount } from './fixtures';

const serviceJson = {
  eventId: 'evt_20250228_0001',
  entries: [
    {
      entryRef: 'CN20250228BOCM000123',
      virtualAccount: '0110060149018000123456001',
      amount: '50000.00',
      currency: 'CNY',
      bookedAt: '2025-02-28T14:03:20+08:00',
      valueDate: '2025-02-28',
      debtor: { name: 'Bidder Construction Co Ltd', accountNumber: '0200001234567890123', bankCode: '102100099996' },
      remittance: 'T-2025-0042 BIDDEP 7781',
    },
  ],
};

describe('parseNotification picks the reader by content', () => {
  test('XML is camt.054', () => {
    const n = parseNotification(sample('camt.054.001.08__selfauthored_credit.xml'), 'application/xml');
    expect(n.credits[0].amountFen).toBe(5_000_000n);
  });

  test('XML sent as text/plain is still recognised', () => {
    const xml = Buffer.from(buildCamt054({ messageId: 'N1', createdAt: new Date(), account: trustAccount, credits: [credit()] }));
    expect(parseNotification(xml, 'text/plain').messageId).toBe('N1');
  });

  test('JSON with a cn-h2h credit-notice head is a cn-h2h notice', () => {
    const body = Buffer.from(JSON.stringify(cnh2hBuildCreditNotice({ messageId: 'NTC-1', account: trustAccount, credits: [credit()] })));
    const n = parseNotification(body, 'application/json; charset=utf-8');
    expect(n).toMatchObject({ messageId: 'NTC-1', ignored: 0 });
    expect(n.credits[0].virtualAccount).toBe(`${trustAccount}001`);
  });

  test('a cn-h2h message that is not a credit notice is refused', () => {
    const body = Buffer.from(JSON.stringify(cnh2hBuildPaymentRequest(transferBatch())));
    expect(() => parseNotification(body, 'application/json')).toThrow(/not a credit notice/);
  });

  test("the service's own JSON shape: messageId is the eventId, amounts exact", () => {
    const n = parseNotification(Buffer.from(JSON.stringify(serviceJson)), 'application/json');
    expect(n).toEqual({
      messageId: 'evt_20250228_0001',
      ignored: 0,
      credits: [
        {
          entryRef: 'CN20250228BOCM000123',
          virtualAccount: '0110060149018000123456001',
          amountFen: 5_000_000n,
          currency: 'CNY',
          bookedAt: '2025-02-28T06:03:20.000Z',
          valueDate: '2025-02-28',
          debtor: { name: 'Bidder Construction Co Ltd', accountNumber: '0200001234567890123', bankCode: '102100099996' },
          remittance: 'T-2025-0042 BIDDEP 7781',
        },
      ],
    });
  });

  test('neither XML nor JSON is refused', () => {
    expect(() => parseNotification(Buffer.from('amount=5'), 'application/x-www-form-urlencoded')).toThrow(BankMessageInvalid);
  });
});

describe('service JSON notification is validated field by field', () => {
  const withEntry = (patch: Record<string, unknown>) => ({ ...serviceJson, entries: [{ ...serviceJson.entries[0], ...patch }] });
  test.each([
    [{ amount: 50000 }, /entries\[0\].amount: must be a string/],
    [{ amount: '50000.001' }, /entries\[0\].amount: .*two decimal/],
    [{ amount: '-1.00' }, /entries\[0\].amount: .*negative/],
    [{ amount: '0.00' }, /entries\[0\].amount: .*greater than zero/],
    [{ amount: '1e5' }, /entries\[0\].amount/],
    [{ currency: 'cny' }, /entries\[0\].currency/],
    [{ bookedAt: '2025-02-28T14:03:20' }, /entries\[0\].bookedAt: must carry a UTC offset/],
    [{ bookedAt: 'yesterday' }, /entries\[0\].bookedAt/],
    [{ valueDate: '2025-02-30' }, /entries\[0\].valueDate/],
    [{ entryRef: '' }, /entries\[0\].entryRef/],
    [{ virtualAccount: 110 }, /entries\[0\].virtualAccount/],
    [{ debtor: null }, /entries\[0\].debtor/],
    [{ debtor: { name: 'x', accountNumber: '1', bankCode: '123' } }, /entries\[0\].debtor.bankCode/],
  ])('%j is refused', (patch, message) => {
    expect(() => parseServiceNotification(withEntry(patch))).toThrow(message);
  });

  test('a missing eventId is refused', () => {
    expect(() => parseServiceNotification({ entries: [] })).toThrow(/eventId/);
  });

  test('an account number keeps its leading zero', () => {
    const n = parseServiceNotification(withEntry({ virtualAccount: '0000000000000000000001' }));
    expect(n.credits[0].virtualAccount).toBe('0000000000000000000001');
  });
});

describe('completeStatusReport', () => {
  test('a whole-file status applies to unlisted transfers; without one they are unknown', () => {
    expect(completeStatusReport({ originalMessageId: 'M', groupStatus: 'RJCT', groupReasonCode: 'FF01', transactions: [] }, ['E1']).transactions).toEqual([
      { endToEndId: 'E1', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'FF01' },
    ]);
    expect(completeStatusReport({ originalMessageId: 'M', transactions: [] }, ['E1']).transactions).toEqual([{ endToEndId: 'E1', outcome: 'unknown', bankStatus: '' }]);
  });
});
