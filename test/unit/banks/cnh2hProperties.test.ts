// Property-based tests of the cn-h2h parsers through their public functions (the B2E0003
// statement stream and the E2B0001 notice), with fast-check. Whatever arrives, random bytes or a
// real message of the corpus mutated, a parser either refuses with BankMessageInvalid (the API's
// 400) or yields well-formed entries: amounts positive whole fen as bigint, real instants and
// dates, a notice's booking once, a statement's line once, totals that add up. A failure prints
// the seed and the shrunk input; re-run with that seed to reproduce it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parseNotification } from '../../../src/banks/adapters';
import { cnh2hBuildStatement, cnh2hParseCreditNotice, cnh2hParseStatementStream } from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid, type CreditNotification, type StatementEntry, type StatementHeader, type StatementSummary } from '../../../src/banks/types';
import { parseBankDecimal, formatAmount } from '../../../src/domain/money';
import { fixturesDir, trustAccount } from './fixtures';

/** Runs per property: enough to find the usual holes in a few seconds. BIDBOND_PROPERTY_RUNS
 *  asks for a deeper search. */
const runs = Number(process.env.BIDBOND_PROPERTY_RUNS ?? 200);

// ---- well-formed readings ----------------------------------------------------------------------

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const optionalText = (v: unknown) => v === undefined || (typeof v === 'string' && v !== '');

/** Text a database column cannot hold: U+0000, or half of a surrogate pair. */
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function checkStorable(v: unknown, at: string): void {
  if (typeof v === 'string' && unstorable.test(v)) throw new Error(`${at}: text no database can store: ${JSON.stringify(v)}`);
  if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) checkStorable(x, `${at}.${k}`);
}

function checkBooking(e: { entryRef: string; amountFen: bigint; currency: string; bookedAt: string; valueDate: string }): void {
  checkStorable(e, e.entryRef);
  if (typeof e.amountFen !== 'bigint' || e.amountFen <= 0n) throw new Error(`malformed amount ${String(e.amountFen)} on ${e.entryRef}`);
  if (typeof e.entryRef !== 'string' || e.entryRef === '') throw new Error('an entry without a reference');
  if (typeof e.currency !== 'string' || e.currency === '') throw new Error(`${e.entryRef}: no currency`);
  if (!isoInstant.test(e.bookedAt) || Number.isNaN(Date.parse(e.bookedAt))) throw new Error(`${e.entryRef}: bookedAt ${e.bookedAt}`);
  // A real calendar date: 2025-02-30 must not come out as 2025-03-02.
  if (!isoDate.test(e.valueDate) || new Date(`${e.valueDate}T00:00:00Z`).toISOString().slice(0, 10) !== e.valueDate) throw new Error(`${e.entryRef}: valueDate ${e.valueDate}`);
}

function checkStatementEntry(e: StatementEntry): void {
  checkBooking(e);
  if (e.direction !== 'credit' && e.direction !== 'debit') throw new Error(`${e.entryRef}: direction ${String(e.direction)}`);
  if (typeof e.account !== 'string' || e.account === '') throw new Error(`${e.entryRef}: no account`);
  for (const k of ['name', 'accountNumber', 'bankCode'] as const) if (!optionalText(e.counterparty[k])) throw new Error(`${e.entryRef}: counterparty.${k}`);
  for (const k of ['remittance', 'endToEndId', 'bankTransactionCode', 'originalEntryRef'] as const) if (!optionalText(e[k])) throw new Error(`${e.entryRef}: ${k}`);
  if (e.originalEntryRef && !e.reversal) throw new Error(`${e.entryRef}: an original booking named by what is not a reversal`);
  if (e.returnInfo && typeof e.returnInfo.reasonCode !== 'string') throw new Error(`${e.entryRef}: returnInfo`);
}

