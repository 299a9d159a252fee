// The BankAdapter implementations: the HTTP conversation with a bank, in its protocol.
//
// The HTTP contract (the sandbox bank implements exactly this):
//   iso20022 (and sandbox, which is the iso20022 adapter pointed at the simulator)
//     POST {endpoint}/iso20022/payments                 body pain.001.001.09 (application/xml)
//          200 pain.002.001.10: GrpSts ACTC accepted, or RJCT with a reason (whole-file faults)
//     GET  {endpoint}/iso20022/payments/{msgId}/status  200 pain.002.001.10 with transaction
//          statuses; 404 the bank never received that message id (every transfer `unknown`)
//     GET  {endpoint}/iso20022/statements?account=&date=YYYY-MM-DD   200 camt.053.001.08, streamed
//   cn-h2h
//     POST {endpoint}/cn-h2h/gateway, JSON, header X-Trans-Code: B2E0001 payment, B2E0002 status
//          query, B2E0003 statement (NDJSON answer); see cnh2h/protocol.ts
// Outcome rules, the same for both: a timeout, a network error, a 5xx (or cn-h2h E9999) means
// the bank may or may not have acted, so it is BankUnreachable and the caller must ask for
// status before sending anything again; so is an answer to a payment that cannot be read. Any
// other 4xx means the bank refused the request without acting on it.
// Every request is signed with conn.sign(body) when given (GETs sign the empty body).
import { Readable } from 'node:stream';
import {
  BankMessageInvalid,
  BankUnreachable,
  type BankAdapter,
  type BankConnection,
  type CreditEntry,
  type CreditNotification,
  type StatementEntry,
  type StatementQuery,
  type StatementSummary,
  type StatusReport,
  type SubmitResult,
  type TransferBatch,
} from './types';
import { parseAmount } from '../domain/money';
import { notificationEntriesMax, xmlBodyBytesMax } from './xml';
import { buildPain001 } from './iso20022/pain001';
import { isoStatusOutcome, parsePain002 } from './iso20022/pain002';
import { parseCamt054 } from './iso20022/camt054';
import { parseCamt053Stream } from './iso20022/camt053';
import { normalizeBankDate, normalizeBankDateTime } from './iso20022/time';
import {
  cnh2hBuildPaymentRequest,
  cnh2hBuildStatementQuery,
  cnh2hBuildStatusQuery,
  cnh2hGatewayPath,
  cnh2hParseCreditNotice,
  cnh2hParseResponseHead,
  cnh2hParseStatementStream,
  cnh2hParseStatusResponse,
  cnh2hReadJson,
  cnh2hRetCodeBatchNotFound,
  cnh2hRetCodeOk,
  cnh2hRetCodeSystemBusy,
  cnh2hTransCodeBatchPayment,
  cnh2hTransCodeCreditNotice,
  cnh2hTransCodeHeader,
  cnh2hTransCodePaymentStatus,
  cnh2hTransCodeStatementQuery,
} from './cnh2h/protocol';

/** How long we wait for a bank's answer (headers and, for whole documents, the body), and how
 *  long a streamed statement may stall while we are waiting for its next bytes. */
export const bankRequestTimeoutMs = 30_000;
/** A status report or payment answer larger than this is not one we read. */
export const bankResponseBytesMax = xmlBodyBytesMax;
/** Service JSON notifications: field bounds. */
export const notificationEventIdCharsMax = 100;
export const notificationTextCharsMax = 200;

// ------------------------------------------------------------------------------------------
// HTTP

interface BankResponse {
  status: number;
  contentType: string;
  /** The body read whole (bounded), unless stream was asked for. */
  body?: Buffer;
  stream?: Readable;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  return [e?.name, e?.message, e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ');
}

async function readBounded(reader: ReadableStreamDefaultReader<Uint8Array>, bytesMax: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel().catch(() => undefined);
      throw new BankMessageInvalid(`bank response exceeds ${bytesMax} bytes`);
    }
    parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(parts);
}

/** A node Readable over a fetch body whose stall timer runs only while we wait on the network:
 *  a consumer that is slow to take entries (back-pressure) never trips it. */
