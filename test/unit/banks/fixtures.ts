// Paths and sample data shared by the bank codec tests. The ISO 20022 schemas and samples live
// in the shared folder beside the repository (CI clones the repo next to it).
import path from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import type { CreditEntry, StatementEntry, TransferBatch } from '../../../src/banks/types';

export const sharedIsoDir = path.resolve(__dirname, '../../fixtures/iso20022');
export const samplesDir = path.join(sharedIsoDir, 'samples');
export const fixturesDir = path.resolve(__dirname, '../../fixtures/banks');

export function sample(name: string): Buffer {
  return readFileSync(path.join(samplesDir, name));
}
export function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}
export function sampleNames(prefix: string): string[] {
  return readdirSync(samplesDir).filter((f) => f.startsWith(prefix) && f.endsWith('.xml'));
}

/** 19 digits with a leading zero: lost by any parser that coerces numbers. */
export const account19 = '0200001234567890123';
export const trustAccount = '0110060149018000123456';
export const longName = '中国建筑第八工程局有限公司'.repeat(12); // 156 characters
export const amountMaxFen = 99999999999999999n; // 999999999999999.99

export function transferBatch(overrides: Partial<TransferBatch> = {}): TransferBatch {
  return {
    messageId: 'RFD-20250301-0001',
    createdAt: new Date('2025-03-01T02:15:00Z'),
    requestedExecutionDate: '2025-03-01',
    debtor: { accountNumber: trustAccount, name: '某市公共资源交易中心', bankCode: '301290000007' },
    transfers: [
      {
        endToEndId: 'RFD-BID-7781-1',
        amountFen: 5_000_000n,
        currency: 'CNY',
        creditor: { accountNumber: account19, name: 'Bidder Construction Co Ltd', bankCode: '102100099996' },
        remittance: 'Bid deposit refund T-2025-0042 bid 7781',
      },
      {
        endToEndId: 'RFD-BID-7782-1',
        amountFen: 1n,
        currency: 'CNY',
        creditor: { accountNumber: '6222020200000000001', name: longName },
        remittance: '',
      },
      {
        endToEndId: 'RFD-BID-7783-1',
        amountFen: amountMaxFen,
        currency: 'CNY',
        creditor: { accountNumber: '0'.repeat(34), name: 'A & B <Holdings> "Ltd"', bankCode: '105100000017' },
        remittance: '退还投标保证金 '.repeat(30),
      },
    ],
    ...overrides,
  };
}

export function credit(overrides: Partial<CreditEntry> = {}): CreditEntry {
  return {
    entryRef: 'CN20250228BOCM000123',
    virtualAccount: `${trustAccount}001`,
    amountFen: 5_000_000n,
    currency: 'CNY',
    bookedAt: '2025-02-28T06:03:20.000Z',
    valueDate: '2025-02-28',
    debtor: { name: 'Bidder Construction Co Ltd', accountNumber: account19, bankCode: '102100099996' },
    remittance: 'T-2025-0042 BIDDEP 7781',
    ...overrides,
  };
}

export function statementEntry(i: number, overrides: Partial<StatementEntry> = {}): StatementEntry {
  const credit = i % 3 !== 0;
  return {
    entryRef: `BK${String(i).padStart(10, '0')}`,
    direction: credit ? 'credit' : 'debit',
    amountFen: BigInt(i % 1000) + 1n,
    currency: 'CNY',
    bookedAt: '2025-02-28T06:03:20.000Z',
    valueDate: '2025-02-28',
    account: credit ? `${trustAccount}${String(i % 1000).padStart(3, '0')}` : trustAccount,
    counterparty: { name: `Party ${i}`, accountNumber: account19, bankCode: '102100099996' },
    remittance: `entry ${i}`,
    ...overrides,
  };
}
