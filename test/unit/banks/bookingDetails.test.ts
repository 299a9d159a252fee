// Reversals (冲正), returned payments (退汇), interest (结息) and date-only bookings, in both
// protocols: what the bank writes reads back with the fields the service acts on.
import { Readable } from 'node:stream';
import { buildCamt054, parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { camt053Chunks, parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import {
  cnh2hBuildCreditNotice,
  cnh2hBuildStatement,
  cnh2hParseCreditNotice,
  cnh2hParseStatementStream,
} from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid, type CreditEntry, type StatementEntry } from '../../../src/banks/types';
import { credit, statementEntry, trustAccount } from './fixtures';

const virtual = `${trustAccount}001`;
/** 01:30 on 1 March in Beijing, still 28 February in UTC. */
const earlyMorning = '2025-02-28T17:30:00.000Z';

const reversalOf = (original: CreditEntry): CreditEntry => ({
  ...original,
  entryRef: 'RV0000000001D',
  bookedAt: '2025-03-01T02:00:00.000Z',
  valueDate: '2025-03-01',
  bankTransactionCode: 'PMNT/RCDT/DMCT',
  reversal: true,
  originalEntryRef: original.entryRef,
});
const returned = credit({
  entryRef: 'RT0000000001C',
  virtualAccount: trustAccount,
  endToEndId: 'RFD-BID-7781-1',
  bankTransactionCode: 'PMNT/ICDT/RRTN',
  returnInfo: { reasonCode: 'AC04', originalEndToEndId: 'RFD-BID-7781-1' },
});
const interest = credit({
  entryRef: 'IN0000000001C',
  virtualAccount: trustAccount,
  debtor: { name: '', accountNumber: '' },
  remittance: '2025Q1 结息 interest',
  bankTransactionCode: 'ACMT/MCOP/INTR',
});

function camt054(n: { credits?: CreditEntry[]; reversals?: CreditEntry[] }): string {
  return buildCamt054({ messageId: 'NTF-K', createdAt: new Date('2025-03-01T02:00:01Z'), account: trustAccount, credits: n.credits ?? [], reversals: n.reversals });
}

describe('camt.054: what kind of booking each entry is', () => {
  test('a reversal is a DBIT with RvslInd, its own reference, the credit\'s references and virtual account; listed, not credited', () => {
    const original = credit({ endToEndId: 'PAYER-E2E-1' });
    const xml = camt054({ reversals: [reversalOf(original)] });
    expect(xml).toContain('<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>');
    expect(xml).toContain(`<AcctSvcrRef>RV0000000001D</AcctSvcrRef>`);
    expect(xml).toContain(`<Refs><AcctSvcrRef>${original.entryRef}</AcctSvcrRef><EndToEndId>PAYER-E2E-1</EndToEndId></Refs>`);
    const n = parseCamt054(xml);
    expect(n.credits).toEqual([]);
    expect(n.ignored).toBe(1);
    expect(n.reversals).toEqual([reversalOf(original)]);
  });

  test('a reversal whose bank repeats the original\'s reference at entry level names that reference as the original', () => {
    const xml = camt054({ reversals: [reversalOf(credit())] }).replace('<AcctSvcrRef>RV0000000001D</AcctSvcrRef>', '').replace(/<Refs><AcctSvcrRef>[^<]*<\/AcctSvcrRef>/, '<Refs>');
    const withEntryRef = xml.replace('<BkTxCd>', `<AcctSvcrRef>${credit().entryRef}</AcctSvcrRef><BkTxCd>`);
    expect(parseCamt054(withEntryRef).reversals).toEqual([expect.objectContaining({ entryRef: credit().entryRef, originalEntryRef: credit().entryRef })]);
  });

  test('a reversal without reference or date is still only counted as ignored, as before reversals were listed', () => {
    const xml = camt054({ reversals: [reversalOf(credit())] }).replace(/<AcctSvcrRef>[^<]*<\/AcctSvcrRef>/g, '').replace('<EndToEndId>NOTPROVIDED</EndToEndId>', '');
    const n = parseCamt054(xml.replace(/<BookgDt>.*?<\/BookgDt>/, ''));
    expect(n).toEqual({ messageId: 'NTF-K', credits: [], ignored: 1 });
  });

  test('a returned payment is a credit with its return reason (RtrInf) and the original end-to-end id, code PMNT/ICDT/RRTN', () => {
    const xml = camt054({ credits: [returned] });
    expect(xml).toContain('<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>');
    expect(xml).toContain('<Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd>');
    expect(parseCamt054(xml).credits).toEqual([returned]);
  });

  test('interest is a credit coded ACMT/MCOP/INTR, without a payer', () => {
    const n = parseCamt054(camt054({ credits: [interest] }));
    expect(n.credits).toEqual([{ ...interest, remittance: '2025Q1 结息 interest' }]);
    expect(n.credits[0].debtor).toEqual({ name: '', accountNumber: '' });
  });

  test('a date-only booking gives BookgDt/Dt, the business date in Beijing; it reads back as the start of that day', () => {
    const c = credit({ bookedAt: earlyMorning, valueDate: '2025-03-01', bookingDateOnly: true });
    const xml = camt054({ credits: [c] });
    expect(xml).toContain('<BookgDt><Dt>2025-03-01</Dt></BookgDt>');
    expect(parseCamt054(xml).credits[0]).toMatchObject({ bookedAt: '2025-02-28T16:00:00.000Z', bookingDateOnly: true, valueDate: '2025-03-01' });
  });

  test('the builder refuses a reversal that names no original and a return coded otherwise', () => {
    expect(() => camt054({ reversals: [{ ...reversalOf(credit()), originalEntryRef: undefined }] })).toThrow(/must name the credit/);
    expect(() => camt054({ credits: [{ ...returned, bankTransactionCode: 'PMNT/ICD/RRTN' }] })).toThrow(/Domain\/Family\/SubFamily/);
    expect(() => camt054({ credits: [reversalOf(credit())] })).toThrow(/is a reversal, not a credit/);
  });
});

describe('camt.053: the same details on statement lines', () => {
  const header = {
    messageId: 'STM-K',
    statementId: 'STM-K-1',
    account: trustAccount,
    currency: 'CNY',
    date: '2025-03-01',
    openingBalanceFen: 0n,
    closingBalanceFen: 0n,
    createdAt: new Date('2025-03-01T15:00:00Z'),
  };

  test('reversal, return, interest and a date-only credit read back as written', async () => {
    const lines: StatementEntry[] = [
      statementEntry(1, { bookedAt: earlyMorning, valueDate: '2025-03-01', bookingDateOnly: true, bankTransactionCode: 'PMNT/RCDT/DMCT' }),
      statementEntry(2, { entryRef: 'RV1D', direction: 'debit', account: virtual, reversal: true, originalEntryRef: 'BK0000000001', bankTransactionCode: 'PMNT/RCDT/DMCT' }),
      statementEntry(4, { entryRef: 'RT1C', account: trustAccount, endToEndId: 'RFD-1', bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'BE01', originalEndToEndId: 'RFD-1' } }),
      statementEntry(5, { entryRef: 'IN1C', account: trustAccount, counterparty: {}, bankTransactionCode: 'ACMT/MCOP/INTR' }),
    ];
    const got: StatementEntry[] = [];
    await parseCamt053Stream([...camt053Chunks(header, lines)].join(''), (e) => {
      got.push(e);
    });
    expect(got).toEqual([
      { ...lines[0], bookedAt: '2025-02-28T16:00:00.000Z', reversal: false },
      lines[1],
      { ...lines[2], reversal: false },
      { ...lines[3], reversal: false },
    ]);
  });
});

