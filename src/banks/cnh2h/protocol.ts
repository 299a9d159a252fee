/* ============================================================================================
 * cn-h2h: a Chinese bank's own host-to-host (银企直联) interface, as its manual would describe it.
 * Not ISO 20022: proprietary field names and codes, JSON over HTTPS. The sandbox bank speaks it;
 * the cn-h2h adapter speaks it to the sandbox, which proves the BankAdapter seam is real.
 *
 * TRANSPORT
 *   POST {endpoint}/cn-h2h/gateway, header `X-Trans-Code: <transCode>`, body a JSON envelope
 *   (UTF-8). The HTTP status is 200 whenever the bank processed the request, also when it refused
 *   it: the refusal is in head.retCode. A 5xx or no answer means the outcome is unknown.
 *   The bank pushes credit notices to the enterprise's URL the same way (POST, JSON envelope,
 *   transCode E2B0001); any 2xx from the enterprise counts as delivered, else it pushes again.
 *
 * ENVELOPE
 *   request  { "head": { transCode, reqSeqNo, transDate, transTime, custNo }, "body": { ... } }
 *   response { "head": { transCode, reqSeqNo, respSeqNo, transDate, transTime, retCode, retMsg },
 *              "body": { ... } }          (body absent when retCode is not 000000)
 *   transCode  trade code, see the table below; echoed in the response
 *   reqSeqNo   sender's serial for this request, max 32 chars; echoed in the response. For a
 *              batch payment it is the batch number; for a credit notice the bank's notice serial
 *   respSeqNo  bank's serial for its response, max 32
 *   transDate  YYYYMMDD, Beijing time of sending;  transTime HHmmss
 *   custNo     the enterprise's customer number at the bank (企业客户号), max 20
 *   retCode    "000000" the bank processed the request (business results are in the body);
 *              otherwise the request was refused as a whole, see RETURN CODES
 *   retMsg     text for people (Chinese or English), max 200
 *
 * TRADE CODES
 *   B2E0001 batch payment (批量转账)       enterprise -> bank
 *   B2E0002 payment status query           enterprise -> bank
 *   B2E0003 account detail query for a day enterprise -> bank (answer is NDJSON, see below)
 *   E2B0001 incoming credit notice (来账通知) bank -> enterprise
 *
 * B2E0001 batch payment, request body
 *   batchNo      our batch number (= ISO MsgId), unique per submission, never reused, max 32
 *   expDate      requested execution date YYYYMMDD
 *   payAcctNo    payer (our trust) account, digits as a string, max 34
 *   payAcctName  payer account name, max 100
 *   payBankNo    payer branch CNAPS code, 12 digits, optional
 *   ccy          "CNY"
 *   totalNum     number of details as a decimal string; must match details.length
 *   totalAmt     sum of tranAmt, decimal string with 2 decimals; must match
 *   details[]    at most cnh2hPaymentDetailsMax:
 *     bizSerialNo   our end-to-end id, unique per attempt; the bank refuses a repeat with E2001
 *     recvAcctNo    payee account, max 34;  recvAcctName payee name, max 100 (checked: E1010)
 *     recvBankNo    payee branch CNAPS code, 12 digits (optional for same-bank payees)
 *     tranAmt       amount, decimal string "50000.00", > 0, at most 15 integer digits
 *     postscript    附言 (remittance text), max 100
 *   response body: as B2E0002's. batchStatus "2" = taken for processing, "1" = refused whole.
 *
 * B2E0002 payment status query, request body
 *   batchNo      the batch number asked about;  bizSerialNos[] optional subset of details
 *   response body
 *   batchNo, batchStatus ("0" done: see details / "1" refused as a whole / "2" processing /
 *   "3" unknown), errCode + errMsg when batchStatus is "1",
 *   details[]: bizSerialNo, status ("0" success / "1" failed / "2" processing / "3" unknown;
 *   when absent the batchStatus applies), errCode + errMsg when failed, bankSerialNo (the bank's
 *   booking reference), finishDate YYYYMMDD + finishTime HHmmss when final.
 *   head.retCode E3001 = the bank never received that batch (not the same as failed).
 *
 * B2E0003 account detail query, request body
 *   acctNo, queryDate YYYYMMDD
 *   response: Content-Type application/x-ndjson, one JSON object per line, streamed so a day of
 *   a busy account never has to fit in memory on either side:
 *     line 1   { "head": {...response head...}, "body": { acctNo, ccy, queryDate, stmtNo,
 *                seqNo, openBal, openBalFlag, closeBal, closeBalFlag } }
 *                stmtNo statement id; seqNo electronic sequence number of the statement;
 *                balances unsigned decimal strings with flag "C" (credit/positive) or "D" (debit)
 *     lines    { "detail": ACCOUNT DETAIL }                 one per booking, both directions
 *     last     { "trailer": { totalNum, crTotalAmt, drTotalAmt } }
 *                the trailer proves the stream was not cut short; its totals must match
 *   A refused query (e.g. E1001 unknown account) is one plain JSON envelope (application/json).
 *
 * E2B0001 credit notice, request body (bank -> enterprise, only booked credits are pushed,
 * but the enterprise must still read drCrFlag and revFlag)
 *   noticeNo     the notice's unique id (our message id for de-duplication), max 32
 *   acctNo       the enterprise's main account
 *   details[]    ACCOUNT DETAIL, at most notificationEntriesMax
 *
 * ACCOUNT DETAIL (statement lines and credit notices)
 *   bankSerialNo  the bank's unique booking reference (same in notice and statement), max 35
 *   drCrFlag      "C" credit (money in) / "D" debit
 *   tranAmt       decimal string, > 0;  ccy "CNY"
 *   tranDate      booking date YYYYMMDD;  tranTime HHmmss (Beijing)
 *   valueDate     YYYYMMDD
 *   subAcctNo     the (virtual) sub-account the payer addressed, when not the main account
 *   oppAcctNo, oppAcctName, oppBankNo   counterparty account, name, CNAPS code
 *   postscript    附言 as the payer wrote it
 *   bizSerialNo   the enterprise's end-to-end id, on bookings of its own payments
 *   revFlag       "1" the booking reverses an earlier one (冲正), else "0"
 *
 * RETURN AND ERROR CODES (retCode for whole requests, errCode for details)
 *   000000 ok;  E1001 account does not exist;  E1004 account closed;  E1005 insufficient funds;
 *   E1006 account frozen;  E1010 payee name does not match the account;  E1020 invalid CNAPS
 *   code;  E2001 duplicate bizSerialNo;  E2002 duplicate batchNo;  E3001 batch not found;
 *   E9001 signature invalid;  E9002 message format error;  E9999 system busy (outcome unknown:
 *   the enterprise must query status, never resend).
 * ============================================================================================ */
