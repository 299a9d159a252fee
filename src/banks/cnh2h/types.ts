// Types, trade codes, return codes and limits of the cn-h2h interface (see protocol.ts for the
// manual). Kept apart so every part of the codec can share them without import cycles.
import { xmlBodyBytesMax } from '../xmlLimits';

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
// Own keys only: a code from the wire such as "constructor" must not find Object's.
export function cnh2hReasonCode(errCode: string): string {
  return Object.hasOwn(cnh2hErrorToIsoReason, errCode) ? cnh2hErrorToIsoReason[errCode] : errCode;
}
export function cnh2hErrorCode(isoReason: string): string {
  return Object.hasOwn(isoReasonToCnh2hError, isoReason) ? isoReasonToCnh2hError[isoReason] : isoReason;
}

/** Notice types of E2B0001 (body.noticeType); absent means an incoming credit, the only kind
 *  the bank pushed before the others were added. */
export const cnh2hNoticeTypeCredit = '01';
export const cnh2hNoticeTypeReversal = '02';
export const cnh2hNoticeTypeReturn = '03';
export const cnh2hNoticeTypeInterest = '04';
export const cnh2hNoticeTypes = [cnh2hNoticeTypeCredit, cnh2hNoticeTypeReversal, cnh2hNoticeTypeReturn, cnh2hNoticeTypeInterest] as const;
export type Cnh2hNoticeType = (typeof cnh2hNoticeTypes)[number];

/** Transaction types (tranType) of an account detail, and the ISO 20022 bank transaction code
 *  each one means; which family depends on the side the original booking was on. */
export const cnh2hTranTypeTransfer = 'TRF';
export const cnh2hTranTypeReturn = 'RTN';
export const cnh2hTranTypeInterest = 'INT';

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
  /** Absent when the bank reports the booking date only. */
  tranTime?: string;
  valueDate: string;
  subAcctNo?: string;
  oppAcctNo?: string;
  oppAcctName?: string;
  oppBankNo?: string;
  postscript?: string;
  bizSerialNo?: string;
  revFlag: '0' | '1';
  tranType?: string;
  origBankSerialNo?: string;
  rtnCode?: string;
  rtnMsg?: string;
}
export interface Cnh2hCreditNoticeBody {
  noticeNo: string;
  noticeType?: Cnh2hNoticeType;
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