function checkNotification(n: CreditNotification): void {
  if (typeof n.messageId !== 'string' || n.messageId === '') throw new Error('a notification without a message id');
  checkStorable(n.messageId, 'messageId');
  const all = [...n.credits, ...(n.reversals ?? [])];
  for (const e of all) {
    checkBooking(e);
    if (typeof e.virtualAccount !== 'string' || e.virtualAccount === '') throw new Error(`${e.entryRef}: no account`);
    if (typeof e.debtor?.name !== 'string' || typeof e.debtor.accountNumber !== 'string' || !optionalText(e.debtor.bankCode)) throw new Error(`${e.entryRef}: debtor`);
  }
  // A reversal may name no original (the service then matches it by account and amount).
  for (const r of n.reversals ?? []) if (r.reversal !== true) throw new Error(`${r.entryRef}: a reversal not marked as one`);
  const contents = all.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  if (new Set(contents).size !== contents.length) throw new Error(`an entry yielded twice: ${all.map((e) => e.entryRef).join(', ')}`);
  const reversalRefs = (n.reversals ?? []).map((r) => r.entryRef);
  if (new Set(reversalRefs).size !== reversalRefs.length) throw new Error('two reversals under one reference');
  if (!Number.isInteger(n.ignored) || n.ignored < 0) throw new Error(`ignored is ${n.ignored}`);
}

const tally = { read: 0, refused: 0 };

function refusedOrThrow(err: unknown): undefined {
  if (err instanceof BankMessageInvalid) {
    tally.refused += 1;
    return undefined;
  }
  throw err;
}

function readNotice(parse: () => CreditNotification): CreditNotification | undefined {
  let n: CreditNotification;
  try {
    n = parse();
  } catch (err) {
    return refusedOrThrow(err);
  }
  checkNotification(n);
  tally.read += 1;
  return n;
}

/** Lines that carry something (the parser skips blank ones). */
const linesOf = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** Reads a statement; on success every entry is well formed, the summary counts and adds up
 *  exactly what was yielded, and each detail line was yielded once (header first, trailer last). */
async function readStatement(input: Buffer | string | Readable, text?: string): Promise<{ summary: StatementSummary; entries: StatementEntry[] } | undefined> {
  const entries: StatementEntry[] = [];
  let summary: StatementSummary;
  try {
    summary = await cnh2hParseStatementStream(input, (e) => {
      entries.push(e);
    });
  } catch (err) {
    return refusedOrThrow(err);
  }
  entries.forEach(checkStatementEntry);
  if (summary.entryCount !== entries.length) throw new Error(`entryCount ${summary.entryCount} for ${entries.length} entries yielded`);
  const sum = (d: 'credit' | 'debit') => entries.filter((e) => e.direction === d).reduce((s, e) => s + e.amountFen, 0n);
  if (summary.creditTotalFen !== sum('credit') || summary.debitTotalFen !== sum('debit')) throw new Error('totals that do not add up what was yielded');
  if (typeof summary.openingBalanceFen !== 'bigint' || typeof summary.closingBalanceFen !== 'bigint') throw new Error('balances not in fen');
  if (!isoDate.test(summary.date)) throw new Error(`statement date ${summary.date}`);
  checkStorable(summary, 'summary');
  if (text !== undefined && linesOf(text).length - 2 !== entries.length) throw new Error(`${entries.length} entries from ${linesOf(text).length - 2} detail lines`);
  tally.read += 1;
  return { summary, entries };
}

/** A mutation test that refused everything would prove nothing: enough mutants must be read. */
async function expectSomeRead(run: () => Promise<void>): Promise<void> {
  tally.read = 0;
  tally.refused = 0;
  await run();
  expect(tally.read).toBeGreaterThan((tally.read + tally.refused) / 10);
}

// ---- inputs -------------------------------------------------------------------------------------

