// Reading a statement into the database as it streams: entries are written in batches of
// `statementInsertBatchRows` while the parser reads on, so a day of 100,000 bookings never sits
// in memory; the document is bounded in bytes (the parser bounds entries, nesting and text, and
// refuses DOCTYPE and entities, i.e. billion-laughs and XXE).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Knex } from 'knex';
import { BankMessageInvalid, type StatementEntry, type StatementSummary } from '../banks/types';
import { BadRequest, PayloadTooLarge } from '../errors';

/** The largest statement document read: 100,000 camt.053 entries are about 100 MiB. */
export const statementBytesMax = 512 * 1024 * 1024;
/** Entries written per INSERT while streaming: the memory held at once. */
export const statementInsertBatchRows = 1_000;
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

const cut = (s: string | undefined) => (s === undefined ? null : Array.from(s).slice(0, statementTextCharsMax).join(''));

function entryRow(statementId: string, lineNo: number, e: StatementEntry) {
  return {
    statement_id: statementId,
    line_no: lineNo,
    entry_ref: cut(e.entryRef),
    direction: e.direction,
    amount_fen: e.amountFen,
    currency: cut(e.currency),
    booked_at: new Date(e.bookedAt),
    value_date: e.valueDate,
    end_to_end_id: cut(e.endToEndId),
    account: cut(e.account),
    counterparty_name: cut(e.counterparty.name),
    counterparty_account: cut(e.counterparty.accountNumber),
    counterparty_bank_code: cut(e.counterparty.bankCode),
    remittance: cut(e.remittance),
    reversal: e.reversal === true,
    booking_date_only: e.bookingDateOnly === true,
  };
}

/** What makes two statements the same day's same content, whatever their message ids. */
function digestEntry(h: Hash, e: StatementEntry): void {
  h.update(
    [e.entryRef, e.direction, e.amountFen.toString(), new Date(e.bookedAt).toISOString(), e.valueDate, e.endToEndId ?? '', e.account ?? '',
      e.counterparty.name ?? '', e.counterparty.accountNumber ?? '', e.counterparty.bankCode ?? '', e.remittance ?? '', e.reversal ? '1' : '0'].join('\u001f') + '\n',
  );
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
  let batch: ReturnType<typeof entryRow>[] = [];
  let lineNo = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    await tx('statement_entries').insert(rows);
  };
  const bounded = boundedBytes(statementBytesMax);
  input.on('error', (e) => bounded.destroy(e));
  let summary: StatementSummary;
  try {
    summary = await parse(input.pipe(bounded), async (e) => {
      lineNo += 1;
      digestEntry(hash, e);
      batch.push(entryRow(id, lineNo, e));
      if (batch.length >= statementInsertBatchRows) await flush();
    });
    await flush();
  } catch (e) {
    input.destroy();
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
  return { id, summary, contentSha256 };
}
