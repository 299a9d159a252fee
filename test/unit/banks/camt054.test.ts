import { buildCamt054, parseCamt054, readCamt054Bookings } from '../../../src/banks/iso20022/camt054';
import { BankMessageInvalid } from '../../../src/banks/types';
import { notificationEntriesMax } from '../../../src/banks/xmlLimits';
import { account19, credit, fixture, sample, sampleNames, trustAccount } from './fixtures';

describe('camt.054 samples', () => {
  test('every camt.054 sample parses', () => {
    const names = sampleNames('camt.054');
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) expect(() => parseCamt054(sample(name))).not.toThrow();
  });

  test('self-authored bid-deposit credit: one credit, exact amount, debtor and CNAPS agent', () => {
    const n = parseCamt054(sample('camt.054.001.08__selfauthored_credit.xml'));
    expect(n).toEqual({
      messageId: 'NTF-20250228-000123',
      ignored: 0,
      credits: [
        {
          entryRef: 'CN20250228BOCM000123',
          virtualAccount: '110060149018000123456',
          amountFen: 5_000_000n,
          currency: 'CNY',
          bookedAt: '2025-02-28T06:03:20.000Z',
          valueDate: '2025-02-28',
          debtor: { name: 'Bidder Construction Co Ltd', accountNumber: '0200001234567890123', bankCode: '102100099996' },
          remittance: 'T-2025-0042 BIDDEP 7781',
          bankTransactionCode: 'PMNT/RCDT/DMCT',
        },
      ],
    });
  });

  test('genkgo v8: a booked debit entry batching three transactions gives no credit; amounts exact', () => {
    const n = parseCamt054(sample('camt.054.001.08__genkgo_v8.xml'));
    expect(n).toEqual({ messageId: 'AAAASESS-FP-ACCR001', credits: [], ignored: 3 });
    const { bookings } = readCamt054Bookings(sample('camt.054.001.08__genkgo_v8.xml'));
    expect(bookings.map((b) => [b.direction, b.amountFen, b.currency])).toEqual([
      ['debit', 310n, 'CHF'],
      ['debit', 320n, 'CHF'],
      ['debit', 320n, 'CHF'],
    ]);
    expect(bookings[0].entryRef).toBe('ACSR160617103200001/1');
    expect(bookings[1].entryRef).toBe('ACSR160617103200001/2');
    expect(bookings[0].counterparty).toEqual({ name: 'Example Creditor 3 - V1', accountNumber: 'CH4112345003131313131', bankCode: '100' });
    expect(bookings[2].remittance).toBe('Unstructured Remittance Information V3 block 1 Unstructured Remittance Information V3 block 2');
  });

  test('genkgo v8 with UETR: a debit without dates; the UETR is its reference', () => {
    const n = parseCamt054(sample('camt.054.001.08__genkgo_v8_with_UETR.xml'));
    expect(n).toEqual({ messageId: 'AAAASESS-FP-ACCR001', credits: [], ignored: 1 });
    const { bookings } = readCamt054Bookings(sample('camt.054.001.08__genkgo_v8_with_UETR.xml'));
    expect(bookings).toHaveLength(1);
    expect(bookings[0]).toMatchObject({ direction: 'debit', amountFen: 20_000_000n, currency: 'SEK', entryRef: '255ae394-9965-4438-ac86-f406feada396' });
  });

  test('genkgo .001.02: plain-text Sts; transactions without amounts stay one booking of the entry amount', () => {
    const n = parseCamt054(sample('camt.054.001.02__genkgo_v2.xml'));
    expect(n).toEqual({ messageId: 'AAAASESS-FP-ACCR001', credits: [], ignored: 1 });
    const { bookings } = readCamt054Bookings(sample('camt.054.001.02__genkgo_v2.xml'));
    expect(bookings).toEqual([
      expect.objectContaining({
        direction: 'debit',
        status: 'BOOK',
        amountFen: 20_000_000n,
        currency: 'SEK',
        entryRef: 'AAAASESS-FP-ACCR001',
        bookedAt: '2007-10-18T12:15:00.000Z',
        valueDate: '2007-10-18',
      }),
    ]);
  });
});