const corpusFiles = readdirSync(fixturesDir).filter((f) => /^cnh2h-.*\.(json|ndjson)$/.test(f) && !f.endsWith('.expected.json') && !f.includes('refused'));
const corpusNotices = corpusFiles.filter((f) => f.endsWith('.json')).map((f) => readFileSync(path.join(fixturesDir, f), 'utf8'));
const corpusStatements = corpusFiles.filter((f) => f.endsWith('.ndjson')).map((f) => readFileSync(path.join(fixturesDir, f), 'utf8'));

/** Values a broken or hostile bank puts where a field belongs. */
const nastyValue = fc.oneof(
  fc.constantFrom<unknown>(
    '', ' ', '0', '0.00', '-1.00', '+5', '1e3', '1.001', '12.300', ' 12.30 ', '0.001', '99999999999999999999', '999999999999999.99', '1000000000000000.00', 'NaN', 'Infinity',
    '１２３.４５', '١٢٣', '20250230', '20251301', '20250228', '2025-02-28', '250000', '240000', '235960', '140320', '99999999', '00000000',
    'C', 'D', 'c', '0', '1', '2', '01', '02', '03', '04', '05', 'TRF', 'RTN', 'INT', 'E1001', 'AC04', 'CNY', 'USD', 'cny',
    'constructor', '__proto__', 'toString', 'hasOwnProperty', '\u0000', '\uFFFE', '\uD800', '保证金', 'x'.repeat(40), 'x'.repeat(70_000),
    null, true, false, 0, -1, 1.5, 1e21, 12345, [], {}, ['C'], { toString: 'x' },
  ),
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^\d{1,20}(\.\d{0,4})?$/),
  fc.jsonValue({ maxDepth: 2 }),
);

type JsonPath = (string | number)[];
const removed = Symbol('removed');

function pathsOf(v: unknown, at: JsonPath = []): JsonPath[] {
  if (v === null || typeof v !== 'object') return [at];
  const kids = Array.isArray(v) ? v.map((x, i) => pathsOf(x, [...at, i])) : Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k]));
  return [at, ...kids.flat()];
}

function setAt(root: unknown, p: JsonPath, value: unknown): unknown {
  if (p.length === 0) return value === removed ? undefined : value;
  const copy: any = Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) };
  const [k, ...rest] = p;
  if (rest.length === 0 && value === removed) {
    if (Array.isArray(copy)) copy.splice(Number(k), 1);
    else delete copy[k];
    return copy;
  }
  // JSON.parse makes "__proto__" an own field; define it the same way, never as the prototype.
  Object.defineProperty(copy, k, { value: setAt(copy[k], rest, value), enumerable: true, writable: true, configurable: true });
  return copy;
}

const fieldNames = ['bankSerialNo', 'drCrFlag', 'tranAmt', 'ccy', 'tranDate', 'tranTime', 'valueDate', 'subAcctNo', 'oppAcctNo', 'oppAcctName', 'oppBankNo', 'postscript', 'bizSerialNo', 'revFlag', 'origBankSerialNo', 'tranType', 'rtnCode', 'rtnMsg', 'noticeType', 'retCode', 'openBalFlag', 'totalNum', 'constructor', '__proto__', 'toString'];

type JsonMutation = { kind: 'set'; pick: number; value: unknown } | { kind: 'add'; pick: number; key: string; value: unknown } | { kind: 'remove'; pick: number };
const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.constantFrom(...fieldNames), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

