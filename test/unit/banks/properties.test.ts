// Property-based tests of the two notification parsers (ISO camt.054 and the cn-h2h credit
// notice), with fast-check: whatever bytes or JSON arrive, random or a real message mutated,
// the parser either refuses with its own typed error (BankMessageInvalid) or yields entries
// whose amounts are positive whole fen and whose references are each yielded once. A failure
// prints the seed and the shrunk input; re-run with that seed to reproduce it.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseNotification } from '../../../src/banks/adapters';
import { buildCamt054 } from '../../../src/banks/iso20022/camt054';
import { cnh2hBuildCreditNotice, cnh2hParseCreditNotice } from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from '../../../src/banks/types';
import { fixturesDir, trustAccount } from './fixtures';

/** Runs per property: enough to find the usual holes in a few seconds. BIDBOND_PROPERTY_RUNS
 *  asks for a deeper search (5000 takes about a minute). */
const runs = Number(process.env.BIDBOND_PROPERTY_RUNS ?? 300);

// ---- the properties --------------------------------------------------------------------------

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const optionalString = (v: unknown) => v === undefined || (typeof v === 'string' && v !== '');

function wellFormed(n: CreditNotification): void {
  if (typeof n.messageId !== 'string' || n.messageId === '') throw new Error('a notification without a message id');
  const all = [...n.credits, ...(n.reversals ?? [])];
  for (const e of all) {
    if (typeof e.amountFen !== 'bigint' || e.amountFen <= 0n) throw new Error(`malformed amount ${String(e.amountFen)} on ${e.entryRef}`);
    if (typeof e.entryRef !== 'string' || e.entryRef === '') throw new Error('an entry without a reference');
    if (typeof e.virtualAccount !== 'string' || e.virtualAccount === '') throw new Error(`${e.entryRef}: no account`);
    if (typeof e.currency !== 'string' || e.currency === '') throw new Error(`${e.entryRef}: no currency`);
    if (!isoInstant.test(e.bookedAt) || Number.isNaN(Date.parse(e.bookedAt))) throw new Error(`${e.entryRef}: bookedAt ${e.bookedAt}`);
    if (!isoDate.test(e.valueDate)) throw new Error(`${e.entryRef}: valueDate ${e.valueDate}`);
    if (typeof e.debtor?.name !== 'string' || typeof e.debtor.accountNumber !== 'string' || !optionalString(e.debtor.bankCode)) throw new Error(`${e.entryRef}: debtor`);
    for (const k of ['remittance', 'endToEndId', 'bankTransactionCode', 'originalEntryRef'] as const) if (!optionalString(e[k])) throw new Error(`${e.entryRef}: ${k}`);
    if (e.returnInfo && (typeof e.returnInfo.reasonCode !== 'string' || !optionalString(e.returnInfo.originalEndToEndId) || !optionalString(e.returnInfo.additionalInfo))) {
      throw new Error(`${e.entryRef}: returnInfo ${String(e.returnInfo.reasonCode)}`);
    }
  }
  // The same booking is yielded once; two different bookings under one reference both are (the
  // service opens a reference_clash exception for the second), reversals never share one.
  const contents = all.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  if (new Set(contents).size !== contents.length) throw new Error(`an entry yielded twice: ${all.map((e) => e.entryRef).join(', ')}`);
  if (!Number.isInteger(n.ignored) || n.ignored < 0) throw new Error(`ignored is ${n.ignored}`);
}

/** Parses; a refusal must be BankMessageInvalid, anything else (TypeError, RangeError, an
 *  assertion) fails the property. Returns what was read, if anything. */
const tally = { read: 0, refused: 0 };
function readOrRefuse(parse: () => CreditNotification): CreditNotification | undefined {
  let n: CreditNotification;
  try {
    n = parse();
  } catch (err) {
    if (err instanceof BankMessageInvalid) {
      tally.refused += 1;
      return undefined;
    }
    throw err;
  }
  wellFormed(n);
  tally.read += 1;
  return n;
}

/** A mutation test that refused everything would prove nothing: enough mutants must be read. */
function expectSomeRead(run: () => void): void {
  tally.read = 0;
  tally.refused = 0;
  run();
  expect(tally.read).toBeGreaterThan((tally.read + tally.refused) / 10);
}

// ---- inputs ----------------------------------------------------------------------------------