class StallGuardedBody extends Readable {
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly stallMs: number,
    private readonly abort: () => void,
  ) {
    super();
  }

  override _read(): void {
    let stalled = false;
    const timer = setTimeout(() => {
      stalled = true;
      this.abort();
    }, this.stallMs);
    this.reader.read().then(
      ({ done, value }) => {
        clearTimeout(timer);
        if (done) this.push(null);
        else this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      },
      (err: unknown) => {
        clearTimeout(timer);
        this.destroy(
          new BankUnreachable(stalled ? `bank stream stalled for ${this.stallMs} ms` : `bank stream broke: ${describe(err)}`, err),
        );
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.reader.cancel().catch(() => undefined);
    callback(err);
  }
}

async function bankRequest(
  conn: BankConnection,
  method: 'GET' | 'POST',
  url: string,
  opts: { body?: Buffer; headers?: Record<string, string>; stream?: boolean },
): Promise<BankResponse> {
  const timeoutMs = conn.timeoutMs ?? bankRequestTimeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const body = opts.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = { ...(opts.headers ?? {}), ...(conn.sign ? conn.sign(body) : {}) };
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: method === 'POST' ? body : undefined, signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    throw new BankUnreachable(timedOut ? `${method} ${url}: no answer within ${timeoutMs} ms` : `${method} ${url}: ${describe(err)}`, err);
  }
  const contentType = res.headers.get('content-type') ?? '';
  if (res.status >= 500) {
    clearTimeout(timer);
    await res.body?.cancel().catch(() => undefined);
    throw new BankUnreachable(`${method} ${url}: HTTP ${res.status}, outcome unknown`);
  }
  if (res.status === 408 || res.status === 429) {
    // Not refused on its merits: the bank may have the request and may still act on it later.
    clearTimeout(timer);
    await res.body?.cancel().catch(() => undefined);
    throw new BankUnreachable(`${method} ${url}: HTTP ${res.status}`);
  }
  if (!res.body) {
    clearTimeout(timer);
    return { status: res.status, contentType, body: Buffer.alloc(0) };
  }
  const reader = res.body.getReader();
  if (opts.stream && res.status === 200) {
    clearTimeout(timer);
    return { status: res.status, contentType, stream: new StallGuardedBody(reader, timeoutMs, () => controller.abort()) };
  }
  try {
    return { status: res.status, contentType, body: await readBounded(reader, bankResponseBytesMax) };
  } catch (err) {
    if (err instanceof BankMessageInvalid) throw err;
    throw new BankUnreachable(timedOut ? `${method} ${url}: body not complete within ${timeoutMs} ms` : `${method} ${url}: ${describe(err)}`, err);
  } finally {
    clearTimeout(timer);
  }
}

function joinUrl(endpoint: string, path: string): string {
  return `${endpoint.replace(/\/+$/, '')}${path}`;
}

function snippet(body: Buffer | undefined): string {
  return body ? body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ') : '';
}

/** Adds every asked-for transfer the report does not list. A status given for the whole file
 *  (group level) applies to each of its transfers, as ISO 20022 defines; without one the bank
 *  has said nothing about it, which is `unknown`, not rejected. */
export function completeStatusReport(report: StatusReport, endToEndIds: string[]): StatusReport {
  const listed = new Set(report.transactions.map((t) => t.endToEndId));
  const transactions = [...report.transactions];
  for (const id of endToEndIds) {
    if (listed.has(id)) continue;
    if (report.groupStatus) {
      transactions.push({
        endToEndId: id,
        outcome: isoStatusOutcome(report.groupStatus),
        bankStatus: report.groupStatus,
        ...(report.groupReasonCode ? { reasonCode: report.groupReasonCode } : {}),
      });
    } else {
      transactions.push({ endToEndId: id, outcome: 'unknown', bankStatus: '' });
    }
  }
  return { ...report, transactions };
}

/** The answer to a payment that cannot be read leaves the payment's fate unknown: the bank may
 *  well have taken it. Reporting it as BankUnreachable makes the caller ask for status instead
 *  of treating it as refused and paying again under a new message id. */
function unreadableIsUnknown<T>(url: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof BankMessageInvalid) throw new BankUnreachable(`${url}: answer unreadable (${err.message}); outcome unknown`, err);
    throw err;
  }
}