function applyJsonMutation(msg: unknown, m: JsonMutation): unknown {
  if (m.kind === 'add') {
    const objects = pathsOf(msg).filter((p) => {
      const v = p.reduce<any>((o, k) => o?.[k], msg);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    if (objects.length === 0) return msg;
    const p = objects[m.pick % objects.length];
    return setAt(msg, [...p, m.key], m.value);
  }
  const paths = pathsOf(msg).filter((p) => p.length > 0);
  if (paths.length === 0) return msg;
  return setAt(msg, paths[m.pick % paths.length], m.kind === 'remove' ? removed : m.value);
}

type LineMutation =
  | { kind: 'json'; line: number; m: JsonMutation }
  | { kind: 'dropLine' | 'repeatLine'; line: number }
  | { kind: 'swapLines'; line: number; other: number }
  | { kind: 'cut' | 'repeat'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'crlf' | 'blankLines' };

const lineMutation: fc.Arbitrary<LineMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('json' as const), line: fc.nat(), m: jsonMutation }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('dropLine' as const, 'repeatLine' as const), line: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapLines' as const), line: fc.nat(), other: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('cut' as const, 'repeat' as const), at: fc.nat(), length: fc.nat({ max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('\n', '\r\n', '{', '}', '"', '\\', '\u0000', '{"detail":{}}\n', '{"trailer":{}}\n', '\uFEFF', '\n\n\n')) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('crlf' as const, 'blankLines' as const) }) },
);

function applyLineMutation(text: string, m: LineMutation): string {
  const lines = text.split('\n');
  const pick = (n: number) => n % lines.length;
  switch (m.kind) {
    case 'json': {
      const i = pick(m.line);
      let v: unknown;
      try {
        v = JSON.parse(lines[i]);
      } catch {
        return text;
      }
      lines[i] = JSON.stringify(applyJsonMutation(v, m.m)) ?? 'null';
      return lines.join('\n');
    }
    case 'dropLine':
      lines.splice(pick(m.line), 1);
      return lines.join('\n');
    case 'repeatLine': {
      const i = pick(m.line);
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
    case 'swapLines': {
      const [i, j] = [pick(m.line), pick(m.other)];
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join('\n');
    }
    case 'cut': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.length);
    }
    case 'repeat': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at + m.length) + text.slice(at, at + m.length) + text.slice(at + m.length);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'crlf':
      return text.replace(/\r?\n/g, '\r\n');
    case 'blankLines':
      return text.replace(/\n/g, '\n \n');
  }
}

/** The trailer recomputed from the details that still carry a readable flag and amount, so a
 *  mutated detail reaches the field checks instead of stopping at the trailer's totals. */
function withTrailerFitted(text: string): string {
  const lines = text.split('\n');
  let n = 0;
  let cr = 0n;
  let dr = 0n;
  let trailerAt = -1;
  lines.forEach((l, i) => {
    let v: any;
    try {
      v = JSON.parse(l);
    } catch {
      return;
    }
    if (v?.trailer !== undefined) trailerAt = i;
    else if (v?.detail !== undefined) {
      n += 1;
      try {
        const fen = parseBankDecimal(String(v.detail.tranAmt));
        if (v.detail.drCrFlag === 'D') dr += fen;
        else cr += fen;
      } catch {
        // an unreadable amount: the parser refuses the line before it reaches the trailer
      }
    }
  });
  if (trailerAt < 0) return text;
  lines[trailerAt] = JSON.stringify({ trailer: { totalNum: String(n), crTotalAmt: formatAmount(cr), drTotalAmt: formatAmount(dr) } });
  return lines.join('\n');
}

const reference = fc.stringMatching(/^[A-Z0-9][A-Z0-9/-]{0,34}$/).filter((s) => s.length <= 35);
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
/** Whole seconds: tranTime has no fractions. */
const instant = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));