import type { Readable } from 'node:stream';
import {
  BankMessageInvalid,
  type CreditEntry,
  type CreditNotification,
  type StatementEntry,
  type StatementHeader,
  type StatementSummary,
  type StatusReport,
  type TransactionStatus,
  type TransferBatch,
  type TransferOutcome,
} from '../types';
import { formatAmount, parseBankDecimal } from '../../domain/money';
import { compactDateTimeToIso, expandCompactDate, shanghaiParts } from '../iso20022/time';
import { notificationEntriesMax, statementEntriesMax, xmlBodyBytesMax } from '../xml';

export const cnh2hTransCodeHeader = 'X-Trans-Code';
export const cnh2hGatewayPath = '/cn-h2h/gateway';

export const cnh2hTransCodeBatchPayment = 'B2E0001';
export const cnh2hTransCodePaymentStatus = 'B2E0002';
export const cnh2hTransCodeStatementQuery = 'B2E0003';
export const cnh2hTransCodeCreditNotice = 'E2B0001';
export const cnh2hTransCodes = [
  cnh2hTransCodeBatchPayment,
  cnh2hTransCodePaymentStatus,
  cnh2hTransCodeStatementQuery,
  cnh2hTransCodeCreditNotice,
] as const;
export type Cnh2hTransCode = (typeof cnh2hTransCodes)[number];

export const cnh2hRetCodeOk = '000000';
export const cnh2hRetCodeBatchNotFound = 'E3001';
export const cnh2hRetCodeDuplicateBatch = 'E2002';
export const cnh2hRetCodeSignatureInvalid = 'E9001';
export const cnh2hRetCodeFormatError = 'E9002';
export const cnh2hRetCodeSystemBusy = 'E9999';

export const cnh2hStatusSuccess = '0';
export const cnh2hStatusFailed = '1';
export const cnh2hStatusProcessing = '2';
export const cnh2hStatusUnknown = '3';
export type Cnh2hStatus = '0' | '1' | '2' | '3';

/** The bank's detail error codes and the ISO 20022 status reason each one means. */
export const cnh2hErrorToIsoReason: Readonly<Record<string, string>> = {
  E1001: 'AC01', // account does not exist
  E1004: 'AC04', // account closed
  E1005: 'AM04', // insufficient funds
  E1006: 'AC06', // account blocked (frozen)
  E1010: 'BE01', // creditor name inconsistent with account
  E1020: 'RC01', // bank identifier incorrect
  E2001: 'DUPL', // duplicate payment
  E2002: 'AM05', // duplication (whole batch)
  E9001: 'DS0B', // data signature unknown or invalid
  E9002: 'FF01', // invalid file format
};
const isoReasonToCnh2hError: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(cnh2hErrorToIsoReason).map(([k, v]) => [v, k]),
);

/** A bank code not in the table passes through unchanged, so nothing the bank said is lost. */
export function cnh2hReasonCode(errCode: string): string {
  return cnh2hErrorToIsoReason[errCode] ?? errCode;
}
export function cnh2hErrorCode(isoReason: string): string {
  return isoReasonToCnh2hError[isoReason] ?? isoReason;
}

