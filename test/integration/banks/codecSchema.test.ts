// Everything the service emits must validate against the official schema of its message: a bank
// rejects the whole file otherwise. xmllint (libxml2-utils) is spawned on each document.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPain001 } from '../../../src/banks/iso20022/pain001';
import { buildPain002 } from '../../../src/banks/iso20022/pain002';
import { buildCamt054 } from '../../../src/banks/iso20022/camt054';
import { camt053Chunks } from '../../../src/banks/iso20022/camt053';
import type { StatusReport } from '../../../src/banks/types';
import { account19, amountMaxFen, credit, longName, statementEntry, transferBatch, trustAccount } from '../../unit/banks/fixtures';

const sharedIsoDir = path.resolve(__dirname, '../../fixtures/iso20022');
const xsdDir = path.join(sharedIsoDir, 'xsd');
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'bidbond-xsd-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function validate(schema: string, xml: string, name: string): void {
  const file = path.join(workDir, `${name}.xml`);
  writeFileSync(file, xml);
  const run = spawnSync('xmllint', ['--noout', '--schema', path.join(xsdDir, `${schema}.xsd`), file], { encoding: 'utf8' });
  if (run.error) throw run.error;
  // Show the schema errors in the failure message, not just the exit code.
  expect({ status: run.status, stderr: run.stderr.replace(`${file} validates\n`, '') }).toEqual({ status: 0, stderr: '' });
}

test('the schemas are where the tests expect them, and xmllint does reject what breaks them', () => {
  expect(existsSync(path.join(xsdDir, 'pain.001.001.09.xsd'))).toBe(true);
  const broken = buildPain001(transferBatch()).replace('<MsgId>RFD-20250301-0001</MsgId>', `<MsgId>${'M'.repeat(36)}</MsgId>`);
  const file = path.join(workDir, 'broken.xml');
  writeFileSync(file, broken);
  const run = spawnSync('xmllint', ['--noout', '--schema', path.join(xsdDir, 'pain.001.001.09.xsd'), file], { encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/MsgId/);
});

describe('pain.001.001.09 validates', () => {
  test.each([
    ['three transfers: max amount, 1 fen, 19-digit account with leading zero, long names, no bank code', transferBatch()],
    ['a debtor without a bank code and a 156-character name', transferBatch({ debtor: { accountNumber: account19, name: longName } })],
    ['one transfer with XML special characters and control characters', transferBatch({
      transfers: [{ endToEndId: 'E-1', amountFen: 100n, currency: 'CNY', creditor: { accountNumber: '1', name: 'A&B\u0001 <"x">\t\nLtd' }, remittance: '\u0007]]>&' }],
    })],
    ['ids of exactly 35 characters', transferBatch({
      messageId: 'M'.repeat(35),
      transfers: [{ endToEndId: 'E'.repeat(35), amountFen: amountMaxFen, currency: 'CNY', creditor: { accountNumber: '9'.repeat(34), name: '   ' }, remittance: '   ' }],
    })],
  ])('%s', (name, batch) => validate('pain.001.001.09', buildPain001(batch), `pain001-${name.length}`));
});

describe('pain.002.001.10 validates', () => {
  const reports: [string, StatusReport][] = [
    ['accepted, per-transaction outcomes', {
      messageId: 'STS-1', originalMessageId: 'RFD-20250301-0001', groupStatus: 'ACTC',
      transactions: [
        { endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC', bankReference: 'BK1', bookedAt: '2025-03-01T03:00:00.000Z' },
        { endToEndId: 'E2', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04', reasonText: '账户已销户 '.repeat(40) },
        { endToEndId: 'E3', outcome: 'pending', bankStatus: 'ACSP' },
        { endToEndId: 'E4', outcome: 'unknown', bankStatus: '' },
        { endToEndId: 'E5', outcome: 'rejected', bankStatus: '1', reasonCode: 'E1004-LONGER-THAN-4' },
      ],
    }],
    ['whole file rejected', { originalMessageId: 'M'.repeat(35), groupStatus: 'RJCT', groupReasonCode: 'FF01', transactions: [] }],
    ['no group status, no message id given', { originalMessageId: 'M1', transactions: [{ endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACCC' }] }],
  ];
  test.each(reports)('%s', (name, report) => validate('pain.002.001.10', buildPain002(report, new Date('2025-03-01T03:00:05Z')), `pain002-${name.length}`));
});

describe('camt.054.001.08 validates', () => {
  test.each([
    ['a credit with every field', [credit({ endToEndId: 'RFD-1' })]],
    ['1 fen, max amount, empty debtor, long names and remittance', [
      credit({ entryRef: 'R1', amountFen: 1n, debtor: { name: '', accountNumber: '' }, remittance: undefined }),
      credit({ entryRef: 'R2', amountFen: amountMaxFen, debtor: { name: longName, accountNumber: account19 }, remittance: longName }),
    ]],
    ['no credits at all', []],
  ])('%s', (name, credits) =>
    validate('camt.054.001.08', buildCamt054({ messageId: 'NTF-1', createdAt: new Date(), account: trustAccount, accountName: longName, credits }), `camt054-${name.length}`));
});

describe('camt.053.001.08 validates', () => {
  const header = {
    messageId: 'STM-1', statementId: 'STM-1-1', sequenceNumber: '59', account: trustAccount, currency: 'CNY',
    date: '2025-02-28', openingBalanceFen: -1n, closingBalanceFen: amountMaxFen, createdAt: new Date(),
  };
  test('250 entries both ways, reversals, max amount, long names', () => {
    const entries = Array.from({ length: 250 }, (_, i) => statementEntry(i + 1, {
      reversal: i % 50 === 0,
      ...(i === 7 ? { amountFen: amountMaxFen, counterparty: { name: longName, accountNumber: account19 }, remittance: longName, endToEndId: 'E'.repeat(35) } : {}),
      ...(i === 8 ? { counterparty: {}, remittance: undefined, account: undefined } : {}),
    }));
    validate('camt.053.001.08', [...camt053Chunks(header, entries)].join(''), 'camt053-many');
  });
  test('an empty day without a sequence number', () => {
    const { sequenceNumber: _drop, ...rest } = header;
    validate('camt.053.001.08', [...camt053Chunks({ ...rest, openingBalanceFen: 0n, closingBalanceFen: 0n }, [])].join(''), 'camt053-empty');
  });
});
