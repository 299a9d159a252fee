// Returns (退汇) as banks encode them, and the readings around them that decide where money goes.
import { parseCamt054, readCamt054Bookings } from '../../../src/banks/iso20022/camt054';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../../src/banks/types';
import { fixture } from './fixtures';

const ns = 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08';
const notification = (entries: string) =>
  `<Document xmlns="${ns}"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId></GrpHdr><Ntfctn><Acct><Id><Othr><Id>0110060149018000123456</Id></Othr></Id></Acct>${entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;
const rrtn = '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>';
const booked = '<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2025-03-03T10:00:00+08:00</DtTm></BookgDt>';

describe('a refund of ours that came back', () => {
  test('booked as the reversal of our debit (CRDT, RvslInd true, RRTN, RtrInf) is a credit with returnInfo, not a reversal', () => {
    const n = parseCamt054(
      notification(
        `<Ntry><Amt Ccy="CNY">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>${booked}<AcctSvcrRef>RET-1</AcctSvcrRef>${rrtn}` +
          '<NtryDtls><TxDtls><Refs><EndToEndId>RFD-1-1</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>closed</AddtlInf></RtrInf></TxDtls></NtryDtls></Ntry>',
      ),
    );
    expect(n.ignored).toBe(0);
    expect(n.reversals).toBeUndefined();
    expect(n.credits).toHaveLength(1);
    expect(n.credits[0]).toMatchObject({ entryRef: 'RET-1', amountFen: 50_000n, bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'AC04', originalEndToEndId: 'RFD-1-1', additionalInfo: 'closed' } });
    expect(n.credits[0].reversal).toBeUndefined();
    expect(n.credits[0].originalEntryRef).toBeUndefined();
  });

  test('coded RRTN without RtrInf is a return whose reason was not given (NARR)', () => {
    const n = parseCamt054(notification(`<Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>${booked}<AcctSvcrRef>RET-2</AcctSvcrRef>${rrtn}<NtryDtls><TxDtls><Refs><EndToEndId>RFD-2-1</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>`));
    expect(n.credits[0].returnInfo).toEqual({ reasonCode: 'NARR', originalEndToEndId: 'RFD-2-1' });
  });

  test('a credit reversal without any sign of a return stays ignored', () => {
    const n = parseCamt054(notification(`<Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>${booked}<AcctSvcrRef>RV-1</AcctSvcrRef><BkTxCd/></Ntry>`));
    expect(n).toMatchObject({ credits: [], ignored: 1 });
  });

  test('a statement keeps the bank\u2019s RvslInd on the return line, with its returnInfo', async () => {
    const entries: StatementEntry[] = [];
    await parseCamt053Stream(fixture('camt053.001.02-local-eod.xml'), (e) => {
      entries.push(e);
    });
    expect(entries.find((e) => e.returnInfo)).toMatchObject({ direction: 'credit', reversal: true, returnInfo: { reasonCode: 'AC04', originalEndToEndId: 'RFD-dep01JNW0A1B2-1' } });
  });
});

describe('references and amounts that decide where money goes', () => {
  test('batched transactions that copy the entry\u2019s AcctSvcrRef are told apart by position', () => {
    const tx = (amt: string, va: string) => `<TxDtls><Refs><AcctSvcrRef>E-9</AcctSvcrRef></Refs><Amt Ccy="CNY">${amt}</Amt><RltdPties><CdtrAcct><Id><Othr><Id>${va}</Id></Othr></Id></CdtrAcct></RltdPties></TxDtls>`;
    const n = parseCamt054(notification(`<Ntry><Amt Ccy="CNY">3.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>${booked}<AcctSvcrRef>E-9</AcctSvcrRef><BkTxCd/><NtryDtls>${tx('1.00', '111111')}${tx('2.00', '222222')}</NtryDtls></Ntry>`));
    expect(n.credits.map((c) => [c.entryRef, c.amountFen, c.virtualAccount])).toEqual([['E-9/1', 100n, '111111'], ['E-9/2', 200n, '222222']]);
  });

  test('a booked credit of 0.00 moves no money: ignored, never a credit', () => {
    const n = parseCamt054(notification(`<Ntry><Amt Ccy="CNY">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>${booked}<AcctSvcrRef>Z-1</AcctSvcrRef><BkTxCd/></Ntry>`));
    expect(n).toMatchObject({ credits: [], ignored: 1 });
    expect(readCamt054Bookings(notification(`<Ntry><Amt Ccy="CNY">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>${booked}<AcctSvcrRef>Z-1</AcctSvcrRef><BkTxCd/></Ntry>`)).bookings).toHaveLength(1);
  });

  test('one entry notified twice is one credit; one reference for two bookings yields both', () => {
    const entry = (amt: string) => `<Ntry><Amt Ccy="CNY">${amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd>${booked}<AcctSvcrRef>D-1</AcctSvcrRef><BkTxCd/></Ntry>`;
    expect(parseCamt054(notification(entry('5.00') + entry('5.00')))).toMatchObject({ credits: [{ entryRef: 'D-1', amountFen: 500n }], ignored: 1 });
    expect(parseCamt054(notification(entry('5.00') + entry('6.00'))).credits.map((c) => c.amountFen)).toEqual([500n, 600n]);
  });

  test('a statement line dated by its value date alone is a date-only booking', async () => {
    const entries: StatementEntry[] = [];
    await parseCamt053Stream(fixture('camt053.001.04-iban-reversal.xml'), (e) => {
      entries.push(e);
    });
    expect(entries.find((e) => e.entryRef === 'FFM2503030000990')).toMatchObject({ bookedAt: '2025-03-02T16:00:00.000Z', bookingDateOnly: true });
  });
});
