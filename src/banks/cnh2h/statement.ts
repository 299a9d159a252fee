// B2E0003 account detail query and its NDJSON answer, streamed both ways.
import type { Readable } from 'node:stream';
import { BankMessageInvalid, type StatementEntry, type StatementHeader, type StatementSummary } from '../types';
import { formatAmount } from '../../domain/money';
import { expandCompactDate, shanghaiParts } from '../iso20022/time';
import { statementEntriesMax } from '../xmlLimits';
import { cnh2hParseRequestHead, cnh2hParseResponseHead, cnh2hReadJson, count, obj, oneOf, optStr, requestHead, responseHead, str, total } from './fields';
import { detailFromStatementEntry, parseDetail } from './notices';
import {
  cnh2hAccountCharsMax,
  cnh2hRetCodeOk,
  cnh2hStatementLineBytesMax,
  cnh2hTransCodeStatementQuery,
  type Cnh2hEnvelopeOptions,
  type Cnh2hRequest,
  type Cnh2hResponse,
  type Cnh2hStatementHeaderBody,
  type Cnh2hStatementQueryBody,
  type Cnh2hStatementTrailer,
} from './types';

// ------------------------------------------------------------------------------------------
// B2E0003 statement query and its NDJSON answer

export function cnh2hBuildStatementQuery(
  query: { account: string; date: string },
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hRequest<Cnh2hStatementQueryBody> {
  const now = opts.now ?? new Date();
  const p = shanghaiParts(now);
  return {
    head: requestHead(cnh2hTransCodeStatementQuery, opts.reqSeqNo ?? `S${p.compactDate}${p.compactTime}${now.getTime() % 1000}`, { ...opts, now }),
    body: { acctNo: query.account, queryDate: query.date.replace(/-/g, '') },
  };
}

export function cnh2hParseStatementQuery(json: unknown): { account: string; date: string; reqSeqNo: string } {
  const message = cnh2hReadJson(json, 'cn-h2h statement query');
  const head = cnh2hParseRequestHead(message);
  const body = obj(message, 'body', '');
  return {
    account: str(body, 'acctNo', 'body', cnh2hAccountCharsMax),
    date: expandCompactDate(str(body, 'queryDate', 'body', 8), 'body.queryDate'),
    reqSeqNo: head.reqSeqNo,
  };
}

function signedBalance(fen: bigint): { bal: string; flag: 'C' | 'D' } {
  return fen < 0n ? { bal: formatAmount(-fen), flag: 'D' } : { bal: formatAmount(fen), flag: 'C' };
}

/** The bank's side: the NDJSON lines of a statement, one at a time (each ends with "\n"). */
export function* cnh2hBuildStatement(
  header: StatementHeader,
  entries: Iterable<StatementEntry>,
  opts: Cnh2hEnvelopeOptions = {},
): Generator<string> {
  const open = signedBalance(header.openingBalanceFen);
  const close = signedBalance(header.closingBalanceFen);
  const first: Cnh2hResponse<Cnh2hStatementHeaderBody> = {
    head: responseHead(cnh2hTransCodeStatementQuery, opts.reqSeqNo ?? header.messageId, cnh2hRetCodeOk, 'success', {
      ...opts,
      respSeqNo: opts.respSeqNo ?? header.messageId,
    }),
    body: {
      acctNo: header.account,
      ccy: header.currency,
      queryDate: header.date.replace(/-/g, ''),
      stmtNo: header.statementId,
      ...(header.sequenceNumber ? { seqNo: header.sequenceNumber } : {}),
      openBal: open.bal,
      openBalFlag: open.flag,
      closeBal: close.bal,
      closeBalFlag: close.flag,
    },
  };
  yield `${JSON.stringify(first)}\n`;
  let n = 0;
  let cr = 0n;
  let dr = 0n;
  for (const e of entries) {
    n += 1;
    if (n > statementEntriesMax) throw new Error(`assertion: at most ${statementEntriesMax} statement entries`);
    if (e.direction === 'credit') cr += e.amountFen;
    else dr += e.amountFen;
    yield `${JSON.stringify({ detail: detailFromStatementEntry(e, header.account) })}\n`;
  }
  const trailer: Cnh2hStatementTrailer = { totalNum: String(n), crTotalAmt: formatAmount(cr), drTotalAmt: formatAmount(dr) };
  yield `${JSON.stringify({ trailer })}\n`;
}

async function* chunksOf(input: Readable | NodeJS.ReadableStream | Buffer | string): AsyncGenerator<Buffer> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (Buffer.isBuffer(input)) {
    yield input;
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/** Splits a byte stream into lines with a bounded line length; awaiting the consumer between
 *  lines is what makes back-pressure work (the stream is not read while a line is handled). */
async function* ndjsonLines(input: Readable | NodeJS.ReadableStream | Buffer | string): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunksOf(input)) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      if (pendingBytes + part.length > cnh2hStatementLineBytesMax) {
        throw new BankMessageInvalid(`cn-h2h statement: a line exceeds ${cnh2hStatementLineBytesMax} bytes`);
      }
      const line = pending.length ? Buffer.concat([...pending, part]).toString('utf8') : part.toString('utf8');
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      if (line.trim() !== '') yield line;
    }
    const rest = chunk.subarray(start);
    pendingBytes += rest.length;
    if (pendingBytes > cnh2hStatementLineBytesMax) throw new BankMessageInvalid(`cn-h2h statement: a line exceeds ${cnh2hStatementLineBytesMax} bytes`);
    if (rest.length) pending.push(Buffer.from(rest));
  }
  const last = Buffer.concat(pending).toString('utf8');
  if (last.trim() !== '') yield last;
}