function allUnknown(originalMessageId: string, endToEndIds: string[]): StatusReport {
  return { originalMessageId, transactions: endToEndIds.map((id) => ({ endToEndId: id, outcome: 'unknown' as const, bankStatus: '' })) };
}

// ------------------------------------------------------------------------------------------
// Pushed notifications, whatever the bank's protocol

function fieldStr(o: Record<string, unknown>, key: string, path: string, charsMax: number, opts: { optional?: boolean } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new BankMessageInvalid(`${path}.${key}: required`);
  }
  if (typeof v !== 'string') throw new BankMessageInvalid(`${path}.${key}: must be a string`);
  if (!opts.optional && v.trim() === '') throw new BankMessageInvalid(`${path}.${key}: must not be empty`);
  if (Array.from(v).length > charsMax) throw new BankMessageInvalid(`${path}.${key}: longer than ${charsMax} characters`);
  return v;
}

/** The service's own JSON notification (DESIGN.md): `{eventId, entries: [{entryRef,
 *  virtualAccount, amount: "50000.00", currency, bookedAt, valueDate, debtor: {name,
 *  accountNumber, bankCode}, remittance}]}`. Validated field by field, each error naming its
 *  field, because a credit read wrongly is money attributed to the wrong bidder. */
export function parseServiceNotification(input: unknown): CreditNotification {
  const msg = cnh2hReadJson(input, 'notification');
  const eventId = fieldStr(msg, 'eventId', '$', notificationEventIdCharsMax)!;
  const entries = msg.entries;
  if (!Array.isArray(entries)) throw new BankMessageInvalid('$.entries: must be an array');
  if (entries.length > notificationEntriesMax) throw new BankMessageInvalid(`$.entries: more than ${notificationEntriesMax}`);
  const credits = entries.map((raw, i): CreditEntry => {
    const path = `$.entries[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: must be an object`);
    const e = raw as Record<string, unknown>;
    const amountText = fieldStr(e, 'amount', path, 40)!;
    let amountFen: bigint;
    try {
      amountFen = parseAmount(amountText);
    } catch (err) {
      throw new BankMessageInvalid(`${path}.amount: ${(err as Error).message}`);
    }
    const currency = fieldStr(e, 'currency', path, 3)!;
    if (!/^[A-Z]{3}$/.test(currency)) throw new BankMessageInvalid(`${path}.currency: must be an ISO 4217 code like "CNY"`);
    const bookedAtText = fieldStr(e, 'bookedAt', path, 40)!;
    // An instant must say which instant: without an offset "10:00" is ambiguous by 8 hours.
    if (!/(Z|[+-]\d{2}:\d{2})$/.test(bookedAtText)) throw new BankMessageInvalid(`${path}.bookedAt: must carry a UTC offset`);
    const bookedAt = normalizeBankDateTime(bookedAtText, `${path}.bookedAt`);
    const valueDate = normalizeBankDate(fieldStr(e, 'valueDate', path, 10)!, `${path}.valueDate`);
    const d = e.debtor;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new BankMessageInvalid(`${path}.debtor: must be an object`);
    const debtor = d as Record<string, unknown>;
    const bankCode = fieldStr(debtor, 'bankCode', `${path}.debtor`, 12, { optional: true });
    if (bankCode !== undefined && !/^\d{12}$/.test(bankCode)) throw new BankMessageInvalid(`${path}.debtor.bankCode: must be a 12-digit CNAPS code`);
    const accountNumber = fieldStr(debtor, 'accountNumber', `${path}.debtor`, 34)!;
    const virtualAccount = fieldStr(e, 'virtualAccount', path, 34)!;
    const credit: CreditEntry = {
      entryRef: fieldStr(e, 'entryRef', path, 35)!,
      virtualAccount,
      amountFen,
      currency,
      bookedAt,
      valueDate,
      debtor: { name: fieldStr(debtor, 'name', `${path}.debtor`, notificationTextCharsMax)!, accountNumber, ...(bankCode ? { bankCode } : {}) },
    };
    const remittance = fieldStr(e, 'remittance', path, notificationTextCharsMax, { optional: true });
    if (remittance) credit.remittance = remittance;
    const endToEndId = fieldStr(e, 'endToEndId', path, 35, { optional: true });
    if (endToEndId) credit.endToEndId = endToEndId;
    return credit;
  });
  return { messageId: eventId, credits, ignored: 0 };
}