/** The bank's manual caps a batch at 1,000 details; larger batches must be split by the caller. */
export const cnh2hPaymentDetailsMax = 1000;
/** Field lengths in characters (Unicode code points, as the bank counts them for UTF-8). */
export const cnh2hNameCharsMax = 100;
export const cnh2hPostscriptCharsMax = 100;
export const cnh2hAccountCharsMax = 34;
export const cnh2hSerialCharsMax = 35;
/** Any single JSON message (payment, status, notice): the same cap as XML bodies. */
export const cnh2hBodyBytesMax = xmlBodyBytesMax;
/** One NDJSON statement line: a detail is well under 2 KiB; a longer line is not a detail. */
export const cnh2hStatementLineBytesMax = 64 * 1024;

export interface Cnh2hRequestHead {
  transCode: string;
  reqSeqNo: string;
  transDate: string;
  transTime: string;
  custNo: string;
}
export interface Cnh2hResponseHead {
  transCode: string;
  reqSeqNo: string;
  respSeqNo: string;
  transDate: string;
  transTime: string;
  retCode: string;
  retMsg: string;
}
export interface Cnh2hRequest<B> {
  head: Cnh2hRequestHead;
  body: B;
}
export interface Cnh2hResponse<B> {
  head: Cnh2hResponseHead;
  body?: B;
}

export interface Cnh2hPaymentDetail {
  bizSerialNo: string;
  recvAcctNo: string;
  recvAcctName: string;
  recvBankNo?: string;
  tranAmt: string;
  postscript: string;
}
export interface Cnh2hPaymentRequestBody {
  batchNo: string;
  expDate: string;
  payAcctNo: string;
  payAcctName: string;
  payBankNo?: string;
  ccy: string;
  totalNum: string;
  totalAmt: string;
  details: Cnh2hPaymentDetail[];
}
export interface Cnh2hStatusQueryBody {
  batchNo: string;
  bizSerialNos?: string[];
}
export interface Cnh2hStatusDetail {
  bizSerialNo: string;
  status?: Cnh2hStatus;
  errCode?: string;
  errMsg?: string;
  bankSerialNo?: string;
  finishDate?: string;
  finishTime?: string;
}
export interface Cnh2hStatusResponseBody {
  batchNo: string;
  batchStatus: Cnh2hStatus;
  errCode?: string;
  errMsg?: string;
  details: Cnh2hStatusDetail[];
}
export interface Cnh2hStatementQueryBody {
  acctNo: string;
  queryDate: string;
}
export interface Cnh2hAccountDetail {
  bankSerialNo: string;
  drCrFlag: 'C' | 'D';
  tranAmt: string;
  ccy: string;
  tranDate: string;
  tranTime: string;
  valueDate: string;
  subAcctNo?: string;
  oppAcctNo?: string;
  oppAcctName?: string;
  oppBankNo?: string;
  postscript?: string;
  bizSerialNo?: string;
  revFlag: '0' | '1';
}
export interface Cnh2hCreditNoticeBody {
  noticeNo: string;
  acctNo: string;
  details: Cnh2hAccountDetail[];
}
export interface Cnh2hStatementHeaderBody {
  acctNo: string;
  ccy: string;
  queryDate: string;
  stmtNo: string;
  seqNo?: string;
  openBal: string;
  openBalFlag: 'C' | 'D';
  closeBal: string;
  closeBalFlag: 'C' | 'D';
}
export interface Cnh2hStatementTrailer {
  totalNum: string;
  crTotalAmt: string;
  drTotalAmt: string;
}

export interface Cnh2hEnvelopeOptions {
  now?: Date;
  custNo?: string;
  reqSeqNo?: string;
  respSeqNo?: string;
}

// ------------------------------------------------------------------------------------------
// Small helpers

/** Truncates by code points, never splitting a surrogate pair (rare CJK names use them). */
export function truncateChars(value: string, charsMax: number): string {
  const chars = Array.from(value);
  return chars.length <= charsMax ? value : chars.slice(0, charsMax).join('');
}

function requestHead(transCode: string, reqSeqNo: string, opts: Cnh2hEnvelopeOptions): Cnh2hRequestHead {
  const p = shanghaiParts(opts.now ?? new Date());
  return { transCode, reqSeqNo, transDate: p.compactDate, transTime: p.compactTime, custNo: opts.custNo ?? '' };
}

function responseHead(transCode: string, reqSeqNo: string, retCode: string, retMsg: string, opts: Cnh2hEnvelopeOptions): Cnh2hResponseHead {
  const p = shanghaiParts(opts.now ?? new Date());
  return {
    transCode,
    reqSeqNo,
    respSeqNo: opts.respSeqNo ?? `R${p.compactDate}${p.compactTime}${reqSeqNo}`.slice(0, 32),
    transDate: p.compactDate,
    transTime: p.compactTime,
    retCode,
    retMsg,
  };
}