describe('cn-h2h E2B0001: notice types', () => {
  test('a reversal notice (02): D with revFlag 1 and origBankSerialNo, listed as a reversal', () => {
    const original = credit({ endToEndId: 'PAYER-E2E-1' });
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-RV', account: trustAccount, credits: [], reversals: [reversalOf(original)] });
    expect(notice.body.noticeType).toBe('02');
    expect(notice.body.details[0]).toMatchObject({ drCrFlag: 'D', revFlag: '1', origBankSerialNo: original.entryRef, subAcctNo: virtual, tranType: 'TRF', bizSerialNo: 'PAYER-E2E-1' });
    const n = cnh2hParseCreditNotice(JSON.stringify(notice));
    expect(n).toEqual({ messageId: 'NTC-RV', credits: [], ignored: 1, reversals: [reversalOf(original)] });
  });

  test('a return notice (03): tranType RTN with the bank\'s own reason code, read back as the ISO reason', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-RT', account: trustAccount, credits: [returned] });
    expect(notice.body.noticeType).toBe('03');
    expect(notice.body.details[0]).toMatchObject({ drCrFlag: 'C', tranType: 'RTN', rtnCode: 'E1004', bizSerialNo: 'RFD-BID-7781-1' });
    expect(cnh2hParseCreditNotice(notice).credits).toEqual([returned]);
  });

  test('an interest notice (04): tranType INT, no counterparty', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-IN', account: trustAccount, credits: [interest] });
    expect(notice.body.noticeType).toBe('04');
    expect(notice.body.details[0]).not.toHaveProperty('oppAcctNo');
    expect(cnh2hParseCreditNotice(notice).credits).toEqual([interest]);
  });

  test('a date-only booking has no tranTime; it reads back as the start of the day in Beijing', () => {
    const c = credit({ bookedAt: earlyMorning, valueDate: '2025-03-01', bookingDateOnly: true });
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-D', account: trustAccount, credits: [c] });
    expect(notice.body.details[0].tranDate).toBe('20250301');
    expect(notice.body.details[0]).not.toHaveProperty('tranTime');
    expect(cnh2hParseCreditNotice(notice).credits[0]).toMatchObject({ bookedAt: '2025-02-28T16:00:00.000Z', bookingDateOnly: true });
  });

  test('a notice written before types existed reads as it always did', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-OLD', account: trustAccount, credits: [credit()] });
    delete notice.body.noticeType;
    expect(cnh2hParseCreditNotice(notice)).toEqual({ messageId: 'NTC-OLD', credits: [credit()], ignored: 0 });
  });

  test('details that contradict the notice type, and unknown types, are refused naming the field', () => {
    const asReversal = cnh2hBuildCreditNotice({ messageId: 'NTC-X', account: trustAccount, credits: [credit()] });
    asReversal.body.noticeType = '02';
    expect(() => cnh2hParseCreditNotice(asReversal)).toThrow(/body.details\[0\]: does not fit the notice's noticeType 02/);
    const unknownType = cnh2hBuildCreditNotice({ messageId: 'NTC-Y', account: trustAccount, credits: [credit()] });
    (unknownType.body as { noticeType: string }).noticeType = '09';
    expect(() => cnh2hParseCreditNotice(unknownType)).toThrow(BankMessageInvalid);
    const noReason = cnh2hBuildCreditNotice({ messageId: 'NTC-Z', account: trustAccount, credits: [returned] });
    delete noReason.body.details[0].rtnCode;
    expect(() => cnh2hParseCreditNotice(noReason)).toThrow(/rtnCode: a return/);
    const strayOriginal = cnh2hBuildCreditNotice({ messageId: 'NTC-W', account: trustAccount, credits: [credit()] });
    strayOriginal.body.details[0].origBankSerialNo = 'BK1';
    expect(() => cnh2hParseCreditNotice(strayOriginal)).toThrow(/origBankSerialNo: only a reversal/);
  });

  test('one kind per notice: the builder refuses a mix', () => {
    expect(() => cnh2hBuildCreditNotice({ messageId: 'NTC-M', account: trustAccount, credits: [credit(), interest] })).toThrow(/one kind of credit per notice/);
    expect(() => cnh2hBuildCreditNotice({ messageId: 'NTC-N', account: trustAccount, credits: [credit()], reversals: [reversalOf(credit())] })).toThrow(/reversals only/);
  });

  test('a tranType the codec does not know passes through as the bank wrote it', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-T', account: trustAccount, credits: [credit()] });
    notice.body.details[0].tranType = 'FEE';
    expect(cnh2hParseCreditNotice(notice).credits[0].bankTransactionCode).toBe('FEE');
  });
});

