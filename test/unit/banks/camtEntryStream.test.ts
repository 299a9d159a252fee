// The streaming reader of statements (xmlStream.ts's scanner, camtEntry.ts's flat entry reader)
// against the whole-document reader (saxes, with a tree per entry) that notifications use: the
// same documents are accepted or refused, and every entry gives the same bookings, on the
// corpus and on the corpus mutated at random, fed in slices cut anywhere.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { bookingsOf, CamtEntryReader, readCamtEntry, type CamtEntryRecord } from '../../../src/banks/iso20022/camtEntry';
import { camt053Chunks, parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { BankMessageInvalid } from '../../../src/banks/types';
import { xmlDepthMax, xmlTextCharsMax } from '../../../src/banks/xmlLimits';
import { parseXmlTree, type XmlElement } from '../../../src/banks/xmlRead';
import { streamXml, xmlPendingCharsMax } from '../../../src/banks/xmlStream';
import { fixturesDir, samplesDir, statementEntry, trustAccount } from './fixtures';

const runs = Number(process.env.BIDBOND_PROPERTY_RUNS ?? 300);

const camtFiles = [fixturesDir, samplesDir].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => /^camt.*\.xml$/.test(f))
    .map((f) => ({ name: f, bytes: readFileSync(path.join(dir, f)) })),
);
/** The UTF-8 files, mutated as text (a GBK file is read from its bytes only). */
const utf8Files = camtFiles.filter((f) => !/gbk/.test(f.name)).map((f) => ({ name: f.name, text: f.bytes.toString('utf8') }));

/** The document's bytes in pieces of the given sizes (cycled), cutting characters anywhere. */
function pieces(text: string | Buffer, sizes: number[]): Readable {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < bytes.length; k += 1) {
    const n = sizes[k % sizes.length];
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return Readable.from(out);
}

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

function outcome(read: () => unknown): string {
  try {
    return show(read());
  } catch (err) {
    if (err instanceof BankMessageInvalid) return `refused: ${err.message}`;
    throw err;
  }
}

/** Ntry elements, outermost only (as the stream claims them), in document order. */
function entriesOf(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === 'Ntry') out.push(c);
    else entriesOf(c, out);
  }
  return out;
}

/** Both readers on one document: whether each accepted it, and the bookings of each entry. */
async function bothReadings(text: string | Buffer, sizes: number[]): Promise<{ tree: string; stream: string }> {
  let tree: string;
  try {
    // As bytes, as a bank's body arrives: both readers then decode by the declared encoding.
    tree = show(entriesOf(parseXmlTree(typeof text === 'string' ? Buffer.from(text, 'utf8') : text)).map((el, i) => outcome(() => readCamtEntry(el, `entry ${i + 1}`))));
  } catch (err) {
    if (!(err instanceof BankMessageInvalid)) throw err;
    tree = 'refused';
  }
  const records: CamtEntryRecord[] = [];
  let stream: string;
  try {
    await streamXml(pieces(text, sizes), {
      collect: (p) => (p[p.length - 1] === 'Ntry' ? new CamtEntryReader((r) => void records.push(r)) : false),
    });
    stream = show(records.map((r, i) => outcome(() => bookingsOf(r, `entry ${i + 1}`))));
  } catch (err) {
    if (!(err instanceof BankMessageInvalid)) throw err;
    stream = 'refused';
  }
  return { tree, stream };
}

const snippets = [
  '<', '>', '&', '&amp;', '&#0;', '&#x41;', '&#xD800;', '&foo;', ']]>', '<!--x-->', '<!-- a -- b -->', '<?pi x?>', '<?xml version="1.0"?>',
  '<![CDATA[<x>]]>', '"', "'", '</', '/>', ' a="1"', ' a="1" a="2"', '\u0001', '\r\n', '<Ntry>', '</Ntry>', '<Amt Ccy="CNY">1.00</Amt>', '<Amt>',
  '<TxDtls>', '</TxDtls>', '<RtrInf/>', '<Ustrd>x</Ustrd>', '<CdtDbtInd>CRDT</CdtDbtInd>', '<Sts>BOOK</Sts>', '<BookgDt>2024-01-02</BookgDt>',
  '<Refs><AcctSvcrRef>R1</AcctSvcrRef></Refs>', ' ', 'é', '中', '<a:b xmlns:a="u"/>', '<x y=1>', '<x y="<">', '<1a/>', '<a b="1"c="2"/>', '< a>', '</a >', '<a/ >',
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), snippet: fc.constantFrom(...snippets) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), from: fc.nat(), length: fc.integer({ min: 1, max: 80 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, ms: Mutation[]): string {
  let out = text;
  for (const m of ms) {
    const at = m.at % (out.length + 1);
    if (m.kind === 'insert') out = out.slice(0, at) + m.snippet + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else {
      const from = m.from % (out.length + 1);
      out = out.slice(0, at) + out.slice(from, from + m.length) + out.slice(at);
    }
  }
  return out;
}

describe('the streaming reader reads as the whole-document reader does', () => {
  test.each(camtFiles.map((f) => [f.name, f.bytes] as const))('%s: the same entries, in slices of any size', async (_name, text) => {
    const whole = await bothReadings(text, [64 * 1024]);
    expect(whole.stream).toBe(whole.tree);
    expect((await bothReadings(text, [1])).stream).toBe(whole.tree);
    expect((await bothReadings(text, [7, 3, 13])).stream).toBe(whole.tree);
  });

  test('real files mutated: accepted and refused alike, every entry read alike', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...utf8Files), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), async (file, ms, sizes) => {
        const r = await bothReadings(mutate(file.text, ms), sizes);
        if (r.tree !== 'refused') accepted += 1;
        expect(r.stream).toBe(r.tree);
      }),
      { numRuns: runs },
    );
    // A mutation test that refused everything would prove nothing.
    expect(accepted).toBeGreaterThan(runs / 25);
  });
});