/** Reads a pushed credit notification: XML is camt.054; JSON is a cn-h2h credit notice when its
 *  head carries that trade code, else the service's own JSON shape. The content type decides
 *  when it is clear; a mislabelled body is recognised by its first character. */
export function parseNotification(body: Buffer, contentType: string): CreditNotification {
  if (body.length > xmlBodyBytesMax) throw new BankMessageInvalid(`notification of ${body.length} bytes exceeds ${xmlBodyBytesMax}`);
  const type = contentType.toLowerCase();
  const first = body.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart()[0];
  const isXml = /xml/.test(type) || (!/json/.test(type) && first === '<');
  if (isXml) return parseCamt054(body);
  if (!/json/.test(type) && first !== '{') throw new BankMessageInvalid(`notification content type ${JSON.stringify(contentType)} is neither XML nor JSON`);
  const json = cnh2hReadJson(body, 'notification');
  const head = json.head;
  if (head && typeof head === 'object' && (head as Record<string, unknown>).transCode !== undefined) {
    const code = (head as Record<string, unknown>).transCode;
    if (code !== cnh2hTransCodeCreditNotice) throw new BankMessageInvalid(`notification: cn-h2h trade code ${JSON.stringify(code)} is not a credit notice`);
    return cnh2hParseCreditNotice(json);
  }
  return parseServiceNotification(json);
}

// ------------------------------------------------------------------------------------------
// Adapters

