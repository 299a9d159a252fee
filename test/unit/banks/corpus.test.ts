// The corpus of bank files written for this project (test/fixtures/banks/*.xml with a sibling
// *.expected.json): each is read exactly as its expected file says, amounts in fen as strings.
// The files are in the shapes banks send across camt versions .001.02, .001.04 and .001.08.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { BankMessageInvalid } from '../../../src/banks/types';
import { camtVersionsRead } from '../../../src/banks/xmlIsoMessage';
import { corpusReading, type Json } from './corpusReading';
import { fixturesDir } from './fixtures';

const corpus = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.xml') && existsSync(path.join(fixturesDir, f.replace(/\.xml$/, '.expected.json'))))
  .sort();
const bytes = (f: string) => readFileSync(path.join(fixturesDir, f));
const expected = (f: string) => JSON.parse(readFileSync(path.join(fixturesDir, f.replace(/\.xml$/, '.expected.json')), 'utf8')) as Record<string, any>;

describe('the bank file corpus', () => {
  test.each(corpus)('%s reads as its .expected.json says', async (f) => {
    expect(await corpusReading(bytes(f))).toEqual(expected(f));
  });

  test('covers camt.053 and camt.054 in .001.02, .001.04 and .001.08', () => {
    const have = new Set(corpus.map((f) => `${expected(f).message.type} ${expected(f).message.version}`));
    for (const type of ['camt.053', 'camt.054']) for (const v of ['001.02', '001.04', '001.08']) expect(have).toContain(`${type} ${v}`);
  });

  test('covers IBAN and local accounts, batches, date-only bookings, returns, reversals and pending entries', () => {
    const all = corpus.map(expected);
    const bookings = all.flatMap((e) => [...(e.credits ?? []), ...(e.reversals ?? []), ...(e.entries ?? [])]);
    const accounts = bookings.map((b) => b.virtualAccount ?? b.account);
    expect(accounts.some((a) => /^[A-Z]{2}\d{2}/.test(a))).toBe(true);
    expect(accounts.some((a) => /^\d+$/.test(a))).toBe(true);
    // A batch split by position, and one by its transactions' own references.
    expect(bookings.some((b) => /\/\d+$/.test(b.entryRef))).toBe(true);
    expect(bookings.filter((b) => b.entryRef.startsWith('95588250303B000091')).length).toBe(2);
    expect(bookings.some((b) => b.bookingDateOnly === true)).toBe(true);
    expect(bookings.filter((b) => b.returnInfo).length).toBeGreaterThanOrEqual(4);
    expect(bookings.some((b) => b.reversal === true && b.originalEntryRef)).toBe(true);
    // Pending lines: in the XML, and never in what is read.
    const pendingFiles = corpus.filter((f) => /<(?:\w+:)?Sts>(?:<(?:\w+:)?Cd>)?PDNG/.test(bytes(f).toString('utf8')));
    expect(pendingFiles.length).toBeGreaterThanOrEqual(4);
  });

  test('every amount read is a positive whole number of fen, written as a string', () => {
    for (const f of corpus) {
      const e = expected(f);
      for (const b of [...(e.credits ?? []), ...(e.reversals ?? []), ...(e.entries ?? [])]) {
        expect(b.amountFen).toMatch(/^[1-9]\d*$/);
      }
    }
  });

  test('no reference is read twice from one file', () => {
    for (const f of corpus) {
      const e = expected(f);
      const refs = [...(e.credits ?? []), ...(e.reversals ?? []), ...(e.entries ?? [])].map((b) => b.entryRef);
      expect(new Set(refs).size).toBe(refs.length);
    }
  });
});

describe('camt versions are told by namespace', () => {
  const withVersion = (xml: Buffer, version: string) =>
    Buffer.from(xml.toString('utf8').replace(/(urn:iso:std:iso:20022:tech:xsd:camt\.05[34])\.\d{3}\.\d{2}/, `$1.${version}`));
  const sameReading = (reading: Json, version: string): Json => ({ ...(reading as Record<string, Json>), message: { ...((reading as Record<string, Json>).message as Record<string, Json>), version } });

  test('the versions read run from .001.02 to .001.13', () => {
    expect(camtVersionsRead[0]).toBe('001.02');
    expect(camtVersionsRead[camtVersionsRead.length - 1]).toBe('001.13');
    expect(camtVersionsRead).toHaveLength(12);
  });

  test.each(corpus)('%s reads the same under every version from .001.02 to .001.13', async (f) => {
    const reading = await corpusReading(bytes(f));
    for (const v of camtVersionsRead) {
      expect(await corpusReading(withVersion(bytes(f), v))).toEqual(sameReading(reading, v));
    }
  });

  const notification = bytes('camt054.001.08-local-returns-batch.xml');
  const statement = bytes('camt053.001.08-local-batch.xml');

  test('a camt version after the current one is refused, naming its namespace', async () => {
    expect(() => parseCamt054(withVersion(notification, '001.14'))).toThrow(/urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.14.*001\.02 to \.001\.13/);
    await expect(parseCamt053Stream(withVersion(statement, '001.14'), () => {})).rejects.toThrow(/urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.14/);
    expect(() => parseCamt054(withVersion(notification, '001.01'))).toThrow(BankMessageInvalid);
  });

  test('an ISO message this service does not read is refused, naming its namespace', () => {
    const camt052 = '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"><BkToCstmrAcctRpt><GrpHdr><MsgId>R1</MsgId></GrpHdr></BkToCstmrAcctRpt></Document>';
    expect(() => parseCamt054(camt052)).toThrow(/"urn:iso:std:iso:20022:tech:xsd:camt\.052\.001\.08" is camt\.052, a message this service does not read/);
    const pacs = notification.toString('utf8').replace('xsd:camt.054.001.08', 'xsd:pacs.008.001.08');
    expect(() => parseCamt054(pacs)).toThrow(/pacs\.008\.001\.08/);
  });

  test('a foreign namespace is refused, quoted', () => {
    const xml = notification.toString('utf8').replace('urn:iso:std:iso:20022:tech:xsd:camt.054.001.08', 'http://bank.example/notify/v3');
    expect(() => parseCamt054(xml)).toThrow(/"http:\/\/bank\.example\/notify\/v3" is not an ISO 20022 namespace/);
  });

  test('an unknown message without a namespace is refused by its element', () => {
    expect(() => parseCamt054('<Document><BkToCstmrAcctRpt/></Document>')).toThrow(/XML message BkToCstmrAcctRpt is not one this service reads/);
    expect(() => parseCamt054('<Document><constructor/></Document>')).toThrow(BankMessageInvalid);
  });
});