const camt054Files = readdirSync(fixturesDir)
  .filter((f) => /^camt054.*\.xml$/.test(f))
  .map((f) => readFileSync(path.join(fixturesDir, f), 'utf8'));

/** Values a broken or hostile bank file puts where text belongs. */
const nastyText = fc.oneof(
  fc.constantFrom(
    '', ' ', '0', '0.00', '-1.00', '+5', '1e3', '1.001', '12.300', ' 12.30 ', '0.001', '99999999999999999999', '999999999999999.99', 'NaN', 'Infinity',
    '2025-02-30', '2025-13-01', '2025-02-28T24:00:00', '2025-02-28T14:03:20+15:00', '9999-12-31T23:59:59-14:00', '0000-01-01', '2025-02-28T14:03:20.1234567891Z',
    'CRDT', 'DBIT', 'BOOK', 'PDNG', 'INFO', 'true', 'false', '1', 'NOTPROVIDED', 'PMNT', 'RRTN', 'constructor', '__proto__', 'toString',
    '&amp;', '&lt;', '&#0;', '&#x1F600;', '&unknown;', '<![CDATA[1.00]]>', '\u0000', '\uFFFE', '\uD800', '保证金', 'x'.repeat(70_000),
  ),
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^\d{1,20}(\.\d{0,4})?$/),
);

const leafPattern = /<((?:[\w.-]+:)?[\w.-]+)((?:\s[^>]*)?)>([^<]*)<\/\1>/g;
const blockPattern = (name: string) => new RegExp(`<((?:[\\w.-]+:)?${name})>[\\s\\S]*?</\\1>`, 'g');

function matches(xml: string, re: RegExp): RegExpMatchArray[] {
  return [...xml.matchAll(re)];
}

type Mutation =
  | { kind: 'text'; pick: number; value: string }
  | { kind: 'attr'; pick: number; value: string }
  | { kind: 'duplicate' | 'drop'; block: 'Ntry' | 'TxDtls' | 'Ntfctn' | 'RtrInf' | 'Refs' | 'Amt'; pick: number }
  | { kind: 'flag'; pick: number; element: string }
  | { kind: 'cut' | 'repeat'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('text' as const), pick: fc.nat(), value: nastyText }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('attr' as const), pick: fc.nat(), value: fc.constantFrom('', 'cny', 'USD', 'C"NY', '&amp;', 'CNYX') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('duplicate' as const, 'drop' as const), block: fc.constantFrom('Ntry' as const, 'TxDtls' as const, 'Ntfctn' as const, 'RtrInf' as const, 'Refs' as const, 'Amt' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flag' as const), pick: fc.nat(), element: fc.constantFrom('<RvslInd>true</RvslInd>', '<RvslInd>1</RvslInd>', '<CdtDbtInd>DBIT</CdtDbtInd>', '<Sts>BOOK</Sts>', '<Amt Ccy="CNY">0.00</Amt>', '<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>', '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>', '<NtryDtls><TxDtls/></NtryDtls>') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('cut' as const, 'repeat' as const), at: fc.nat(), length: fc.nat({ max: 500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('<', '>', '</Ntry>', '<Ntry>', '<!DOCTYPE d>', '<!ENTITY e "x">', '<?xml version="1.0"?>', '&e;', ']]>', '<a xmlns="urn:x">')) }) },
);

function applyMutation(xml: string, m: Mutation): string {
  switch (m.kind) {
    case 'text': {
      const leaves = matches(xml, leafPattern);
      if (leaves.length === 0) return xml;
      const leaf = leaves[m.pick % leaves.length];
      const [whole, tag, attrs] = leaf;
      return xml.slice(0, leaf.index!) + `<${tag}${attrs}>${m.value}</${tag}>` + xml.slice(leaf.index! + whole.length);
    }
    case 'attr': {
      const ccys = matches(xml, /Ccy="[^"]*"/g);
      if (ccys.length === 0) return xml;
      const c = ccys[m.pick % ccys.length];
      return xml.slice(0, c.index!) + `Ccy="${m.value}"` + xml.slice(c.index! + c[0].length);
    }
    case 'duplicate':
    case 'drop': {
      const blocks = matches(xml, blockPattern(m.block));
      if (blocks.length === 0) return xml;
      const b = blocks[m.pick % blocks.length];
      const end = b.index! + b[0].length;
      return m.kind === 'drop' ? xml.slice(0, b.index!) + xml.slice(end) : xml.slice(0, end) + b[0] + xml.slice(end);
    }
    case 'flag': {
      // Into an entry, right after its opening tag or its amount: wherever it lands, it tests something.
      const entries = matches(xml, /<((?:[\w.-]+:)?)(Ntry|TxDtls)>/g);
      if (entries.length === 0) return xml;
      const e = entries[m.pick % entries.length];
      const prefixed = m.element.replace(/<(\/?)(\w)/g, `<$1${e[1]}$2`);
      const at = e.index! + e[0].length;
      return xml.slice(0, at) + prefixed + xml.slice(at);
    }
    case 'cut': {
      const at = m.at % (xml.length + 1);
      return xml.slice(0, at) + xml.slice(at + m.length);
    }
    case 'repeat': {
      const at = m.at % (xml.length + 1);
      return xml.slice(0, at + m.length) + xml.slice(at, at + m.length) + xml.slice(at + m.length);
    }
    case 'insert': {
      const at = m.at % (xml.length + 1);
      return xml.slice(0, at) + m.text + xml.slice(at);
    }
  }
}