function isoAdapter(conn: BankConnection): BankAdapter {
  const xmlHeaders = { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml' };
  return {
    protocol: conn.protocol,

    async sendTransfers(batch: TransferBatch): Promise<SubmitResult> {
      const url = joinUrl(conn.endpoint, '/iso20022/payments');
      const res = await bankRequest(conn, 'POST', url, { body: Buffer.from(buildPain001(batch), 'utf8'), headers: xmlHeaders });
      if (res.status !== 200) {
        // Refused without being processed (bad signature, malformed request): nothing was paid.
        return {
          messageId: batch.messageId,
          accepted: false,
          report: { originalMessageId: batch.messageId, groupStatus: 'RJCT', groupReasonCode: `HTTP${res.status}`, transactions: [] },
        };
      }
      const report = unreadableIsUnknown(url, () => parsePain002(res.body!));
      if (report.originalMessageId !== batch.messageId) {
        throw new BankUnreachable(`${url}: pain.002 answers ${report.originalMessageId}, we sent ${batch.messageId}; outcome unknown`);
      }
      return { messageId: batch.messageId, accepted: report.groupStatus !== 'RJCT', report };
    },

    async getStatus(originalMessageId: string, endToEndIds: string[]): Promise<StatusReport> {
      const url = joinUrl(conn.endpoint, `/iso20022/payments/${encodeURIComponent(originalMessageId)}/status`);
      const res = await bankRequest(conn, 'GET', url, { headers: { accept: 'application/xml' } });
      if (res.status === 404) return allUnknown(originalMessageId, endToEndIds);
      if (res.status !== 200) throw new BankMessageInvalid(`status query refused: HTTP ${res.status} ${snippet(res.body)}`);
      const report = parsePain002(res.body!);
      if (report.originalMessageId !== originalMessageId) {
        throw new BankMessageInvalid(`pain.002 answers ${report.originalMessageId}, we asked about ${originalMessageId}`);
      }
      return completeStatusReport(report, endToEndIds);
    },

    async fetchStatement(query: StatementQuery): Promise<Readable> {
      const qs = new URLSearchParams({ account: query.account, date: query.date });
      const url = joinUrl(conn.endpoint, `/iso20022/statements?${qs.toString()}`);
      const res = await bankRequest(conn, 'GET', url, { headers: { accept: 'application/xml' }, stream: true });
      if (res.status !== 200) throw new BankMessageInvalid(`statement query refused: HTTP ${res.status} ${snippet(res.body)}`);
      return res.stream!;
    },

    parseNotification,

    parseStatement(input: Readable, onEntry: (entry: StatementEntry) => void | Promise<void>): Promise<StatementSummary> {
      return parseCamt053Stream(input, onEntry);
    },
  };
}

function cnh2hAdapter(conn: BankConnection): BankAdapter {
  const gateway = joinUrl(conn.endpoint, cnh2hGatewayPath);
  const post = (transCode: string, message: unknown, stream = false) =>
    bankRequest(conn, 'POST', gateway, {
      body: Buffer.from(JSON.stringify(message), 'utf8'),
      headers: { 'content-type': 'application/json; charset=utf-8', [cnh2hTransCodeHeader]: transCode },
      stream,
    });
  /** Reads an answer's head, turning "system busy" into what it means: outcome unknown. */
  const answer = (res: BankResponse, what: string) => {
    if (res.status !== 200) throw new BankMessageInvalid(`${what}: HTTP ${res.status} ${snippet(res.body)}`);
    const json = cnh2hReadJson(res.body!, what);
    const head = cnh2hParseResponseHead(json);
    if (head.retCode === cnh2hRetCodeSystemBusy) throw new BankUnreachable(`${what}: bank busy (${head.retCode} ${head.retMsg}), outcome unknown`);
    return { json, head };
  };
  return {
    protocol: conn.protocol,

    async sendTransfers(batch: TransferBatch): Promise<SubmitResult> {
      const res = await post(cnh2hTransCodeBatchPayment, cnh2hBuildPaymentRequest(batch));
      const { json, head } = unreadableIsUnknown(gateway, () => answer(res, 'cn-h2h payment'));
      const report = unreadableIsUnknown(gateway, () => cnh2hParseStatusResponse(json));
      if (report.originalMessageId !== batch.messageId) report.originalMessageId = batch.messageId;
      return { messageId: batch.messageId, accepted: head.retCode === cnh2hRetCodeOk && report.groupStatus !== 'RJCT', report };
    },

    async getStatus(originalMessageId: string, endToEndIds: string[]): Promise<StatusReport> {
      const res = await post(cnh2hTransCodePaymentStatus, cnh2hBuildStatusQuery(originalMessageId, endToEndIds));
      const { json, head } = answer(res, 'cn-h2h status query');
      if (head.retCode === cnh2hRetCodeBatchNotFound) return allUnknown(originalMessageId, endToEndIds);
      const report = cnh2hParseStatusResponse(json);
      if (head.retCode === cnh2hRetCodeOk && report.originalMessageId !== originalMessageId) {
        throw new BankMessageInvalid(`cn-h2h status answers ${report.originalMessageId}, we asked about ${originalMessageId}`);
      }
      report.originalMessageId = originalMessageId;
      return completeStatusReport(report, endToEndIds);
    },

    async fetchStatement(query: StatementQuery): Promise<Readable> {
      const res = await post(cnh2hTransCodeStatementQuery, cnh2hBuildStatementQuery(query), true);
      if (res.status !== 200) throw new BankMessageInvalid(`cn-h2h statement query: HTTP ${res.status} ${snippet(res.body)}`);
      if (/ndjson/i.test(res.contentType)) return res.stream!;
      // A refusal is a single JSON envelope; read it (bounded) and say why.
      const parts: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.stream! as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > bankResponseBytesMax) {
          res.stream!.destroy();
          throw new BankMessageInvalid(`cn-h2h statement refusal exceeds ${bankResponseBytesMax} bytes`);
        }
        parts.push(chunk);
      }
      const body = Buffer.concat(parts);
      const { head } = answer({ ...res, body }, 'cn-h2h statement query');
      throw new BankMessageInvalid(`cn-h2h statement query refused: ${head.retCode} ${head.retMsg}`.trim());
    },

    parseNotification,

    parseStatement(input: Readable, onEntry: (entry: StatementEntry) => void | Promise<void>): Promise<StatementSummary> {
      return cnh2hParseStatementStream(input, onEntry);
    },
  };
}

export function createBankAdapter(conn: BankConnection): BankAdapter {
  if (!/^https?:\/\//.test(conn.endpoint)) throw new Error(`assertion: bank endpoint must be an http(s) URL, got ${JSON.stringify(conn.endpoint)}`);
  switch (conn.protocol) {
    case 'iso20022':
    case 'sandbox':
      return isoAdapter(conn);
    case 'cn-h2h':
      return cnh2hAdapter(conn);
    default: {
      const never: never = conn.protocol;
      throw new Error(`assertion: unknown bank protocol ${String(never)}`);
    }
  }
}
