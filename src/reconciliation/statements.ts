// Reading a statement into the database as it streams: entries go to PostgreSQL in segments of
// `statementCopySegmentRows`, each one COPY into statement_entries and one into
// reconciliation_lines (every line starts unmatched), sent on the transaction's connection one
// after the other while the parser reads the next segment. PostgreSQL stores a day's 100,000
// lines while the document is still being read, and at most `statementSegmentsInFlightMax`
// segments are held in memory at once. The document is bounded in bytes (the parser bounds
// entries, nesting and text, and refuses DOCTYPE and entities, i.e. billion-laughs and XXE).
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BankMessageInvalid, type StatementEntry, type StatementSummary } from '../banks/types';
import { BadRequest, PayloadTooLarge } from '../errors';

/** The largest statement document read: 100,000 camt.053 entries are about 100 MiB. */
export const statementBytesMax = 512 * 1024 * 1024;
/** Entries (and their lines) per segment: one COPY into each table. */
export const statementCopySegmentRows = 5_000;
/** Segments written and not yet stored: how far the reader may run ahead of the database, and
 *  so the memory held at once. */
export const statementSegmentsInFlightMax = 2;
/** Text columns copied from a bank document are cut to this, so one hostile line cannot bloat a row. */
export const statementTextCharsMax = 500;

export type StatementSource = 'upload' | 'pull' | 'schedule' | 'cli';
export type StatementParser = (input: Readable, onEntry: (e: StatementEntry) => void | Promise<void>) => Promise<StatementSummary>;

export class StatementTooLarge extends Error {
  constructor(readonly bytesMax: number) {
    super(`statement exceeds ${bytesMax} bytes`);
  }
}

/** Passes bytes through and fails the stream once more than `bytesMax` have come. */
export function boundedBytes(bytesMax: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      total += chunk.length;
      if (total > bytesMax) return done(new StatementTooLarge(bytesMax));
      done(null, chunk);
    },
  });
}

/** A text column's value, cut to statementTextCharsMax characters (code points, never half a
 *  pair); a string of at most that many UTF-16 units has at most that many code points. */
const cut = (s: string | undefined) =>
  s === undefined ? null : s.length <= statementTextCharsMax ? s : Array.from(s).slice(0, statementTextCharsMax).join('');

const entryColumns = [
  'statement_id', 'line_no', 'entry_ref', 'direction', 'amount_fen', 'currency', 'booked_at', 'value_date', 'end_to_end_id', 'account',
  'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'remittance', 'reversal', 'booking_date_only',
  'bank_transaction_code', 'return_reason_code', 'return_end_to_end_id', 'return_additional_info',
] as const;

const copyEscapes = /[\\\n\r\t]/;

/** A text column's value as COPY reads it: cut, NULL (\N) when absent, and the backslash and
 *  the row and column delimiters escaped. */
function copyText(v: string | undefined): string {
  if (v === undefined) return '\\N';
  const value = cut(v)!;
  return copyEscapes.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : value;
}

/** One statement_entries row in COPY text format, columns in entryColumns order; `entryRef`
 *  as copied (copyText). A template rather than an array joined: a statement writes a hundred
 *  thousand of these. */
function entryLine(statementId: string, lineNo: number, entryRef: string, e: StatementEntry, bookedAtIso: string): string {
  const cp = e.counterparty;
  const r = e.returnInfo;
  const returned = r === undefined ? '\\N\t\\N\t\\N' : `${copyText(r.reasonCode)}\t${copyText(r.originalEndToEndId)}\t${copyText(r.additionalInfo)}`;
  return (
    `${statementId}\t${lineNo}\t${entryRef}\t${e.direction}\t${e.amountFen}\t${copyText(e.currency)}\t${bookedAtIso}\t${copyText(e.valueDate)}\t` +
    `${copyText(e.endToEndId)}\t${copyText(e.account)}\t${copyText(cp.name)}\t${copyText(cp.accountNumber)}\t${copyText(cp.bankCode)}\t` +
    `${copyText(e.remittance)}\t${e.reversal === true ? 't' : 'f'}\t${e.bookingDateOnly === true ? 't' : 'f'}\t${copyText(e.bankTransactionCode)}\t${returned}\n`
  );
}

/** What makes two statements the same day's same content, whatever their message ids: the
 *  text of one entry, hashed with the others of its segment in one update. */
function digestLine(e: StatementEntry, bookedAtIso: string): string {
  const cp = e.counterparty;
  return (
    `${e.entryRef}\u001f${e.direction}\u001f${e.amountFen}\u001f${bookedAtIso}\u001f${e.valueDate}\u001f${e.endToEndId ?? ''}\u001f${e.account ?? ''}\u001f` +
    `${cp.name ?? ''}\u001f${cp.accountNumber ?? ''}\u001f${cp.bankCode ?? ''}\u001f${e.remittance ?? ''}\u001f${e.reversal ? '1' : '0'}\n`
  );
}