/** A booking as a bank could report it (what the statement builder accepts). */
const statementEntryArb: fc.Arbitrary<StatementEntry> = fc
  .record({
    entryRef: reference,
    direction: fc.constantFrom('credit' as const, 'debit' as const),
    amountFen: fc.bigInt({ min: 1n, max: 99_999_999_999_999_99n }),
    currency: fc.constantFrom('CNY', 'CNY', 'CNY', 'USD'),
    bookedAt: instant,
    bookingDateOnly: fc.boolean(),
    subAccount: fc.option(digits(3, 3), { nil: undefined }),
    name: fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }),
    accountNumber: fc.option(digits(6, 30), { nil: undefined }),
    bankCode: fc.option(digits(12, 12), { nil: undefined }),
    remittance: fc.option(fc.string({ minLength: 1, maxLength: 80 }), { nil: undefined }),
    endToEndId: fc.option(reference, { nil: undefined }),
    kind: fc.constantFrom('transfer' as const, 'return' as const, 'interest' as const, 'reversal' as const),
    original: reference,
  })
  .map((r) => {
    const e: StatementEntry = {
      entryRef: r.entryRef,
      direction: r.direction,
      amountFen: r.amountFen,
      currency: r.currency,
      bookedAt: r.bookedAt.toISOString(),
      valueDate: r.bookedAt.toISOString().slice(0, 10),
      account: r.subAccount ? `${trustAccount}${r.subAccount}` : trustAccount,
      counterparty: {},
    };
    if (r.name?.trim()) e.counterparty.name = r.name;
    if (r.accountNumber) e.counterparty.accountNumber = r.accountNumber;
    if (r.bankCode) e.counterparty.bankCode = r.bankCode;
    if (r.remittance?.trim()) e.remittance = r.remittance;
    if (r.endToEndId) e.endToEndId = r.endToEndId;
    if (r.bookingDateOnly) e.bookingDateOnly = true;
    if (r.kind === 'return') Object.assign(e, { bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'AC04' } });
    if (r.kind === 'interest') e.bankTransactionCode = 'ACMT/MCOP/INTR';
    if (r.kind === 'reversal') Object.assign(e, { reversal: true, originalEntryRef: r.original });
    return e;
  });

const header: StatementHeader = {
  messageId: 'PROP-STM-1',
  statementId: 'PROP-STMNO-1',
  sequenceNumber: '9',
  account: trustAccount,
  currency: 'CNY',
  date: '2025-03-21',
  openingBalanceFen: -100n,
  closingBalanceFen: 5_000_000n,
};

const builtStatement = fc.array(statementEntryArb, { maxLength: 12 }).map((entries) => ({ entries, text: [...cnh2hBuildStatement(header, entries)].join('') }));
const statementBase = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...corpusStatements) }, { weight: 1, arbitrary: builtStatement.map((b) => b.text) });

/** Bytes in pieces at the given cut points. */
function inPieces(buf: Buffer, cuts: number[]): Readable {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of [...at, buf.length]) {
    if (c > from) pieces.push(buf.subarray(from, c));
    from = Math.max(from, c);
  }
  return Readable.from(pieces);
}

// ---- B2E0003 statement -------------------------------------------------------------------------

describe('cn-h2h statement: whatever arrives, BankMessageInvalid or well-formed entries that add up', () => {
  test('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        await readStatement(Buffer.from(bytes));
      }),
      { numRuns: runs },
    );
  });

  test('random JSON lines, some shaped like a header, a detail or a trailer', async () => {
    const line = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ head: fc.record({ transCode: nastyValue, retCode: fc.constantFrom<unknown>('000000', 'E1001', 0, null) }), body: fc.dictionary(fc.constantFrom('acctNo', 'ccy', 'queryDate', 'stmtNo', 'openBal', 'openBalFlag', 'closeBal', 'closeBalFlag'), nastyValue) }),
      fc.record({ detail: fc.dictionary(fc.constantFrom(...fieldNames), nastyValue) }),
      fc.record({ trailer: fc.dictionary(fc.constantFrom('totalNum', 'crTotalAmt', 'drTotalAmt'), nastyValue) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), async (lines) => {
        const text = lines.map((l) => JSON.stringify(l) ?? 'null').join('\n');
        await readStatement(text, text);
      }),
      { numRuns: runs },
    );
  });

  test('what the bank builds reads back, each line once, in order, whole or in any pieces', async () => {
    await fc.assert(
      fc.asyncProperty(builtStatement, fc.array(fc.nat(), { maxLength: 12 }), async ({ entries, text }, cuts) => {
        const whole = await readStatement(text, text);
        expect(whole).toBeDefined();
        const got = whole!.entries;
        expect(got.map((e) => [e.entryRef, e.direction, e.amountFen, e.currency, e.account, e.reversal === true])).toEqual(
          entries.map((e) => [e.entryRef, e.direction, e.amountFen, e.currency, e.account, e.reversal === true]),
        );
        got.forEach((e, i) => {
          if (!entries[i].bookingDateOnly) expect(e.bookedAt).toBe(entries[i].bookedAt);
        });
        const pieces = await readStatement(inPieces(Buffer.from(text), cuts));
        expect(pieces).toEqual(whole);
      }),
      { numRuns: runs },
    );
  });

  test('corpus and built statements mutated: fields set to anything, added, removed; lines dropped, repeated, swapped; bytes cut, repeated, inserted', async () => {
    await expectSomeRead(() =>
      fc.assert(
        fc.asyncProperty(statementBase, fc.array(lineMutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (base, ms, fitTrailer) => {
          const mutated = ms.reduce(applyLineMutation, base);
          const text = fitTrailer ? withTrailerFitted(mutated) : mutated;
          await readStatement(text, text);
        }),
        { numRuns: runs * 3 },
      ),
    );
  });
});