const reference = fc.stringMatching(/^[A-Z0-9][A-Z0-9/-]{0,34}$/).filter((s) => s.length <= 35);
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
const instant = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true });

/** A credit as a bank could report it (what buildCamt054 and the cn-h2h builder accept). */
const creditEntry: fc.Arbitrary<CreditEntry> = fc
  .record({
    entryRef: reference,
    virtualAccount: digits(6, 30),
    amountFen: fc.bigInt({ min: 1n, max: 99_999_999_999_999_99n }),
    bookedAt: instant,
    debtorName: fc.string({ maxLength: 60 }),
    debtorAccount: fc.option(digits(6, 30), { nil: undefined }),
    bankCode: fc.option(digits(12, 12), { nil: undefined }),
    remittance: fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
    endToEndId: fc.option(reference, { nil: undefined }),
    bookingDateOnly: fc.boolean(),
  })
  .map((r) => {
    const c: CreditEntry = {
      entryRef: r.entryRef,
      virtualAccount: r.virtualAccount,
      amountFen: r.amountFen,
      currency: 'CNY',
      bookedAt: r.bookedAt.toISOString(),
      valueDate: r.bookedAt.toISOString().slice(0, 10),
      debtor: { name: r.debtorName, accountNumber: r.debtorAccount ?? '' },
    };
    if (r.bankCode) c.debtor.bankCode = r.bankCode;
    if (r.remittance) c.remittance = r.remittance;
    if (r.endToEndId) c.endToEndId = r.endToEndId;
    if (r.bookingDateOnly) c.bookingDateOnly = true;
    return c;
  });

/** Credits, some of them repeated whole (a bank repeating itself) or by reference only. The
 *  generated ones have distinct references, so every repeat is one of these two and the expected
 *  reading is known: two independent entries drawn under one reference could differ in any field
 *  (a date-only booking and a timed one), which is a repeat by reference that names no amount. */
const credits = fc
  .tuple(fc.uniqueArray(creditEntry, { selector: (c) => c.entryRef, minLength: 1, maxLength: 8 }), fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }))
  .map(([cs, repeats]) => {
    const out = [...cs];
    for (const [i, whole] of repeats) {
      const c = cs[i % cs.length];
      out.push(whole ? { ...c } : { ...c, amountFen: c.amountFen + 1n });
    }
    return out;
  });

// ---- camt.054 --------------------------------------------------------------------------------

