// The corpus of bank files written for this project (test/fixtures/banks/*.xml with a sibling
// *.expected.json): each is read exactly as its expected file says, amounts in fen as strings.
// The files are in the shapes banks send across camt versions .001.02, .001.04 and .001.08.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { BankMessageInvalid, type StatementEntry } from '../../../src/banks/types';
import { camtVersionsRead } from '../../../src/banks/xmlIsoMessage';
import { corpusReading, type Json } from './corpusReading';
import { fixturesDir } from './fixtures';

const bytes = (f: string) => readFileSync(path.join(fixturesDir, f));
const expected = (f: string) => JSON.parse(readFileSync(path.join(fixturesDir, f.replace(/\.xml$/, '.expected.json')), 'utf8')) as Record<string, any>;
const withExpected = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.xml') && existsSync(path.join(fixturesDir, f.replace(/\.xml$/, '.expected.json'))))
  .sort();
/** Files read into bookings, and files that must be refused (`{"refused": "<pattern>"}`). */
const corpus = withExpected.filter((f) => expected(f).refused === undefined);
const refused = withExpected.filter((f) => expected(f).refused !== undefined);

describe('the bank file corpus', () => {
  test.each(corpus)('%s reads as its .expected.json says', async (f) => {
    expect(await corpusReading(bytes(f))).toEqual(expected(f));
  });

  test.each(refused)('%s is refused as its .expected.json says', async (f) => {
    await expect(corpusReading(bytes(f))).rejects.toThrow(BankMessageInvalid);
    await expect(corpusReading(bytes(f))).rejects.toThrow(new RegExp(expected(f).refused));
  });

  test('covers camt.053 and camt.054 after .001.08 too, with prefixed and default namespaces', () => {
    const have = new Set(corpus.map((f) => `${expected(f).message.type} ${expected(f).message.version}`));
    for (const v of ['camt.054 001.06', 'camt.054 001.10', 'camt.054 001.13', 'camt.053 001.06', 'camt.053 001.10']) expect(have).toContain(v);
    const prefixed = corpus.filter((f) => /<\w+:Document\b/.test(bytes(f).toString('utf8')));
    expect(prefixed.length).toBeGreaterThanOrEqual(4);
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

// ---- entry identity ---------------------------------------------------------------------------
// One rule for notices and statements (camtEntry.ts): a repeated AcctSvcrRef under another
// NtryRef is another booking with a reference of its own; the same AcctSvcrRef and NtryRef is
// one reference, and what it names is compared by content.

interface EntrySpec {
  acctSvcrRef: string;
  ntryRef?: string;
  amount: string;
  /** Last digits of the sub-account credited. */
  account: string;
}

const ntryXml = (e: EntrySpec) =>
  `<Ntry>${e.ntryRef ? `<NtryRef>${e.ntryRef}</NtryRef>` : ''}<Amt Ccy="CNY">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
  '<BookgDt><DtTm>2025-06-03T10:00:00+08:00</DtTm></BookgDt><ValDt><Dt>2025-06-03</Dt></ValDt>' +
  `<AcctSvcrRef>${e.acctSvcrRef}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>` +
  `<NtryDtls><TxDtls><Amt Ccy="CNY">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>甲建设有限公司</Nm></Pty></Dbtr>` +
  `<DbtrAcct><Id><Othr><Id>6222000011112222</Id></Othr></Id></DbtrAcct><CdtrAcct><Id><Othr><Id>88800${e.account}</Id></Othr></Id></CdtrAcct></RltdPties></TxDtls></NtryDtls></Ntry>`;

const noticeOf = (entries: EntrySpec[]) =>
  '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N1</MsgId><CreDtTm>2025-06-03T10:05:00+08:00</CreDtTm></GrpHdr>' +
  `<Ntfctn><Id>N1</Id><CreDtTm>2025-06-03T10:05:00+08:00</CreDtTm><Acct><Id><Othr><Id>88800</Id></Othr></Id></Acct>${entries.map(ntryXml).join('')}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;

const statementOf = (entries: EntrySpec[]) =>
  '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2025-06-04T01:00:00+08:00</CreDtTm></GrpHdr>' +
  '<Stmt><Id>S1</Id><CreDtTm>2025-06-04T01:00:00+08:00</CreDtTm><Acct><Id><Othr><Id>88800</Id></Othr></Id></Acct>' +
  '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-06-03</Dt></Dt></Bal>' +
  '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-06-03</Dt></Dt></Bal>' +
  `${entries.map(ntryXml).join('')}</Stmt></BkToCstmrStmt></Document>`;

async function statementRefs(entries: EntrySpec[]): Promise<string[]> {
  const lines: StatementEntry[] = [];
  await parseCamt053Stream(statementOf(entries), (e) => {
    lines.push(e);
  });
  return lines.map((l) => l.entryRef);
}

describe('entry identity: the same rule in notices and statements', () => {
  const one: EntrySpec = { acctSvcrRef: 'B-7', ntryRef: '0001', amount: '1500', account: '01' };

  test('a repeated AcctSvcrRef under another NtryRef is another booking, even when nothing else differs', async () => {
    const entries = [one, { ...one, ntryRef: '0002' }];
    const n = parseCamt054(noticeOf(entries));
    expect(n.credits.map((c) => [c.entryRef, c.amountFen])).toEqual([['B-7', 150000n], ['B-7/0002', 150000n]]);
    expect(n.ignored).toBe(0);
    expect(await statementRefs(entries)).toEqual(['B-7', 'B-7/0002']);
  });

  test('the same AcctSvcrRef and NtryRef written twice is one booking; under one NtryRef with other money, both are passed on', async () => {
    expect(parseCamt054(noticeOf([one, one]))).toMatchObject({ credits: [{ entryRef: 'B-7' }], ignored: 1 });
    const clash = parseCamt054(noticeOf([one, { ...one, amount: '1600' }]));
    expect(clash.credits.map((c) => [c.entryRef, c.amountFen])).toEqual([['B-7', 150000n], ['B-7', 160000n]]);
    // The statement passes every line on; reconciliation reports the second as a duplicate.
    expect(await statementRefs([one, one])).toEqual(['B-7', 'B-7']);
  });

  test('a reversal still names the credit it undoes by the AcctSvcrRef the bank gave', () => {
    const reversal = (ntryRef: string, original: string) =>
      `<Ntry><NtryRef>${ntryRef}</NtryRef><Amt Ccy="CNY">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2025-06-03T11:00:00+08:00</DtTm></BookgDt>` +
      `<AcctSvcrRef>${original}</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls><RltdPties><DbtrAcct><Id><Othr><Id>8880001</Id></Othr></Id></DbtrAcct></RltdPties></TxDtls></NtryDtls></Ntry>`;
    const withReversals = (...r: string[]) => noticeOf([]).replace('</Ntfctn>', `${r.join('')}</Ntfctn>`);
    // Told apart by NtryRef, two reversals are two bookings, each still naming X-1 as the
    // credit it undoes (the service finds which of them fits it).
    const n = parseCamt054(withReversals(reversal('0009', 'X-1'), reversal('0010', 'X-1').replace('10.00', '11.00')));
    expect(n.reversals?.map((r) => [r.entryRef, r.originalEntryRef, r.amountFen])).toEqual([['X-1', 'X-1', 1000n], ['X-1/0010', 'X-1', 1100n]]);
    // Under one NtryRef they cannot be told apart at all: refused, as before.
    expect(() => parseCamt054(withReversals(reversal('0009', 'X-1'), reversal('0009', 'X-1').replace('10.00', '11.00')))).toThrow(BankMessageInvalid);
  });

  test('property: no booking is dropped as a repeat, no repeat is read twice, and a notice and a statement of the same entries name them alike', async () => {
    const spec = fc.record({
      acctSvcrRef: fc.constantFrom('R-1', 'R-2'),
      ntryRef: fc.constantFrom('01', '02', '03'),
      amount: fc.constantFrom('1.00', '2', '2.5'),
      account: fc.constantFrom('01', '02'),
    });
    // A bank numbers every entry of a message in NtryRef, or none.
    const messages = fc.tuple(fc.boolean(), fc.array(spec, { minLength: 1, maxLength: 8 })).map(([numbered, entries]) =>
      entries.map((e): EntrySpec => (numbered ? e : { acctSvcrRef: e.acctSvcrRef, amount: e.amount, account: e.account })),
    );
    await fc.assert(
      fc.asyncProperty(messages, async (entries) => {
        const n = parseCamt054(noticeOf(entries));
        const key = (e: EntrySpec) => JSON.stringify([e.acctSvcrRef, e.ntryRef ?? null, e.amount, e.account]);
        // Every distinct booking is read once, and only word-for-word repeats are not.
        expect(n.credits.length).toBe(new Set(entries.map(key)).size);
        expect(n.credits.length + n.ignored).toBe(entries.length);
        // Credits sharing a reference differ in what the service compares, so the second is a
        // reference_clash for the centre, never taken for the first sent again.
        const seen = new Map<string, Set<string>>();
        for (const c of n.credits) {
          const what = `${c.amountFen}|${c.virtualAccount}|${c.debtor.accountNumber}`;
          const under = seen.get(c.entryRef) ?? new Set<string>();
          expect(under.has(what)).toBe(false);
          under.add(what);
          seen.set(c.entryRef, under);
        }
        const lines = await statementRefs(entries);
        expect(new Set(lines)).toEqual(new Set(n.credits.map((c) => c.entryRef)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('R4 the currency is the one ISO 20022 defines, whatever other attributes say', () => {
  test('an unqualified Ccy is read over a prefixed one of the same name, in entries and balances', async () => {
    const spoofed = (xml: string) => xml.replace(/<Amt Ccy="CNY">/g, '<Amt xmlns:x="urn:example:x" Ccy="USD" x:Ccy="CNY">');
    const n = parseCamt054(spoofed(noticeOf([{ acctSvcrRef: 'C-1', amount: '10.00', account: '01' }])));
    expect(n.credits.map((c) => c.currency)).toEqual(['USD']);
    const lines: StatementEntry[] = [];
    const summary = await parseCamt053Stream(spoofed(statementOf([{ acctSvcrRef: 'C-1', amount: '10.00', account: '01' }])), (e) => {
      lines.push(e);
    });
    expect(lines.map((l) => l.currency)).toEqual(['USD']);
    expect(summary.currency).toBe('USD');
    // Only a prefixed one: it stands in for the missing attribute.
    const prefixedOnly = noticeOf([{ acctSvcrRef: 'C-2', amount: '10.00', account: '01' }]).replace(/<Amt Ccy="CNY">/g, '<Amt xmlns:x="urn:example:x" x:Ccy="CNY">');
    expect(parseCamt054(prefixedOnly).credits.map((c) => c.currency)).toEqual(['CNY']);
  });
});