/** Parses a JSON message given as bytes, text or an already parsed value. */
export function cnh2hReadJson(input: unknown, what: string): Record<string, unknown> {
  let value = input;
  if (Buffer.isBuffer(input) || typeof input === 'string') {
    const bytes = Buffer.isBuffer(input) ? input.length : Buffer.byteLength(input, 'utf8');
    if (bytes > cnh2hBodyBytesMax) throw new BankMessageInvalid(`${what}: body of ${bytes} bytes exceeds ${cnh2hBodyBytesMax}`);
    try {
      value = JSON.parse(Buffer.isBuffer(input) ? input.toString('utf8') : input);
    } catch (err) {
      throw new BankMessageInvalid(`${what}: not JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BankMessageInvalid(`${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function obj(parent: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const v = parent[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BankMessageInvalid(`${path}.${key}: expected an object`);
  return v as Record<string, unknown>;
}

function arr(parent: Record<string, unknown>, key: string, path: string, itemsMax: number): unknown[] {
  const v = parent[key];
  if (!Array.isArray(v)) throw new BankMessageInvalid(`${path}.${key}: expected an array`);
  if (v.length > itemsMax) throw new BankMessageInvalid(`${path}.${key}: ${v.length} items exceed ${itemsMax}`);
  return v;
}

/** Every field of the protocol is a string: numbers would lose account digits and fen. */
function str(parent: Record<string, unknown>, key: string, path: string, charsMax: number): string {
  const v = parent[key];
  if (typeof v !== 'string' || v.length === 0) throw new BankMessageInvalid(`${path}.${key}: expected a non-empty string`);
  if (Array.from(v).length > charsMax) throw new BankMessageInvalid(`${path}.${key}: longer than ${charsMax} characters`);
  return v;
}

function optStr(parent: Record<string, unknown>, key: string, path: string, charsMax: number): string | undefined {
  const v = parent[key];
  if (v === undefined || v === null || v === '') return undefined;
  return str(parent, key, path, charsMax);
}

function amount(parent: Record<string, unknown>, key: string, path: string, opts: { allowZero?: boolean } = {}): bigint {
  const raw = str(parent, key, path, 40);
  let fen: bigint;
  try {
    fen = parseBankDecimal(raw);
  } catch (err) {
    throw new BankMessageInvalid(`${path}.${key}: ${(err as Error).message}`);
  }
  if (fen === 0n && !opts.allowZero) throw new BankMessageInvalid(`${path}.${key}: must be greater than zero`);
  return fen;
}

/** Totals and balances may exceed the 15 integer digits of one amount (a batch of many
 *  maximal payments); they are read exactly up to 18 digits in all. */
export const cnh2hTotalDigitsMax = 18;
function total(parent: Record<string, unknown>, key: string, path: string): bigint {
  const raw = str(parent, key, path, 40);
  const m = /^(\d+)\.(\d{2})$/.exec(raw);
  if (!m || m[1].length + 2 > cnh2hTotalDigitsMax) throw new BankMessageInvalid(`${path}.${key}: not a decimal "0.00" of at most ${cnh2hTotalDigitsMax} digits`);
  return BigInt(m[1]) * 100n + BigInt(m[2]);
}

function oneOf<T extends string>(parent: Record<string, unknown>, key: string, path: string, allowed: readonly T[]): T {
  const v = str(parent, key, path, 10);
  if (!(allowed as readonly string[]).includes(v)) throw new BankMessageInvalid(`${path}.${key}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  return v as T;
}

function count(parent: Record<string, unknown>, key: string, path: string): number {
  const v = str(parent, key, path, 10);
  if (!/^\d{1,9}$/.test(v)) throw new BankMessageInvalid(`${path}.${key}: not a count`);
  return Number(v);
}

const cnapsPattern = /^\d{12}$/;
function optBankNo(parent: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = optStr(parent, key, path, 12);
  if (v !== undefined && !cnapsPattern.test(v)) throw new BankMessageInvalid(`${path}.${key}: not a 12-digit CNAPS code`);
  return v;
}

export function cnh2hParseRequestHead(message: Record<string, unknown>): Cnh2hRequestHead {
  const head = obj(message, 'head', '');
  return {
    transCode: str(head, 'transCode', 'head', 10),
    reqSeqNo: str(head, 'reqSeqNo', 'head', 32),
    transDate: str(head, 'transDate', 'head', 8),
    transTime: str(head, 'transTime', 'head', 6),
    custNo: typeof head.custNo === 'string' ? head.custNo : '',
  };
}

export function cnh2hParseResponseHead(message: Record<string, unknown>): Cnh2hResponseHead {
  const head = obj(message, 'head', '');
  return {
    transCode: str(head, 'transCode', 'head', 10),
    reqSeqNo: typeof head.reqSeqNo === 'string' ? head.reqSeqNo : '',
    respSeqNo: typeof head.respSeqNo === 'string' ? head.respSeqNo : '',
    transDate: typeof head.transDate === 'string' ? head.transDate : '',
    transTime: typeof head.transTime === 'string' ? head.transTime : '',
    retCode: str(head, 'retCode', 'head', 10),
    retMsg: typeof head.retMsg === 'string' ? head.retMsg : '',
  };
}

/** A whole-request refusal (any trade code): head only. */
export function cnh2hBuildErrorResponse(
  transCode: string,
  reqSeqNo: string,
  retCode: string,
  retMsg: string,
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hResponse<never> {
  if (retCode === cnh2hRetCodeOk) throw new Error('assertion: an error response needs an error code');
  return { head: responseHead(transCode, reqSeqNo, retCode, retMsg, opts) };
}

// ------------------------------------------------------------------------------------------
// B2E0001 batch payment

export function cnh2hBuildPaymentRequest(batch: TransferBatch, opts: Cnh2hEnvelopeOptions = {}): Cnh2hRequest<Cnh2hPaymentRequestBody> {
  if (batch.transfers.length === 0) throw new Error('assertion: a payment batch has at least one transfer');
  if (batch.transfers.length > cnh2hPaymentDetailsMax) {
    throw new Error(`assertion: a cn-h2h batch carries at most ${cnh2hPaymentDetailsMax} transfers, got ${batch.transfers.length}`);
  }
  let totalFen = 0n;
  const details = batch.transfers.map((t): Cnh2hPaymentDetail => {
    if (t.amountFen <= 0n) throw new Error(`assertion: transfer ${t.endToEndId} amount must be positive`);
    totalFen += t.amountFen;
    const d: Cnh2hPaymentDetail = {
      bizSerialNo: t.endToEndId,
      recvAcctNo: t.creditor.accountNumber,
      recvAcctName: truncateChars(t.creditor.name, cnh2hNameCharsMax),
      tranAmt: formatAmount(t.amountFen),
      postscript: truncateChars(t.remittance, cnh2hPostscriptCharsMax),
    };
    if (t.creditor.bankCode) d.recvBankNo = t.creditor.bankCode;
    return d;
  });
  const body: Cnh2hPaymentRequestBody = {
    batchNo: batch.messageId,
    expDate: batch.requestedExecutionDate.replace(/-/g, ''),
    payAcctNo: batch.debtor.accountNumber,
    payAcctName: truncateChars(batch.debtor.name, cnh2hNameCharsMax),
    ccy: 'CNY',
    totalNum: String(details.length),
    totalAmt: formatAmount(totalFen),
    details,
  };
  if (batch.debtor.bankCode) body.payBankNo = batch.debtor.bankCode;
  return {
    head: requestHead(cnh2hTransCodeBatchPayment, opts.reqSeqNo ?? batch.messageId, { now: batch.createdAt, ...opts }),
    body,
  };
}

/** The bank's side (the sandbox): reads a batch, checking the control totals. */
export function cnh2hParsePaymentRequest(json: unknown): TransferBatch {
  const message = cnh2hReadJson(json, 'cn-h2h payment request');
  const head = cnh2hParseRequestHead(message);
  if (head.transCode !== cnh2hTransCodeBatchPayment) {
    throw new BankMessageInvalid(`head.transCode: expected ${cnh2hTransCodeBatchPayment}, got ${head.transCode}`);
  }
  const body = obj(message, 'body', '');
  const rawDetails = arr(body, 'details', 'body', cnh2hPaymentDetailsMax);
  if (rawDetails.length === 0) throw new BankMessageInvalid('body.details: empty batch');
  const ccy = str(body, 'ccy', 'body', 3);
  if (ccy !== 'CNY') throw new BankMessageInvalid(`body.ccy: only CNY is carried, got ${ccy}`);
  let totalFen = 0n;
  const transfers = rawDetails.map((raw, i) => {
    const path = `body.details[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: expected an object`);
    const d = raw as Record<string, unknown>;
    const amountFen = amount(d, 'tranAmt', path);
    totalFen += amountFen;
    const bankCode = optBankNo(d, 'recvBankNo', path);
    return {
      endToEndId: str(d, 'bizSerialNo', path, cnh2hSerialCharsMax),
      amountFen,
      currency: 'CNY' as const,
      creditor: {
        accountNumber: str(d, 'recvAcctNo', path, cnh2hAccountCharsMax),
        name: str(d, 'recvAcctName', path, cnh2hNameCharsMax),
        ...(bankCode ? { bankCode } : {}),
      },
      remittance: optStr(d, 'postscript', path, cnh2hPostscriptCharsMax) ?? '',
    };
  });
  if (count(body, 'totalNum', 'body') !== transfers.length) throw new BankMessageInvalid('body.totalNum: does not match the number of details');
  if (total(body, 'totalAmt', 'body') !== totalFen) throw new BankMessageInvalid('body.totalAmt: does not match the sum of details');
  const payBankNo = optBankNo(body, 'payBankNo', 'body');
  return {
    messageId: str(body, 'batchNo', 'body', 32),
    createdAt: new Date(compactDateTimeToIso(head.transDate, head.transTime, 'head.transDate')),
    requestedExecutionDate: expandCompactDate(str(body, 'expDate', 'body', 8), 'body.expDate'),
    debtor: {
      accountNumber: str(body, 'payAcctNo', 'body', cnh2hAccountCharsMax),
      name: str(body, 'payAcctName', 'body', cnh2hNameCharsMax),
      ...(payBankNo ? { bankCode: payBankNo } : {}),
    },
    transfers,
  };
}

// ------------------------------------------------------------------------------------------
// B2E0002 status query, and the status body both B2E0001 and B2E0002 answer with

export function cnh2hBuildStatusQuery(
  originalMessageId: string,
  endToEndIds: string[] = [],
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hRequest<Cnh2hStatusQueryBody> {
  const body: Cnh2hStatusQueryBody = { batchNo: originalMessageId };
  if (endToEndIds.length > 0) body.bizSerialNos = endToEndIds;
  const now = opts.now ?? new Date();
  const p = shanghaiParts(now);
  return { head: requestHead(cnh2hTransCodePaymentStatus, opts.reqSeqNo ?? `Q${p.compactDate}${p.compactTime}${now.getTime() % 1000}`, { ...opts, now }), body };
}

export function cnh2hParseStatusQuery(json: unknown): { originalMessageId: string; endToEndIds: string[]; reqSeqNo: string } {
  const message = cnh2hReadJson(json, 'cn-h2h status query');
  const head = cnh2hParseRequestHead(message);
  const body = obj(message, 'body', '');
  const ids = body.bizSerialNos === undefined ? [] : arr(body, 'bizSerialNos', 'body', cnh2hPaymentDetailsMax);
  return {
    originalMessageId: str(body, 'batchNo', 'body', 32),
    endToEndIds: ids.map((v, i) => {
      if (typeof v !== 'string' || v === '') throw new BankMessageInvalid(`body.bizSerialNos[${i}]: expected a string`);
      return v;
    }),
    reqSeqNo: head.reqSeqNo,
  };
}

const outcomeToStatus: Record<TransferOutcome, Cnh2hStatus> = {
  settled: cnh2hStatusSuccess,
  rejected: cnh2hStatusFailed,
  pending: cnh2hStatusProcessing,
  unknown: cnh2hStatusUnknown,
};
const statusToOutcome: Record<Cnh2hStatus, TransferOutcome> = {
  '0': 'settled',
  '1': 'rejected',
  '2': 'pending',
  '3': 'unknown',
};
/** groupStatus is reported in ISO terms, because callers compare it with RJCT whatever the bank. */
const batchStatusToIsoGroup: Record<Cnh2hStatus, string | undefined> = {
  '0': 'ACCP',
  '1': 'RJCT',
  '2': 'ACTC',
  '3': undefined,
};

/** The bank's side: a report as the answer to B2E0001 (transCode given) or B2E0002. */
export function cnh2hBuildStatusResponse(
  report: StatusReport,
  opts: Cnh2hEnvelopeOptions & { transCode?: string } = {},
): Cnh2hResponse<Cnh2hStatusResponseBody> {
  const details = report.transactions.map((t): Cnh2hStatusDetail => {
    const d: Cnh2hStatusDetail = { bizSerialNo: t.endToEndId, status: outcomeToStatus[t.outcome] };
    if (t.outcome === 'rejected') {
      d.errCode = cnh2hErrorCode(t.reasonCode ?? 'NARR');
      if (t.reasonText) d.errMsg = t.reasonText;
    }
    if (t.bankReference) d.bankSerialNo = t.bankReference;
    if (t.bookedAt && (t.outcome === 'settled' || t.outcome === 'rejected')) {
      const p = shanghaiParts(new Date(t.bookedAt));
      d.finishDate = p.compactDate;
      d.finishTime = p.compactTime;
    }
    return d;
  });
  let batchStatus: Cnh2hStatus;
  if (report.groupStatus === 'RJCT') batchStatus = cnh2hStatusFailed;
  else if (details.length > 0 && details.every((d) => d.status === '0' || d.status === '1')) batchStatus = cnh2hStatusSuccess;
  else if (details.length > 0 && details.every((d) => d.status === '3')) batchStatus = cnh2hStatusUnknown;
  else batchStatus = cnh2hStatusProcessing;
  const body: Cnh2hStatusResponseBody = { batchNo: report.originalMessageId, batchStatus, details };
  if (batchStatus === cnh2hStatusFailed) {
    body.errCode = cnh2hErrorCode(report.groupReasonCode ?? 'NARR');
  }
  return {
    head: responseHead(opts.transCode ?? cnh2hTransCodePaymentStatus, opts.reqSeqNo ?? report.originalMessageId, cnh2hRetCodeOk, 'success', {
      ...opts,
      respSeqNo: opts.respSeqNo ?? report.messageId,
    }),
    body,
  };
}

/** Reads the answer to B2E0001 or B2E0002. A refusal of the whole request (retCode other than
 *  000000) becomes a group RJCT with the mapped reason, except E3001 (never received: no
 *  transactions, the caller reports them unknown) and E9999 (outcome unknown: the caller must
 *  treat it as a timeout, see cnh2hParseResponseHead). */
export function cnh2hParseStatusResponse(json: unknown): StatusReport {
  const message = cnh2hReadJson(json, 'cn-h2h status response');
  const head = cnh2hParseResponseHead(message);
  if (head.retCode !== cnh2hRetCodeOk) {
    const body = message.body && typeof message.body === 'object' ? (message.body as Record<string, unknown>) : {};
    const originalMessageId = typeof body.batchNo === 'string' ? body.batchNo : head.reqSeqNo;
    if (head.retCode === cnh2hRetCodeBatchNotFound || head.retCode === cnh2hRetCodeSystemBusy) {
      return { messageId: head.respSeqNo || undefined, originalMessageId, transactions: [] };
    }
    return {
      messageId: head.respSeqNo || undefined,
      originalMessageId,
      groupStatus: 'RJCT',
      groupReasonCode: cnh2hReasonCode(head.retCode),
      transactions: [],
    };
  }
  const body = obj(message, 'body', '');
  const batchStatus = oneOf(body, 'batchStatus', 'body', ['0', '1', '2', '3'] as const);
  const batchErr = optStr(body, 'errCode', 'body', 10);
  const rawDetails = body.details === undefined ? [] : arr(body, 'details', 'body', cnh2hPaymentDetailsMax);
  const transactions = rawDetails.map((raw, i): TransactionStatus => {
    const path = `body.details[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: expected an object`);
    const d = raw as Record<string, unknown>;
    // A detail without its own status shares the batch's (a batch refused as a whole).
    const status: Cnh2hStatus = d.status === undefined ? batchStatus : oneOf(d, 'status', path, ['0', '1', '2', '3'] as const);
    const errCode = optStr(d, 'errCode', path, 10) ?? (status === '1' ? batchErr : undefined);
    const t: TransactionStatus = {
      endToEndId: str(d, 'bizSerialNo', path, cnh2hSerialCharsMax),
      outcome: statusToOutcome[status],
      bankStatus: status,
    };
    if (errCode) t.reasonCode = cnh2hReasonCode(errCode);
    const errMsg = optStr(d, 'errMsg', path, 200);
    if (errMsg) t.reasonText = errMsg;
    const ref = optStr(d, 'bankSerialNo', path, cnh2hSerialCharsMax);
    if (ref) t.bankReference = ref;
    const fd = optStr(d, 'finishDate', path, 8);
    const ft = optStr(d, 'finishTime', path, 6);
    if (fd && ft) t.bookedAt = compactDateTimeToIso(fd, ft, `${path}.finishDate`);
    return t;
  });
  const report: StatusReport = {
    messageId: head.respSeqNo || undefined,
    originalMessageId: str(body, 'batchNo', 'body', 32),
    transactions,
  };
  const group = batchStatusToIsoGroup[batchStatus];
  if (group) report.groupStatus = group;
  if (batchStatus === '1' && batchErr) report.groupReasonCode = cnh2hReasonCode(batchErr);
  return report;
}

// ------------------------------------------------------------------------------------------
// Account details, shared by the credit notice and the statement

function detailFromCredit(c: CreditEntry, mainAccount: string): Cnh2hAccountDetail {
  const booked = shanghaiParts(new Date(c.bookedAt));
  const d: Cnh2hAccountDetail = {
    bankSerialNo: c.entryRef,
    drCrFlag: 'C',
    tranAmt: formatAmount(c.amountFen),
    ccy: c.currency,
    tranDate: booked.compactDate,
    tranTime: booked.compactTime,
    valueDate: c.valueDate.replace(/-/g, ''),
    oppAcctNo: c.debtor.accountNumber,
    oppAcctName: c.debtor.name,
    revFlag: '0',
  };
  if (c.virtualAccount !== mainAccount) d.subAcctNo = c.virtualAccount;
  if (c.debtor.bankCode) d.oppBankNo = c.debtor.bankCode;
  if (c.remittance) d.postscript = c.remittance;
  if (c.endToEndId) d.bizSerialNo = c.endToEndId;
  return d;
}

function detailFromStatementEntry(e: StatementEntry, mainAccount: string): Cnh2hAccountDetail {
  const booked = shanghaiParts(new Date(e.bookedAt));
  const d: Cnh2hAccountDetail = {
    bankSerialNo: e.entryRef,
    drCrFlag: e.direction === 'credit' ? 'C' : 'D',
    tranAmt: formatAmount(e.amountFen),
    ccy: e.currency,
    tranDate: booked.compactDate,
    tranTime: booked.compactTime,
    valueDate: e.valueDate.replace(/-/g, ''),
    revFlag: e.reversal ? '1' : '0',
  };
  if (e.account && e.account !== mainAccount) d.subAcctNo = e.account;
  if (e.counterparty.accountNumber) d.oppAcctNo = e.counterparty.accountNumber;
  if (e.counterparty.name) d.oppAcctName = e.counterparty.name;
  if (e.counterparty.bankCode) d.oppBankNo = e.counterparty.bankCode;
  if (e.remittance) d.postscript = e.remittance;
  if (e.endToEndId) d.bizSerialNo = e.endToEndId;
  return d;
}

interface ParsedDetail {
  entry: StatementEntry;
  /** The account as the payer addressed it: the sub-account when given, else the main one. */
  account: string;
}

function parseDetail(raw: unknown, path: string, mainAccount: string): ParsedDetail {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: expected an object`);
  const d = raw as Record<string, unknown>;
  const account = optStr(d, 'subAcctNo', path, cnh2hAccountCharsMax) ?? mainAccount;
  const entry: StatementEntry = {
    entryRef: str(d, 'bankSerialNo', path, cnh2hSerialCharsMax),
    direction: oneOf(d, 'drCrFlag', path, ['C', 'D'] as const) === 'C' ? 'credit' : 'debit',
    amountFen: amount(d, 'tranAmt', path),
    currency: str(d, 'ccy', path, 3),
    bookedAt: compactDateTimeToIso(str(d, 'tranDate', path, 8), str(d, 'tranTime', path, 6), `${path}.tranDate`),
    valueDate: expandCompactDate(str(d, 'valueDate', path, 8), `${path}.valueDate`),
    account,
    counterparty: {},
  };
  const oppName = optStr(d, 'oppAcctName', path, 200);
  const oppAcct = optStr(d, 'oppAcctNo', path, cnh2hAccountCharsMax);
  const oppBank = optBankNo(d, 'oppBankNo', path);
  if (oppName) entry.counterparty.name = oppName;
  if (oppAcct) entry.counterparty.accountNumber = oppAcct;
  if (oppBank) entry.counterparty.bankCode = oppBank;
  const postscript = optStr(d, 'postscript', path, 200);
  if (postscript) entry.remittance = postscript;
  const biz = optStr(d, 'bizSerialNo', path, cnh2hSerialCharsMax);
  if (biz) entry.endToEndId = biz;
  const rev = d.revFlag === undefined ? '0' : oneOf(d, 'revFlag', path, ['0', '1'] as const);
  entry.reversal = rev === '1';
  return { entry, account };
}

// ------------------------------------------------------------------------------------------
// E2B0001 credit notice

export function cnh2hBuildCreditNotice(
  n: { messageId: string; account: string; credits: CreditEntry[] },
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hRequest<Cnh2hCreditNoticeBody> {
  if (n.credits.length > notificationEntriesMax) throw new Error(`assertion: at most ${notificationEntriesMax} credits per notice`);
  return {
    head: requestHead(cnh2hTransCodeCreditNotice, opts.reqSeqNo ?? n.messageId, opts),
    body: { noticeNo: n.messageId, acctNo: n.account, details: n.credits.map((c) => detailFromCredit(c, n.account)) },
  };
}

/** Credits are details flagged C and not reversals; everything else is counted as ignored. */
export function cnh2hParseCreditNotice(body: unknown): CreditNotification {
  const message = cnh2hReadJson(body, 'cn-h2h credit notice');
  const head = cnh2hParseRequestHead(message);
  if (head.transCode !== cnh2hTransCodeCreditNotice) {
    throw new BankMessageInvalid(`head.transCode: expected ${cnh2hTransCodeCreditNotice}, got ${head.transCode}`);
  }
  const b = obj(message, 'body', '');
  const mainAccount = str(b, 'acctNo', 'body', cnh2hAccountCharsMax);
  const details = arr(b, 'details', 'body', notificationEntriesMax);
  const credits: CreditEntry[] = [];
  let ignored = 0;
  details.forEach((raw, i) => {
    const { entry, account } = parseDetail(raw, `body.details[${i}]`, mainAccount);
    if (entry.direction !== 'credit' || entry.reversal) {
      ignored += 1;
      return;
    }
    const c: CreditEntry = {
      entryRef: entry.entryRef,
      virtualAccount: account,
      amountFen: entry.amountFen,
      currency: entry.currency,
      bookedAt: entry.bookedAt,
      valueDate: entry.valueDate,
      debtor: { name: entry.counterparty.name ?? '', accountNumber: entry.counterparty.accountNumber ?? '' },
    };
    if (entry.counterparty.bankCode) c.debtor.bankCode = entry.counterparty.bankCode;
    if (entry.remittance) c.remittance = entry.remittance;
    if (entry.endToEndId) c.endToEndId = entry.endToEndId;
    credits.push(c);
  });
  return { messageId: str(b, 'noticeNo', 'body', 32), credits, ignored };
}

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