/** Distinct booking times remembered while reading one statement: a day of 100,000 entries
 *  carries a few thousand, each read again and again. */
export const statementBookedAtMemoEntries = 4096;

/** The ISO form of each booking time, computed once per distinct value. */
function bookedAtIsoReader(): (bookedAt: string) => string {
  const seen = new Map<string, string>();
  return (bookedAt) => {
    const known = seen.get(bookedAt);
    if (known !== undefined) return known;
    const iso = new Date(bookedAt).toISOString();
    if (seen.size >= statementBookedAtMemoEntries) seen.clear();
    seen.set(bookedAt, iso);
    return iso;
  };
}

const entriesCopySql = `COPY statement_entries (${entryColumns.join(', ')}) FROM STDIN`;
const linesCopySql = 'COPY reconciliation_lines (reconciliation_id, line_no, entry_ref, bank_amount_fen, result, exception_status) FROM STDIN';

/** One reconciliation_lines row in COPY text format: the statement's line, signed as the trust
 *  account moves, unmatched (an open exception) until matching.ts finds its movement. */
function reconciliationLine(reconciliationId: string, lineNo: number, entryRef: string, e: StatementEntry): string {
  return `${reconciliationId}\t${lineNo}\t${entryRef}\t${e.direction === 'credit' ? '' : '-'}${e.amountFen}\tmissing_in_ledger\topen\n`;
}

/** Bank references a statement may repeat, found as it streams. Each reference is kept as two
 *  32-bit hashes in typed arrays (8 bytes a slot: a million references in 16 MiB, where a Set
 *  of the strings would take some 80), so a repeat found here is only possible: matching.ts
 *  confirms it byte for byte. Two references that share both hashes cost that confirmation and
 *  nothing else. */
export class ReferenceRepeats {
  private first = new Uint32Array(1 << 12);
  private second = new Uint32Array(1 << 12);
  private size = 0;
  /** Whether some reference may have come twice. */
  possible = false;

  add(ref: string): void {
    // FNV-1a over the UTF-16 units, twice with different offsets and primes; the first is
    // never 0, which marks an empty slot.
    let h1 = 2166136261 | 0;
    let h2 = 0x9747b28c | 0;
    for (let i = 0; i < ref.length; i++) {
      const c = ref.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 16777619);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h2 ^= h2 >>> 15;
    if (!this.insert(h1 >>> 0 || 1, h2 >>> 0)) this.possible = true;
  }

  /** False when the pair was there already. */
  private insert(a: number, b: number): boolean {
    const mask = this.first.length - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (this.first[i] === 0) {
        this.first[i] = a;
        this.second[i] = b;
        if (++this.size * 2 > this.first.length) this.grow();
        return true;
      }
      if (this.first[i] === a && this.second[i] === b) return false;
    }
  }

  private grow(): void {
    const [first, second] = [this.first, this.second];
    this.first = new Uint32Array(first.length * 2);
    this.second = new Uint32Array(first.length * 2);
    this.size = 0;
    for (let i = 0; i < first.length; i++) if (first[i] !== 0) this.insert(first[i], second[i]);
  }
}

/** Rows gathered as UTF-8 bytes, each written once into a buffer that grows by doubling: a
 *  segment built as one string would be a rope of thousands of pieces, flattened and encoded
 *  again when written, and would leave that much more garbage behind. */
class RowBytes {
  private buf: Buffer;
  private length = 0;

  constructor(private readonly initialBytes: number) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get empty(): boolean {
    return this.length === 0;
  }

  write(row: string): void {
    // A UTF-16 unit is at most three bytes of UTF-8.
    if (this.length + row.length * 3 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + row.length * 3));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(row, this.length);
  }

  /** The bytes written so far, for the caller to read before the next write. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written so far, handed over for good: later writes go to a new buffer. */
  take(): Buffer {
    const taken = this.view();
    this.buf = Buffer.allocUnsafe(this.initialBytes);
    this.length = 0;
    return taken;
  }

  clear(): void {
    this.length = 0;
  }
}

/** A segment's first buffer: room for its rows at a typical width, so that it rarely grows. */
const segmentEntryBytes = statementCopySegmentRows * 320;
const segmentLineBytes = statementCopySegmentRows * 64;

/** A COPY of `rows` on `client`, settled once the rows are stored (or refused). */
function copyRows(client: Client, sql: string, rows: Buffer): Promise<void> {
  const copy = client.query(copyFrom(sql));
  copy.end(rows);
  return finished(copy);
}

/** The segments of one statement on their way to the database, in order. */
class SegmentWriter {
  private readonly entries = new RowBytes(segmentEntryBytes);
  private readonly lines = new RowBytes(segmentLineBytes);
  /** Each segment's COPYs, settled once stored; the newest last. */
  private readonly inFlight: Promise<void>[] = [];

  constructor(private readonly client: Client) {}