describe('cn-h2h B2E0003: the same details on statement lines', () => {
  test('reversal, return, interest and a date-only line read back', async () => {
    const header = { messageId: 'STM-C', statementId: 'STMNO-C', account: trustAccount, currency: 'CNY', date: '2025-03-01', openingBalanceFen: 0n, closingBalanceFen: 0n };
    const lines: StatementEntry[] = [
      statementEntry(1, { bookedAt: earlyMorning, valueDate: '2025-03-01', bookingDateOnly: true, bankTransactionCode: 'PMNT/RCDT/DMCT', reversal: false }),
      statementEntry(2, { entryRef: 'RV1D', direction: 'debit', account: virtual, reversal: true, originalEntryRef: 'BK0000000001', bankTransactionCode: 'PMNT/RCDT/DMCT' }),
      statementEntry(4, { entryRef: 'RT1C', account: trustAccount, endToEndId: 'RFD-1', bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'BE01', originalEndToEndId: 'RFD-1' }, reversal: false }),
      statementEntry(5, { entryRef: 'IN1C', account: trustAccount, counterparty: {}, bankTransactionCode: 'ACMT/MCOP/INTR', reversal: false }),
    ];
    const got: StatementEntry[] = [];
    await cnh2hParseStatementStream(Readable.from([...cnh2hBuildStatement(header, lines)].join('')), (e) => {
      got.push(e);
    });
    expect(got).toEqual([{ ...lines[0], bookedAt: '2025-02-28T16:00:00.000Z' }, lines[1], lines[2], lines[3]]);
  });
});