describe('camt.054 credits', () => {
  test('a batched credit entry: each transaction is its own credit with its own reference and virtual account', () => {
    const n = parseCamt054(fixture('camt054-batched-credit.xml'));
    expect(n.messageId).toBe('NTF-BATCH-1');
    expect(n.ignored).toBe(3); // pending, reversal, debit
    expect(n.credits).toEqual([
      {
        entryRef: 'BK-A',
        virtualAccount: `${trustAccount}001`,
        amountFen: 5_000_000n,
        currency: 'CNY',
        bookedAt: '2025-03-02T16:00:00.000Z', // BookgDt/Dt: start of the day in Beijing
        bookingDateOnly: true,
        valueDate: '2025-03-04',
        debtor: { name: '甲建设有限公司', accountNumber: '0000123456789012345678', bankCode: '011100000003' },
        remittance: 'BIDDEP 1',
        endToEndId: 'E2E-A',
      },
      {
        entryRef: 'NR-77/2',
        virtualAccount: `${trustAccount}002`,
        amountFen: 5_000_001n,
        currency: 'CNY',
        bookedAt: '2025-03-02T16:00:00.000Z',
        bookingDateOnly: true,
        valueDate: '2025-03-04',
        debtor: { name: '乙工程公司', accountNumber: '' },
      },
    ]);
  });

  test('transactions that do not add up to their credit entry are refused', () => {
    const xml = fixture('camt054-batched-credit.xml').toString('utf8').replace('100000.01', '100000.02');
    expect(() => parseCamt054(xml)).toThrow(BankMessageInvalid);
    expect(() => parseCamt054(xml)).toThrow(/sum to/);
  });

  test('a fraction of a fen is refused, never rounded', () => {
    const xml = fixture('camt054-batched-credit.xml').toString('utf8').replace('50000.00</ns2:Amt>', '50000.001</ns2:Amt>');
    expect(() => parseCamt054(xml)).toThrow(/fractions of a fen/);
  });

  test('a booked credit with no reference at all is refused (it could not be de-duplicated)', () => {
    const xml = buildCamt054({ messageId: 'N1', createdAt: new Date(), account: trustAccount, credits: [credit()] })
      .replace(/<AcctSvcrRef>[^<]*<\/AcctSvcrRef>/g, '')
      .replace('<EndToEndId>NOTPROVIDED</EndToEndId>', '');
    expect(() => parseCamt054(xml)).toThrow(/without any reference/);
  });

  test(`more than ${notificationEntriesMax} entries are refused`, () => {
    const entry = '<Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BkTxCd/></Ntry>';
    const xml = `<Document><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>X</MsgId></GrpHdr><Ntfctn><Acct><Id><Othr><Id>1</Id></Othr></Id></Acct>${entry.repeat(notificationEntriesMax + 1)}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;
    expect(() => parseCamt054(xml)).toThrow(new RegExp(`more than ${notificationEntriesMax} entries`));
  });

  test('what we build reads back as the same credits', () => {
    const credits = [
      credit(),
      credit({ entryRef: 'R2', amountFen: 1n, debtor: { name: '', accountNumber: '' }, remittance: undefined, virtualAccount: account19, endToEndId: 'E2E-2' }),
      credit({ entryRef: 'R3', amountFen: 99999999999999999n }),
    ];
    const n = parseCamt054(buildCamt054({ messageId: 'NTF-1', createdAt: new Date('2025-02-28T06:03:22Z'), account: trustAccount, accountName: '交易中心', credits }));
    expect(n.messageId).toBe('NTF-1');
    expect(n.ignored).toBe(0);
    // toEqual treats the absent remittance of the second credit as equal to undefined. The
    // builder writes the code of a received transfer when none is given, and it reads back.
    expect(n.credits).toEqual(credits.map((c) => ({ ...c, bankTransactionCode: 'PMNT/RCDT/DMCT' })));
  });
});