  /** Adds one entry and its line. */
  add(entryRow: string, lineRow: string): void {
    this.entries.write(entryRow);
    this.lines.write(lineRow);
  }

  /** Hands the segment over, first waiting for the oldest one still in flight when too many
   *  are. */
  async handOver(): Promise<void> {
    this.queue();
    while (this.inFlight.length > statementSegmentsInFlightMax) await this.inFlight.shift();
  }

  /** Hands over what is left and waits until every segment is stored; the first refusal,
   *  in statement order, is the one thrown. */
  async finish(): Promise<void> {
    this.queue();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  /** Waits for the segments in flight to settle, so that the connection is free for the
   *  rollback that follows; their outcome no longer matters. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
  }

  private queue(): void {
    if (this.entries.empty) return;
    const entries = this.entries.take();
    const lines = this.lines.take();
    // A pg client runs one query at a time: each COPY starts when the one before it has ended
    // (while the parser reads on), and none starts after one has failed. Marked handled at
    // once: it is awaited in turn, and a failure found before then is not unhandled.
    const before = this.inFlight[this.inFlight.length - 1] ?? Promise.resolve();
    const stored = before.then(() => copyRows(this.client, entriesCopySql, entries)).then(() => copyRows(this.client, linesCopySql, lines));
    stored.catch(() => undefined);
    this.inFlight.push(stored);
  }
}

/** The transaction's own connection. */
async function connectionOf(tx: Knex.Transaction): Promise<Client> {
  // Inside a transaction knex hands out the transaction's connection (a pg Client) and never
  // releases it to the pool, so the COPYs are part of the transaction (and of its savepoint).
  return (await (tx.client as { acquireConnection(): Promise<Client> }).acquireConnection()) as Client;
}

export interface IngestedStatement {
  id: string;
  summary: StatementSummary;
  contentSha256: string;
  /** Whether a bank reference may be repeated in the statement (ReferenceRepeats). */
  referencesMayRepeat: boolean;
}

/** Where a statement is read to: its row in `statements`, and the reconciliation whose lines
 *  are written beside its entries. Both rows exist before the first entry is read. */
export interface IngestTarget {
  statementId: string;
  reconciliationId: string;
}

/** Reads a statement into `statement_entries`, and one unmatched line per entry into
 *  `reconciliation_lines`, inside `tx`, then completes its `statements` row. Bank documents
 *  that cannot be read become 400 (413 when too large); nothing is left behind because the
 *  caller's transaction (or savepoint) rolls back. */
export async function ingestStatement(tx: Knex.Transaction, target: IngestTarget, input: Readable, parse: StatementParser): Promise<IngestedStatement> {
  const { statementId: id, reconciliationId } = target;
  const hash = createHash('sha256');
  const isoOf = bookedAtIsoReader();
  const repeats = new ReferenceRepeats();
  const digest = new RowBytes(segmentEntryBytes);
  let lineNo = 0;
  const bounded = boundedBytes(statementBytesMax);
  input.on('error', (e) => bounded.destroy(e));
  const writer = new SegmentWriter(await connectionOf(tx));
  let summary: StatementSummary;
  try {
    // Synchronous but at the end of a segment: the parser awaits only what it is handed.
    summary = await parse(input.pipe(bounded), (e) => {
      lineNo += 1;
      const bookedAtIso = isoOf(e.bookedAt);
      const ref = copyText(e.entryRef);
      repeats.add(ref);
      digest.write(digestLine(e, bookedAtIso));
      writer.add(entryLine(id, lineNo, ref, e, bookedAtIso), reconciliationLine(reconciliationId, lineNo, ref, e));
      if (lineNo % statementCopySegmentRows === 0) {
        hash.update(digest.view());
        digest.clear();
        return writer.handOver();
      }
    });
    hash.update(digest.view());
    await writer.finish();
  } catch (e) {
    input.destroy();
    await writer.abandon();
    if (e instanceof StatementTooLarge) throw new PayloadTooLarge(e.bytesMax);
    if (e instanceof BankMessageInvalid) throw new BadRequest('statement_invalid', e.message);
    throw e;
  }
  hash.update([summary.account, summary.date, summary.openingBalanceFen.toString(), summary.closingBalanceFen.toString(), summary.sequenceNumber ?? ''].join('\u001f'));
  const contentSha256 = hash.digest('hex');
  await tx('statements').where({ id }).update({
    message_id: cut(summary.messageId),
    statement_ref: cut(summary.statementId),
    sequence_number: cut(summary.sequenceNumber),
    account: cut(summary.account),
    currency: cut(summary.currency),
    statement_date: summary.date,
    opening_fen: summary.openingBalanceFen,
    closing_fen: summary.closingBalanceFen,
    credit_total_fen: summary.creditTotalFen,
    debit_total_fen: summary.debitTotalFen,
    entry_count: summary.entryCount,
    content_sha256: contentSha256,
  });
  return { id, summary, contentSha256, referencesMayRepeat: repeats.possible };
}