describe('camt.054: whatever arrives, BankMessageInvalid or well-formed credits', () => {
  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        readOrRefuse(() => parseNotification(Buffer.from(bytes), 'application/xml'));
      }),
      { numRuns: runs },
    );
  });

  test('random text that looks a little like XML', () => {
    const xmlish = fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('<', '>', '</', '/>', '<Document>', '<BkToCstmrDbtCdtNtfctn>', '<Ntry>', '<Amt Ccy="CNY">', '1.00', '&amp;', '<![CDATA[', ']]>', 'xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"')), { maxLength: 60 });
    fc.assert(
      fc.property(xmlish, (parts) => {
        readOrRefuse(() => parseNotification(Buffer.from(parts.join('')), 'application/xml'));
      }),
      { numRuns: runs },
    );
  });

  test('what we build reads back exactly, each reference once', () => {
    fc.assert(
      fc.property(credits, (cs) => {
        const xml = buildCamt054({ messageId: 'PROP-1', createdAt: new Date('2025-03-03T02:00:00Z'), account: trustAccount, credits: cs });
        const n = readOrRefuse(() => parseNotification(Buffer.from(xml), 'application/xml'));
        // Each booking once, in order; two bookings under one reference both read.
        const seen = new Set<string>();
        const expected = cs.filter((c) => {
          const key = JSON.stringify([c.entryRef, String(c.amountFen)]);
          return !seen.has(key) && !!seen.add(key);
        });
        expect(n).toBeDefined();
        expect(n!.credits.map((c) => [c.entryRef, c.amountFen])).toEqual(expected.map((c) => [c.entryRef, c.amountFen]));
      }),
      { numRuns: runs },
    );
  });

  test('real messages mutated: values, flags, repeated and dropped elements, cut and spliced bytes', () => {
    const base = fc.oneof(
      fc.constantFrom(...camt054Files),
      credits.map((cs) => buildCamt054({ messageId: 'PROP-2', createdAt: new Date('2025-03-03T02:00:00Z'), account: trustAccount, credits: cs.slice(0, 3) })),
    );
    expectSomeRead(() =>
      fc.assert(
        fc.property(base, fc.array(mutation, { minLength: 1, maxLength: 4 }), (xml, ms) => {
          const mutated = ms.reduce(applyMutation, xml);
          readOrRefuse(() => parseNotification(Buffer.from(mutated, 'utf8'), 'application/xml'));
        }),
        { numRuns: runs * 3 },
      ),
    );
  });
});

// ---- cn-h2h credit notice ----------------------------------------------------------------------

type JsonPath = (string | number)[];

/** Every path to a value inside a JSON value. */
function pathsOf(v: unknown, at: JsonPath = []): JsonPath[] {
  if (v === null || typeof v !== 'object') return [at];
  const kids = Array.isArray(v) ? v.map((x, i) => pathsOf(x, [...at, i])) : Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k]));
  return [at, ...kids.flat()];
}

function setAt(root: unknown, p: JsonPath, value: unknown | typeof removed): unknown {
  if (p.length === 0) return value === removed ? undefined : value;
  const copy: any = Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) };
  const [k, ...rest] = p;
  const next = setAt(copy[k], rest, value);
  if (next === undefined && rest.length === 0 && value === removed) {
    if (Array.isArray(copy)) copy.splice(Number(k), 1);
    else delete copy[k];
  } else copy[k] = next;
  return copy;
}
const removed = Symbol('removed');

type JsonMutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'remove'; pick: number }
  | { kind: 'duplicateDetail'; pick: number; changeAmount: boolean };

const jsonValue = fc.oneof(
  nastyText,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, [], {}, { __proto__: { polluted: true } }, 'C', 'D', '0', '1', '01', '02', '03', '04', 'TRF', 'RTN', 'INT', '20250230', '20250228', '250000', '240000', '140320'),
  fc.jsonValue({ maxDepth: 2 }),
);
const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.constantFrom('rtnCode', 'rtnMsg', 'tranType', 'revFlag', 'origBankSerialNo', 'subAcctNo', 'tranTime', 'noticeType', 'constructor', '__proto__', 'toString'), value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicateDetail' as const), pick: fc.nat(), changeAmount: fc.boolean() }) },
);

