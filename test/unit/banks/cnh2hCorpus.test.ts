// The cn-h2h part of the bank file corpus (test/fixtures/banks/cnh2h-*.json credit notices and
// cnh2h-*.ndjson statements, each with a sibling *.expected.json): every file is read exactly as
// its expected file says, or refused with BankMessageInvalid and the message it names. The files
// cover the shapes the ISO corpus covers: local account ids, batch bookings, date-only bookings,
// returns, reversals, interest, lines that are not credits, another currency, reused references.
import { Readable } from 'node:stream';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseNotification } from '../../../src/banks/adapters';
import { cnh2hParseCreditNotice, cnh2hParseStatementStream } from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid, type StatementEntry } from '../../../src/banks/types';
import { toJson, type Json } from './corpusReading';
import { fixturesDir } from './fixtures';

const expectedFileOf = (f: string) => f.replace(/\.(json|ndjson)$/, '.expected.json');
const corpus = readdirSync(fixturesDir)
  .filter((f) => /^cnh2h-.*\.(json|ndjson)$/.test(f) && !f.endsWith('.expected.json') && existsSync(path.join(fixturesDir, expectedFileOf(f))))
  .sort();
const bytes = (f: string) => readFileSync(path.join(fixturesDir, f));
const expected = (f: string) => JSON.parse(readFileSync(path.join(fixturesDir, expectedFileOf(f)), 'utf8')) as Record<string, any>;
const isStatement = (f: string) => f.endsWith('.ndjson');
const read = corpus.filter((f) => expected(f).refused === undefined);
const refused = corpus.filter((f) => expected(f).refused !== undefined);

/** The same bytes in pieces of `size`: a line, a multi-byte character or a number may be split
 *  anywhere between two network reads. */
function inPieces(buf: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return Readable.from(pieces, { objectMode: false });
}

async function statementReading(input: Buffer | Readable): Promise<Json> {
  const entries: StatementEntry[] = [];
  const summary = await cnh2hParseStatementStream(input, (e) => {
    entries.push(e);
  });
  return toJson({ message: { protocol: 'cn-h2h', transCode: 'B2E0003' }, summary, entries });
}

function noticeReading(input: Buffer | unknown): Json {
  const n = cnh2hParseCreditNotice(input);
  return toJson({ message: { protocol: 'cn-h2h', transCode: 'E2B0001' }, messageId: n.messageId, ignored: n.ignored, credits: n.credits, reversals: n.reversals ?? [] });
}