describe('the streaming reader keeps every guard', () => {
  const header = { messageId: 'STM-1', statementId: 'STM-1-1', account: trustAccount, currency: 'CNY', date: '2025-02-28', openingBalanceFen: 0n, closingBalanceFen: 0n, createdAt: new Date('2025-02-28T15:30:00Z') };
  const statement = [...camt053Chunks(header, [1, 2, 3].map((i) => statementEntry(i, { counterparty: { name: `路桥建设有限公司 ${i}`, accountNumber: '6222000000000001' } })))].join('');
  const read = (input: Readable | string) => parseCamt053Stream(input, () => undefined);

  test('a DOCTYPE cut across two slices is still refused', async () => {
    const doc = statement.replace('<Document', '<!DOCTYPE Document><Document');
    const at = doc.indexOf('<!DOCTYPE') + 4;
    await expect(read(Readable.from([Buffer.from(doc.slice(0, at)), Buffer.from(doc.slice(at))]))).rejects.toThrow(/DOCTYPE/);
  });

  test('nesting deeper than the bound is refused', async () => {
    const deep = '<a>'.repeat(xmlDepthMax + 1) + '</a>'.repeat(xmlDepthMax + 1);
    await expect(read(deep)).rejects.toThrow(/deeper/);
  });

  test('a text longer than the bound is refused, whether or not it is read', async () => {
    const long = 'x'.repeat(xmlTextCharsMax + 1);
    await expect(read(statement.replace('<Ustrd>', `<Ustrd>${long}`))).rejects.toThrow(BankMessageInvalid);
    await expect(read(statement.replace('</Ntry>', `<Unknown>${long}</Unknown></Ntry>`))).rejects.toThrow(/more than/);
    await expect(read(statement.replace('</Stmt>', `<Unknown>${long}</Unknown></Stmt>`))).rejects.toThrow(/more than/);
  });

  test('a comment that never closes is refused once it outgrows the bound, not held', async () => {
    const endless = statement.replace('</Stmt>', `<!-- ${'y'.repeat(xmlPendingCharsMax + 1)}`);
    await expect(read(endless)).rejects.toThrow(/longer than/);
  });

  test('bytes that are not UTF-8 are refused; a character cut by a slice is read whole', async () => {
    await expect(read(Readable.from([Buffer.concat([Buffer.from(statement.slice(0, 200)), Buffer.from([0xc3, 0x28]), Buffer.from(statement.slice(200))])]))).rejects.toThrow(/encoding/);
    const names: string[] = [];
    await parseCamt053Stream(pieces(statement, [1, 2]), (e) => void names.push(e.counterparty.name ?? ''));
    const whole: string[] = [];
    await parseCamt053Stream(statement, (e) => void whole.push(e.counterparty.name ?? ''));
    expect(names).toEqual(whole);
    expect(whole.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
  });

  test('references, CDATA, line ends and a byte-order mark are read as XML says', async () => {
    const doc = '\ufeff' + statement.replace('<Ustrd>entry 2</Ustrd>', '<Ustrd>a &amp; b &#x4E2D;\r\n<![CDATA[<c>]]></Ustrd>');
    const rem: string[] = [];
    await parseCamt053Stream(doc, (e) => void rem.push(e.remittance ?? ''));
    expect(rem).toContain('a & b 中\n<c>');
  });

  test('malformed markup is refused as BankMessageInvalid, never a crash', async () => {
    for (const bad of ['<a></b>', '<a>', '<a/><b/>', 'text<a/>', '<a b="1" b="2"/>', '<a>&nope;</a>', '<a>]]></a>', '<a><!-- x -- y --></a>', ' <?xml version="1.0"?><a/>', '<a>\u0001</a>', '<a b=1/>']) {
      await expect(streamXml(bad, { collect: () => false })).rejects.toThrow(BankMessageInvalid);
      expect(() => parseXmlTree(bad)).toThrow(BankMessageInvalid);
    }
  });
});