function applyJsonMutation(msg: any, m: JsonMutation): any {
  if (m.kind === 'duplicateDetail') {
    const details = msg?.body?.details;
    if (!Array.isArray(details) || details.length === 0) return msg;
    const d = details[m.pick % details.length];
    const copy = m.changeAmount && d && typeof d === 'object' ? { ...d, tranAmt: '0.01' } : d;
    return { ...msg, body: { ...msg.body, details: [...details, copy] } };
  }
  if (m.kind === 'add') {
    // A field the bank did not send, on any object of the message (JSON.parse makes even
    // "__proto__" an own field, so it is defined here the same way).
    const objects = pathsOf(msg).filter((p) => {
      const v = p.reduce<any>((o, k) => o?.[k], msg);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    if (objects.length === 0) return msg;
    const p = objects[m.pick % objects.length];
    const target = p.reduce<any>((o, k) => o?.[k], msg);
    const widened = { ...target };
    Object.defineProperty(widened, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    return setAt(msg, p, widened);
  }
  const paths = pathsOf(msg).filter((p) => p.length > 0);
  if (paths.length === 0) return msg;
  const p = paths[m.pick % paths.length];
  return setAt(msg, p, m.kind === 'remove' ? removed : m.value);
}

/** A notice of one kind, as the bank sends them: plain credits, or payments of ours returned. */
const noticeCredits = fc.tuple(credits, fc.boolean(), fc.constantFrom('AC04', 'AC01', 'BE01', 'NARR', 'RJ01')).map(([cs, returns, reason]) =>
  returns ? cs.map((c) => ({ ...c, bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: reason, ...(c.endToEndId ? { originalEndToEndId: c.endToEndId } : {}) } })) : cs,
);

describe('cn-h2h credit notice: whatever arrives, BankMessageInvalid or well-formed credits', () => {
  test('random JSON, as bytes and as a parsed value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        readOrRefuse(() => cnh2hParseCreditNotice(v));
        readOrRefuse(() => cnh2hParseCreditNotice(Buffer.from(JSON.stringify(v) ?? 'null')));
        readOrRefuse(() => parseNotification(Buffer.from(JSON.stringify(v) ?? 'null'), 'application/json'));
      }),
      { numRuns: runs },
    );
  });

  test('random bytes under a JSON content type', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        readOrRefuse(() => parseNotification(Buffer.from(bytes), 'application/json'));
      }),
      { numRuns: runs },
    );
  });

  test('what we build reads back exactly, each reference once', () => {
    fc.assert(
      fc.property(noticeCredits, (cs) => {
        const notice = cnh2hBuildCreditNotice({ messageId: 'PROP-3', account: trustAccount, credits: cs });
        const n = readOrRefuse(() => cnh2hParseCreditNotice(JSON.parse(JSON.stringify(notice))));
        // Each booking once, in order; two bookings under one reference both read.
        const seen = new Set<string>();
        const expected = cs.filter((c) => {
          const key = JSON.stringify([c.entryRef, String(c.amountFen)]);
          return !seen.has(key) && !!seen.add(key);
        });
        expect(n).toBeDefined();
        expect(n!.credits.map((c) => [c.entryRef, c.amountFen])).toEqual(expected.map((c) => [c.entryRef, c.amountFen]));
      }),
      { numRuns: runs },
    );
  });

  test('real notices mutated: fields set to anything, removed, details repeated', () => {
    expectSomeRead(() =>
      fc.assert(
        fc.property(noticeCredits, fc.array(jsonMutation, { minLength: 1, maxLength: 4 }), (cs, ms) => {
          const notice = JSON.parse(JSON.stringify(cnh2hBuildCreditNotice({ messageId: 'PROP-4', account: trustAccount, credits: cs.slice(0, 3) })));
          const mutated = ms.reduce(applyJsonMutation, notice);
          readOrRefuse(() => cnh2hParseCreditNotice(mutated));
          readOrRefuse(() => parseNotification(Buffer.from(JSON.stringify(mutated) ?? 'null'), 'application/json'));
        }),
        { numRuns: runs * 3 },
      ),
    );
  });
});

describe('names of Object.prototype members are just names', () => {
  test('a cn-h2h return reason "toString" is the string "toString"', () => {
    const notice = JSON.parse(
      JSON.stringify(
        cnh2hBuildCreditNotice({
          messageId: 'PROTO-1',
          account: trustAccount,
          credits: [{ ...fcSample(creditEntry), bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'AC04' } }],
        }),
      ),
    );
    notice.body.details[0].rtnCode = 'toString';
    const n = readOrRefuse(() => cnh2hParseCreditNotice(notice));
    expect(n?.credits[0].returnInfo?.reasonCode).toBe('toString');
  });

  test('XML elements and attributes named like prototype members are refused or read as text', () => {
    for (const root of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => parseNotification(Buffer.from(`<Document><${root}/></Document>`), 'application/xml')).toThrow(BankMessageInvalid);
    }
    const xml = buildCamt054({ messageId: 'PROTO-2', createdAt: new Date('2025-03-03T02:00:00Z'), account: trustAccount, credits: [fcSample(creditEntry)] }).replace(
      '<Amt Ccy="CNY">',
      '<Amt __proto__="x" constructor="y" Ccy="CNY">',
    );
    const n = readOrRefuse(() => parseNotification(Buffer.from(xml), 'application/xml'));
    expect(n?.credits).toHaveLength(1);
  });
});

function fcSample<T>(arb: fc.Arbitrary<T>): T {
  return fc.sample(arb, { numRuns: 1, seed: 42 })[0];
}