describe('the cn-h2h bank file corpus', () => {
  test('holds notices and statements, read and refused', () => {
    expect(read.filter(isStatement).length).toBeGreaterThanOrEqual(2);
    expect(read.filter((f) => !isStatement(f)).length).toBeGreaterThanOrEqual(5);
    expect(refused.filter(isStatement).length).toBeGreaterThanOrEqual(2);
    expect(refused.filter((f) => !isStatement(f)).length).toBeGreaterThanOrEqual(2);
  });

  test.each(read.filter((f) => !isStatement(f)))('notice %s reads as its .expected.json says, as bytes, as text, as a parsed value and through the adapter', (f) => {
    const want = expected(f);
    expect(noticeReading(bytes(f))).toEqual(want);
    expect(noticeReading(bytes(f).toString('utf8'))).toEqual(want);
    expect(noticeReading(JSON.parse(bytes(f).toString('utf8')))).toEqual(want);
    const n = parseNotification(bytes(f), 'application/json');
    expect(toJson({ message: want.message, messageId: n.messageId, ignored: n.ignored, credits: n.credits, reversals: n.reversals ?? [] })).toEqual(want);
  });

  test.each(read.filter(isStatement))('statement %s reads as its .expected.json says, whole and in pieces of any size', async (f) => {
    const want = expected(f);
    expect(await statementReading(bytes(f))).toEqual(want);
    for (const size of [1, 2, 3, 7, 64]) expect(await statementReading(inPieces(bytes(f), size))).toEqual(want);
  });

  test.each(refused)('%s is refused with BankMessageInvalid naming what is wrong', async (f) => {
    const want = new RegExp(expected(f).refused as string);
    if (isStatement(f)) {
      await expect(cnh2hParseStatementStream(bytes(f), () => {})).rejects.toThrow(BankMessageInvalid);
      await expect(cnh2hParseStatementStream(bytes(f), () => {})).rejects.toThrow(want);
    } else {
      expect(() => cnh2hParseCreditNotice(bytes(f))).toThrow(BankMessageInvalid);
      expect(() => cnh2hParseCreditNotice(bytes(f))).toThrow(want);
      expect(() => parseNotification(bytes(f), 'application/json')).toThrow(BankMessageInvalid);
    }
  });

  test('covers local accounts, batches, date-only bookings, returns, reversals, interest, other currencies and reused references', () => {
    const all = read.map(expected);
    const bookings = all.flatMap((e) => [...(e.credits ?? []), ...(e.reversals ?? []), ...(e.entries ?? [])]);
    const accounts = bookings.map((b) => b.virtualAccount ?? b.account);
    expect(accounts.every((a) => /^\d+$/.test(a))).toBe(true);
    expect(bookings.filter((b) => /\/\d+$/.test(b.entryRef)).length).toBeGreaterThanOrEqual(2);
    expect(bookings.some((b) => b.bookingDateOnly === true)).toBe(true);
    expect(bookings.filter((b) => b.returnInfo).length).toBeGreaterThanOrEqual(4);
    expect(bookings.filter((b) => b.reversal === true && b.originalEntryRef).length).toBeGreaterThanOrEqual(3);
    expect(bookings.some((b) => b.bankTransactionCode === 'ACMT/MCOP/INTR')).toBe(true);
    expect(bookings.some((b) => b.currency !== 'CNY')).toBe(true);
    expect(all.some((e) => e.summary && BigInt(e.summary.openingBalanceFen) < 0n)).toBe(true);
    // Every notice type, and a notice from before types existed.
    const noticeTypes = read.filter((f) => !isStatement(f)).map((f) => JSON.parse(bytes(f).toString('utf8')).body.noticeType ?? 'none');
    expect(new Set(noticeTypes)).toEqual(new Set(['01', '02', '03', '04', 'none']));
    // Lines that are not credits (fees, reversals of our debits): in the file, counted as ignored.
    expect(all.filter((e) => e.ignored > 0).length).toBeGreaterThanOrEqual(2);
  });

  test('every amount read is a positive whole number of fen, written as a string', () => {
    for (const f of read) {
      const e = expected(f);
      for (const b of [...(e.credits ?? []), ...(e.reversals ?? []), ...(e.entries ?? [])]) expect(b.amountFen).toMatch(/^[1-9]\d*$/);
    }
  });

  // A notice passes each booking on once: the same booking repeated is read once (and counted
  // as ignored), two different bookings under one reference are both passed on (the service books
  // the first and opens a reference_clash for the other). A statement passes every line on, a
  // repeated one too, because reconciliation must see it to report it as a duplicate.
  test('a notice repeating a booking reads it once; two bookings under one reference are both read', () => {
    const credits = expected('cnh2h-E2B0001-01-credits.json').credits as { entryRef: string; amountFen: string }[];
    const reused = credits.filter((c) => c.entryRef === 'CCB2503211641000023');
    expect(reused.map((c) => c.amountFen)).toEqual(['800000', '80000']);
    const inFile = JSON.parse(bytes('cnh2h-E2B0001-01-credits.json').toString('utf8')).body.details.filter((d: { bankSerialNo: string }) => d.bankSerialNo === 'CCB2503211641000023');
    expect(inFile).toHaveLength(3);
    const reversals = expected('cnh2h-E2B0001-02-reversals.json').reversals as { entryRef: string }[];
    expect(new Set(reversals.map((r) => r.entryRef)).size).toBe(reversals.length);
  });

  test('a statement passes a repeated line on as it came, for reconciliation to report', () => {
    const entries = expected('cnh2h-B2E0003-debit-balance-repeats.ndjson').entries as { entryRef: string; amountFen: string }[];
    expect(entries.filter((e) => e.entryRef === 'CCB2503211641000023').map((e) => e.amountFen)).toEqual(['800000', '800000', '80000']);
  });

  test('the refused files differ from a file that reads by the one fault they name', () => {
    const base = JSON.parse(bytes('cnh2h-E2B0001-02-reversals.json').toString('utf8'));
    const twoReversals = JSON.parse(bytes('cnh2h-E2B0001-refused-two-reversals-one-reference.json').toString('utf8'));
    expect(twoReversals.body.details.slice(0, 2)).toEqual(base.body.details.slice(0, 2));
    expect({ ...twoReversals.body.details[2], tranAmt: '5000.00' }).toEqual(base.body.details[2]);
    const lines = bytes('cnh2h-B2E0003-local-batch.ndjson').toString('utf8').split('\n');
    expect(bytes('cnh2h-B2E0003-refused-cut-short.ndjson').toString('utf8')).toBe(lines.slice(0, 5).join('\n') + '\n');
  });
});