function parseLine(line: string, lineNo: number): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(line);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new BankMessageInvalid(`cn-h2h statement line ${lineNo}: not a JSON object (${(err as Error).message})`);
  }
}

/** Reads a statement line by line. A refused query, a missing trailer (stream cut short) or a
 *  trailer whose totals differ from the details is BankMessageInvalid. */
export async function cnh2hParseStatementStream(
  input: Readable | NodeJS.ReadableStream | Buffer | string,
  onEntry: (e: StatementEntry) => void | Promise<void>,
): Promise<StatementSummary> {
  let header: StatementHeader | undefined;
  let trailer: Record<string, unknown> | undefined;
  let entryCount = 0;
  let creditTotalFen = 0n;
  let debitTotalFen = 0n;
  let lineNo = 0;
  for await (const line of ndjsonLines(input)) {
    lineNo += 1;
    const msg = parseLine(line, lineNo);
    if (trailer) throw new BankMessageInvalid(`cn-h2h statement line ${lineNo}: data after the trailer`);
    if (!header) {
      const head = cnh2hParseResponseHead(msg);
      if (head.retCode !== cnh2hRetCodeOk) {
        throw new BankMessageInvalid(`cn-h2h statement refused: ${head.retCode} ${head.retMsg}`.trim());
      }
      const b = obj(msg, 'body', 'line1');
      const sign = (flag: string, fen: bigint) => (flag === 'D' ? -fen : fen);
      const seqNo = optStr(b, 'seqNo', 'line1.body', 35);
      header = {
        messageId: head.respSeqNo || head.reqSeqNo,
        statementId: str(b, 'stmtNo', 'line1.body', 35),
        account: str(b, 'acctNo', 'line1.body', cnh2hAccountCharsMax),
        currency: str(b, 'ccy', 'line1.body', 3),
        date: expandCompactDate(str(b, 'queryDate', 'line1.body', 8), 'line1.body.queryDate'),
        openingBalanceFen: sign(oneOf(b, 'openBalFlag', 'line1.body', ['C', 'D'] as const), total(b, 'openBal', 'line1.body')),
        closingBalanceFen: sign(oneOf(b, 'closeBalFlag', 'line1.body', ['C', 'D'] as const), total(b, 'closeBal', 'line1.body')),
        ...(seqNo ? { sequenceNumber: seqNo } : {}),
      };
      continue;
    }
    if (msg.trailer !== undefined) {
      trailer = obj(msg, 'trailer', `line${lineNo}`);
      continue;
    }
    entryCount += 1;
    if (entryCount > statementEntriesMax) throw new BankMessageInvalid(`cn-h2h statement: more than ${statementEntriesMax} entries`);
    const { entry } = parseDetail(msg.detail, `line${lineNo}.detail`, header.account);
    if (entry.direction === 'credit') creditTotalFen += entry.amountFen;
    else debitTotalFen += entry.amountFen;
    await onEntry(entry);
  }
  if (!header) throw new BankMessageInvalid('cn-h2h statement: empty');
  if (!trailer) throw new BankMessageInvalid('cn-h2h statement: no trailer (cut short?)');
  if (count(trailer, 'totalNum', 'trailer') !== entryCount) throw new BankMessageInvalid('trailer.totalNum: does not match the details');
  if (total(trailer, 'crTotalAmt', 'trailer') !== creditTotalFen) throw new BankMessageInvalid('trailer.crTotalAmt: does not match the details');
  if (total(trailer, 'drTotalAmt', 'trailer') !== debitTotalFen) throw new BankMessageInvalid('trailer.drTotalAmt: does not match the details');
  return { ...header, entryCount, creditTotalFen, debitTotalFen };
}
