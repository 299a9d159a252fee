// Reading a statement into the database as it streams: entries go to PostgreSQL through one
// COPY, in pieces of `statementCopyBatchRows` lines written while the parser reads on (and
// awaited when the server falls behind), so a day of 100,000 bookings never sits in memory;
// the document is bounded in bytes (the parser bounds entries, nesting and text, and refuses
// DOCTYPE and entities, i.e. billion-laughs and XXE).
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BankMessageInvalid, type StatementEntry, type StatementSummary } from '../banks/types';
import { BadRequest, PayloadTooLarge } from '../errors';

/** The largest statement document read: 100,000 camt.053 entries are about 100 MiB. */
export const statementBytesMax = 512 * 1024 * 1024;
/** Entries written to the COPY at once while streaming: the memory held at once. */
export const statementCopyBatchRows = 1_000;
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

/** A value in COPY's text format: NULL as \N, and the backslash and the row and column
 *  delimiters escaped. */
function copyValue(v: string | null): string {
  if (v === null) return '\\N';
  return copyEscapes.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : v;
}

/** One statement_entries row in COPY text format, columns in entryColumns order. */
function entryLine(statementId: string, lineNo: number, e: StatementEntry, bookedAtIso: string): string {
  return [
    statementId,
    String(lineNo),
    copyValue(cut(e.entryRef)),
    e.direction,
    e.amountFen.toString(),
    copyValue(cut(e.currency)),
    bookedAtIso,
    copyValue(e.valueDate),
    copyValue(cut(e.endToEndId)),
    copyValue(cut(e.account)),
    copyValue(cut(e.counterparty.name)),
    copyValue(cut(e.counterparty.accountNumber)),
    copyValue(cut(e.counterparty.bankCode)),
    copyValue(cut(e.remittance)),
    e.reversal === true ? 't' : 'f',
    e.bookingDateOnly === true ? 't' : 'f',
    copyValue(cut(e.bankTransactionCode)),
    copyValue(cut(e.returnInfo?.reasonCode)),
    copyValue(cut(e.returnInfo?.originalEndToEndId)),
    copyValue(cut(e.returnInfo?.additionalInfo)),
  ].join('\t') + '\n';
}

/** What makes two statements the same day's same content, whatever their message ids: the
 *  text of one entry, hashed with the others of its batch in one update. */
function digestLine(e: StatementEntry, bookedAtIso: string): string {
  return (
    [e.entryRef, e.direction, e.amountFen.toString(), bookedAtIso, e.valueDate, e.endToEndId ?? '', e.account ?? '',
      e.counterparty.name ?? '', e.counterparty.accountNumber ?? '', e.counterparty.bankCode ?? '', e.remittance ?? '', e.reversal ? '1' : '0'].join('\u001f') + '\n'
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

/** Writes `chunk`, waiting while the server is behind (or failing with the stream). */
function writeAwaitingDrain(stream: Writable, chunk: string): Promise<void> {
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', closed);
      if (err) reject(err);
      else resolve();
    };
    const closed = () => done(new Error('statement COPY closed'));
    stream.once('drain', done);
    stream.once('error', done);
    stream.once('close', closed);
  });
}

/** COPY into statement_entries on the transaction's own connection. */
async function openEntryCopy(tx: Knex.Transaction): Promise<Writable> {
  // Inside a transaction knex hands out the transaction's connection (a pg Client) and never
  // releases it to the pool, so the COPY is part of the transaction (and of its savepoint).
  const client = (await (tx.client as { acquireConnection(): Promise<Client> }).acquireConnection()) as Client;
  return client.query(copyFrom(`COPY statement_entries (${entryColumns.join(', ')}) FROM STDIN`));
}

export interface IngestedStatement {
  id: string;
  summary: StatementSummary;
  contentSha256: string;
}

/** Reads a statement into `statements` / `statement_entries` inside `tx`. Bank documents that
 *  cannot be read become 400 (413 when too large); nothing is left behind because the caller's
 *  transaction (or savepoint) rolls back. */
export async function ingestStatement(tx: Knex.Transaction, bankId: string, input: Readable, parse: StatementParser, source: StatementSource): Promise<IngestedStatement> {
  const [row] = await tx('statements').insert({ bank_id: bankId, source }).returning('id');
  const id = String(row.id);
  const hash = createHash('sha256');
  const isoOf = bookedAtIsoReader();
  let batch = '';
  let digest = '';
  let batchRows = 0;
  let lineNo = 0;
  const bounded = boundedBytes(statementBytesMax);
  input.on('error', (e) => bounded.destroy(e));
  const copy = await openEntryCopy(tx);
  // An error of the COPY itself (a row the table refuses) surfaces at the next write or at the end.
  let copyError: Error | undefined;
  copy.on('error', (e) => (copyError ??= e));
  let summary: StatementSummary;
  try {
    summary = await parse(input.pipe(bounded), async (e) => {
      lineNo += 1;
      const bookedAtIso = isoOf(e.bookedAt);
      digest += digestLine(e, bookedAtIso);
      batch += entryLine(id, lineNo, e, bookedAtIso);
      batchRows += 1;
      if (batchRows >= statementCopyBatchRows) {
        hash.update(digest);
        digest = '';
        const chunk = batch;
        batch = '';
        batchRows = 0;
        await writeAwaitingDrain(copy, chunk);
      }
    });
    hash.update(digest);
    if (batch) await writeAwaitingDrain(copy, batch);
    copy.end();
    await finished(copy);
  } catch (e) {
    input.destroy();
    // The COPY is ended with a failure and its answer awaited, so the connection is free for
    // the rollback that follows.
    if (!copy.destroyed) copy.destroy(e instanceof Error ? e : new Error(String(e)));
    await finished(copy).catch(() => undefined);
    if (e instanceof StatementTooLarge) throw new PayloadTooLarge(e.bytesMax);
    if (e instanceof BankMessageInvalid) throw new BadRequest('statement_invalid', e.message);
    throw copyError ?? e;
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
  return { id, summary, contentSha256 };
}
