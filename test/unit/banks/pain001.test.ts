import { buildPain001, parsePain001 } from '../../../src/banks/iso20022/pain001';
import { parseXmlTree, textAt, child, childrenNamed } from '../../../src/banks/xmlRead';
import { BankMessageInvalid } from '../../../src/banks/types';
import { account19, amountMaxFen, longName, sample, transferBatch } from './fixtures';

describe('pain.001.001.09', () => {
  test('what we send reads back as the same batch (amounts exact, accounts as strings)', () => {
    const batch = transferBatch();
    const back = parsePain001(buildPain001(batch));
    expect(back.messageId).toBe(batch.messageId);
    expect(back.createdAt.toISOString()).toBe(batch.createdAt.toISOString());
    expect(back.requestedExecutionDate).toBe('2025-03-01');
    expect(back.debtor).toEqual(batch.debtor);
    expect(back.transfers.map((t) => t.amountFen)).toEqual([5_000_000n, 1n, amountMaxFen]);
    expect(back.transfers[0].creditor).toEqual({ accountNumber: account19, name: 'Bidder Construction Co Ltd', bankCode: '102100099996' });
    expect(back.transfers[2].creditor.name).toBe('A & B <Holdings> "Ltd"');
    expect(back.transfers[1].creditor.bankCode).toBeUndefined();
  });

  test('Chinese accounts go in Othr/Id, agents as CNAPS ClrSysMmbId, amounts with Ccy', () => {
    const tree = parseXmlTree(buildPain001(transferBatch()));
    const pmt = child(tree, 'CstmrCdtTrfInitn', 'PmtInf')!;
    expect(textAt(pmt, 'DbtrAcct', 'Id', 'Othr', 'Id')).toBe('0110060149018000123456');
    expect(textAt(pmt, 'DbtrAgt', 'FinInstnId', 'ClrSysMmbId', 'ClrSysId', 'Cd')).toBe('CNAPS');
    expect(textAt(pmt, 'DbtrAgt', 'FinInstnId', 'ClrSysMmbId', 'MmbId')).toBe('301290000007');
    const tx = childrenNamed(pmt, 'CdtTrfTxInf')[0];
    expect(textAt(tx, 'PmtId', 'EndToEndId')).toBe('RFD-BID-7781-1');
    expect(child(tx, 'Amt', 'InstdAmt')!.attrs.Ccy).toBe('CNY');
    expect(textAt(tx, 'Amt', 'InstdAmt')).toBe('50000.00');
    expect(textAt(tx, 'CdtrAgt', 'FinInstnId', 'ClrSysMmbId', 'MmbId')).toBe('102100099996');
    expect(textAt(tx, 'RmtInf', 'Ustrd')).toBe('Bid deposit refund T-2025-0042 bid 7781');
    expect(textAt(child(tree, 'CstmrCdtTrfInitn'), 'GrpHdr', 'CtrlSum')).toBe('1000000000050000.00');
  });

  test('names and remittance longer than 140 characters are truncated to 140, by character', () => {
    const back = parsePain001(buildPain001(transferBatch()));
    expect(Array.from(back.transfers[1].creditor.name)).toHaveLength(140);
    expect(longName.startsWith(back.transfers[1].creditor.name)).toBe(true);
    expect(Array.from(back.transfers[2].remittance).length).toBeLessThanOrEqual(140);
  });

  test('an id longer than 35 characters is a programming error, never truncated', () => {
    expect(() => buildPain001(transferBatch({ messageId: 'M'.repeat(36) }))).toThrow(/assertion/);
  });

  test('a zero or negative amount is a programming error', () => {
    const b = transferBatch();
    b.transfers[0].amountFen = 0n;
    expect(() => buildPain001(b)).toThrow(/assertion/);
  });

  test('the self-authored CNY refund sample reads', () => {
    const b = parsePain001(sample('pain.001.001.09__selfauthored_cny_refund.xml'));
    expect(b.messageId).toBe('RFD-20250301-0001');
    expect(b.debtor).toEqual({ accountNumber: '110060149018000123456', name: 'Example Tendering Platform Co Ltd', bankCode: '301290000007' });
    expect(b.transfers).toEqual([
      {
        endToEndId: 'RFD-BID-7781-1',
        amountFen: 5_000_000n,
        currency: 'CNY',
        creditor: { accountNumber: '0200001234567890123', name: 'Bidder Construction Co Ltd', bankCode: '102100099996' },
        remittance: 'Bid deposit refund tender T-2025-0042 bid 7781',
      },
    ]);
  });

  test('a file whose control sum disagrees with its transfers is refused', () => {
    const xml = buildPain001(transferBatch()).replace('<CtrlSum>1000000000050000.00</CtrlSum>', '<CtrlSum>1000000000050000.02</CtrlSum>');
    expect(() => parsePain001(xml)).toThrow(BankMessageInvalid);
    expect(() => parsePain001(xml)).toThrow(/CtrlSum/);
  });

  test('a non-CNY transfer is refused by the reader', () => {
    const xml = buildPain001(transferBatch()).replace('<InstdAmt Ccy="CNY">50000.00', '<InstdAmt Ccy="USD">50000.00');
    expect(() => parsePain001(xml)).toThrow(/USD/);
  });
});
