import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPain001, parsePain001 } from '../../../src/banks/iso20022/pain001';
import { parseXmlTree, textAt, child, childrenNamed } from '../../../src/banks/xmlRead';
import { BankMessageInvalid } from '../../../src/banks/types';
import { account19, amountMaxFen, longName, sample, sharedIsoDir, transferBatch } from './fixtures';

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

  test('a message of many refunds is one PmtInf with one transaction each, its totals exact, and valid against the schema', () => {
    const transfers = Array.from({ length: 250 }, (_, i) => ({
      endToEndId: `E01JREFUND${String(i).padStart(16, '0')}`,
      amountFen: 2_000_000n + BigInt(i),
      currency: 'CNY' as const,
      creditor: { accountNumber: `62170000${String(i).padStart(11, '0')}`, name: `水利建设${i}有限公司`, bankCode: '103100000026' },
      remittance: `投标保证金退还 rfd_${i}`,
    }));
    const xml = buildPain001(transferBatch({ messageId: 'M01JBATCH0000000000000000001', transfers }));
    const tree = parseXmlTree(xml);
    const pmtInfs = childrenNamed(child(tree, 'CstmrCdtTrfInitn'), 'PmtInf');
    expect(pmtInfs).toHaveLength(1);
    expect(childrenNamed(pmtInfs[0], 'CdtTrfTxInf')).toHaveLength(250);
    expect(textAt(child(tree, 'CstmrCdtTrfInitn'), 'GrpHdr', 'NbOfTxs')).toBe('250');
    expect(textAt(pmtInfs[0], 'CtrlSum')).toBe('5000311.25');
    const back = parsePain001(xml);
    expect(back.transfers.map((t) => t.endToEndId)).toEqual(transfers.map((t) => t.endToEndId));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bidbond-pain001-'));
    writeFileSync(path.join(dir, 'batch.xml'), xml);
    execFileSync('xmllint', ['--noout', '--schema', path.join(sharedIsoDir, 'xsd', 'pain.001.001.09.xsd'), path.join(dir, 'batch.xml')], { stdio: 'pipe' });
  });

  test('one end-to-end id twice in one message is a programming error: a refund goes in a message once', () => {
    const b = transferBatch();
    b.transfers[1].endToEndId = b.transfers[0].endToEndId;
    expect(() => buildPain001(b)).toThrow(/twice/);
  });
});