// ---- E2B0001 notice ----------------------------------------------------------------------------

describe('cn-h2h notices of the corpus mutated: BankMessageInvalid or well-formed credits, each booking once', () => {
  test('fields set to anything, added, removed; details repeated, dropped and reordered', async () => {
    type DetailMutation = { kind: 'repeat' | 'drop'; pick: number; changeAmount: boolean } | { kind: 'reverse' };
    const detailMutation: fc.Arbitrary<DetailMutation> = fc.oneof(
      fc.record({ kind: fc.constantFrom('repeat' as const, 'drop' as const), pick: fc.nat(), changeAmount: fc.boolean() }),
      fc.record({ kind: fc.constant('reverse' as const) }),
    );
    const applyDetailMutation = (msg: any, m: DetailMutation): any => {
      const details = msg?.body?.details;
      if (!Array.isArray(details) || details.length === 0) return msg;
      if (m.kind === 'reverse') return { ...msg, body: { ...msg.body, details: [...details].reverse() } };
      const i = m.pick % details.length;
      if (m.kind === 'drop') return { ...msg, body: { ...msg.body, details: details.filter((_, j) => j !== i) } };
      const d = details[i];
      const copy = m.changeAmount && d && typeof d === 'object' ? { ...d, tranAmt: '0.01' } : d;
      return { ...msg, body: { ...msg.body, details: [...details, copy] } };
    };
    const mutationArb = fc.oneof({ weight: 3, arbitrary: jsonMutation.map((m) => ({ json: m })) }, { weight: 1, arbitrary: detailMutation.map((m) => ({ detail: m })) });
    tally.read = 0;
    tally.refused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...corpusNotices), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (text, ms) => {
        const mutated = ms.reduce<unknown>((msg, m) => ('json' in m ? applyJsonMutation(msg, m.json) : applyDetailMutation(msg, m.detail)), JSON.parse(text));
        const bytes = Buffer.from(JSON.stringify(mutated) ?? 'null');
        const asValue = readNotice(() => cnh2hParseCreditNotice(mutated));
        const asBytes = readNotice(() => cnh2hParseCreditNotice(bytes));
        readNotice(() => parseNotification(bytes, 'application/json'));
        // The same message reads the same whether it came as bytes or as a parsed value.
        expect(asBytes === undefined).toBe(asValue === undefined);
      }),
      { numRuns: runs * 3 },
    );
    expect(tally.read).toBeGreaterThan((tally.read + tally.refused) / 10);
  });

  test('random bytes and random JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1000 }).map((b) => Buffer.from(b)), fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))), (bytes) => {
        readNotice(() => cnh2hParseCreditNotice(bytes));
      }),
      { numRuns: runs },
    );
  });
});
