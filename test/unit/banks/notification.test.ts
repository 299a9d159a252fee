import { parseAmount } from '../../../src/domain/money';
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

describe('service JSON notification is strict (zod strictObject), each error naming its field', () => {
  const withEntry = (patch: Record<string, unknown>) => ({ ...serviceJson, entries: [{ ...serviceJson.entries[0], ...patch }] });
  const refusalOf = (input: unknown): BankMessageInvalid => {
    try {
      parseServiceNotification(input);
    } catch (e) {
      if (e instanceof BankMessageInvalid) return e;
      throw e;
    }
    throw new Error('accepted');
  };

  test.each([
    [{ ...serviceJson, isAdmin: true }, '$.isAdmin', /unknown field/],
    [JSON.parse(`{"__proto__": {"isAdmin": true}, ${JSON.stringify(serviceJson).slice(1)}`), '$.__proto__', /unknown field/],
    [withEntry({ isAdmin: true }), '$.entries[0].isAdmin', /unknown field/],
    [withEntry({ debtor: { ...serviceJson.entries[0].debtor, role: 'admin' } }), '$.entries[0].debtor.role', /unknown field/],
    [withEntry({ bookedAt: '2026-02-30T00:00:00Z' }), '$.entries[0].bookedAt', /not a date and time/],
    [withEntry({ bookedAt: '2026-02-28T24:30:00+08:00' }), '$.entries[0].bookedAt', /not a date and time/],
    [withEntry({ bookedAt: '2026-02-28T10:00:00' }), '$.entries[0].bookedAt', /must carry a UTC offset/],
    [withEntry({ valueDate: '2025-02-29' }), '$.entries[0].valueDate', /not a calendar date/],
    [withEntry({ amount: '1.001' }), '$.entries[0].amount', /at most two decimal places/],
    [withEntry({ amount: '0.00' }), '$.entries[0].amount', /greater than zero/],
    [withEntry({ currency: 'CN' }), '$.entries[0].currency', /ISO 4217/],
    [withEntry({ remittance: 'line\u0000break' }), '$.entries[0].remittance', /control characters/],
    [withEntry({ virtualAccount: '0110 0601' }), '$.entries[0].virtualAccount', /letters and digits only/],
    [{ eventId: 'e1' }, '$.entries', /required/],
    [{ ...serviceJson, entries: {} }, '$.entries', /must be an array/],
  ])('%j is refused at %s', (input, field, message) => {
    const e = refusalOf(input);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  test('a leap day is a day', () => {
    const n = parseServiceNotification(withEntry({ bookedAt: '2024-02-29T23:59:59+08:00', valueDate: '2024-02-29' }));
    expect(n.credits[0]).toMatchObject({ bookedAt: '2024-02-29T15:59:59.000Z', valueDate: '2024-02-29' });
  });

  test('optional fields may be null, as many JSON writers send them', () => {
    const n = parseServiceNotification(withEntry({ remittance: null, endToEndId: null, debtor: { ...serviceJson.entries[0].debtor, bankCode: null } }));
    expect(n.credits[0].remittance).toBeUndefined();
    expect(n.credits[0].debtor.bankCode).toBeUndefined();
  });

  test('the same entry twice is read once; one reference for two bookings yields both', () => {
    const twice = { ...serviceJson, entries: [serviceJson.entries[0], serviceJson.entries[0]] };
    expect(parseServiceNotification(twice)).toMatchObject({ ignored: 1, credits: [{ entryRef: serviceJson.entries[0].entryRef }] });
    const clash = { ...serviceJson, entries: [serviceJson.entries[0], { ...serviceJson.entries[0], amount: '1.00' }] };
    expect(parseServiceNotification(clash).credits.map((c) => c.amountFen)).toEqual([parseAmount(serviceJson.entries[0].amount), 100n]);
  });
});

describe('bank date-times are real dates and times', () => {
  test.each(['2026-02-30T00:00:00', '2026-02-28T24:00:00', '2026-02-28T23:60:00', '2026-02-28T23:59:60', '2026-02-28T10:00:00+14:01', '2026-02-28T10:00:00+08:60', '9999-12-31T23:59:59-14:00', '1989-12-31T12:00:00+08:00', '2999-12-31T20:00:00-12:00'])(
    '%s in a camt.054 is refused, not rolled over',
    (bad) => {
      const xml = buildCamt054({ messageId: 'N1', createdAt: new Date(), account: trustAccount, credits: [credit()] }).replace(/<DtTm>[^<]*<\/DtTm>/, `<DtTm>${bad}</DtTm>`);
      expect(() => parseNotification(Buffer.from(xml), 'application/xml')).toThrow(BankMessageInvalid);
    },
  );

  test('+14:00 and -12:00 are offsets', () => {
    for (const at of ['2026-02-28T10:00:00+14:00', '2026-02-28T10:00:00-12:00']) {
      const xml = buildCamt054({ messageId: 'N1', createdAt: new Date(), account: trustAccount, credits: [credit()] }).replace(/<DtTm>[^<]*<\/DtTm>/, `<DtTm>${at}</DtTm>`);
      expect(parseNotification(Buffer.from(xml), 'application/xml').credits[0].bookedAt).toBe(new Date(at).toISOString());
    }
  });
});
