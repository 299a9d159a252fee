// Account details (shared by statements and notices) and the E2B0001 account notice: incoming
// credits and, by its noticeType, reversals (冲正), returned payments (退汇) and interest (结息).
import { BankMessageInvalid, type BookingDetails, type CreditEntry, type CreditNotification, type StatementEntry } from '../types';
import { formatAmount } from '../../domain/money';
import { compactDateTimeToIso, expandCompactDate, shanghaiParts, startOfShanghaiDay } from '../iso20022/time';
import { notificationEntriesMax } from '../xmlLimits';
import { oneEntryPerReference } from '../uniqueEntries';
import { amount, arr, cnh2hParseRequestHead, cnh2hReadJson, obj, oneOf, optBankNo, optStr, requestHead, str, truncateChars } from './fields';
import {
  cnh2hAccountCharsMax,
  cnh2hErrorCode,
  cnh2hNoticeTypeCredit,
  cnh2hNoticeTypeInterest,
  cnh2hNoticeTypeReturn,
  cnh2hNoticeTypeReversal,
  cnh2hNoticeTypes,
  cnh2hReasonCode,
  cnh2hSerialCharsMax,
  cnh2hTranTypeInterest,
  cnh2hTranTypeReturn,
  cnh2hTranTypeTransfer,
  cnh2hTransCodeCreditNotice,
  type Cnh2hAccountDetail,
  type Cnh2hCreditNoticeBody,
  type Cnh2hEnvelopeOptions,
  type Cnh2hNoticeType,
  type Cnh2hRequest,
} from './types';

/** rtnMsg, like retMsg: text for people. */
export const cnh2hReturnMessageCharsMax = 200;
const interestCode = 'ACMT/MCOP/INTR';

// ------------------------------------------------------------------------------------------
// Transaction types: tranType on the wire, ISO bank transaction codes in the parsed entries

/** The tranType of an ISO code; the family (received or issued) is implied by drCrFlag and
 *  revFlag, so both RCDT and ICDT transfers are TRF. */
function tranTypeOf(code: string | undefined): string | undefined {
  if (!code) return undefined;
  if (code === interestCode) return cnh2hTranTypeInterest;
  const [domain, , subFamily] = code.split('/');
  if (domain !== 'PMNT') return undefined;
  return subFamily === 'RRTN' ? cnh2hTranTypeReturn : cnh2hTranTypeTransfer;
}

/** A reversal keeps its original's code, so the family follows the original booking's side:
 *  a credit received is RCDT, one of our own payments (or its return) ICDT. A tranType not in
 *  the table passes through unchanged, so nothing the bank said is lost. */
function bankTransactionCodeOf(tranType: string, direction: 'credit' | 'debit', reversal: boolean): string {
  const originalWasCredit = reversal ? direction === 'debit' : direction === 'credit';
  switch (tranType) {
    case cnh2hTranTypeTransfer:
      return originalWasCredit ? 'PMNT/RCDT/DMCT' : 'PMNT/ICDT/DMCT';
    case cnh2hTranTypeReturn:
      return originalWasCredit ? 'PMNT/ICDT/RRTN' : 'PMNT/RCDT/RRTN';
    case cnh2hTranTypeInterest:
      return interestCode;
    default:
      return tranType;
  }
}

// ------------------------------------------------------------------------------------------
// Account details, shared by the notice and the statement

type DetailSource = Omit<StatementEntry, 'account'> & { account?: string };

function detailOf(e: DetailSource, mainAccount: string): Cnh2hAccountDetail {
  const booked = shanghaiParts(new Date(e.bookedAt));
  const d: Cnh2hAccountDetail = {
    bankSerialNo: e.entryRef,
    drCrFlag: e.direction === 'credit' ? 'C' : 'D',
    tranAmt: formatAmount(e.amountFen),
    ccy: e.currency,
    tranDate: booked.compactDate,
    valueDate: e.valueDate.replace(/-/g, ''),
    revFlag: e.reversal ? '1' : '0',
  };
  if (!e.bookingDateOnly) d.tranTime = booked.compactTime;
  if (e.account && e.account !== mainAccount) d.subAcctNo = e.account;
  if (e.counterparty.accountNumber) d.oppAcctNo = e.counterparty.accountNumber;
  if (e.counterparty.name) d.oppAcctName = e.counterparty.name;
  if (e.counterparty.bankCode) d.oppBankNo = e.counterparty.bankCode;
  if (e.remittance) d.postscript = e.remittance;
  if (e.endToEndId) d.bizSerialNo = e.endToEndId;
  const tranType = tranTypeOf(e.bankTransactionCode);
  if (tranType) d.tranType = tranType;
  if (e.reversal && e.originalEntryRef) d.origBankSerialNo = e.originalEntryRef;
  if (e.returnInfo) {
    if (tranType !== cnh2hTranTypeReturn) throw new Error(`assertion: ${e.entryRef} carries return information but is not a return`);
    d.rtnCode = cnh2hErrorCode(e.returnInfo.reasonCode);
    if (e.returnInfo.additionalInfo) d.rtnMsg = truncateChars(e.returnInfo.additionalInfo, cnh2hReturnMessageCharsMax);
  }
  return d;
}

/** A notified credit, or (reversal) the credit taken back: the money then goes to the payer. */
function detailFromCredit(c: CreditEntry, mainAccount: string, reversal: boolean): Cnh2hAccountDetail {
  return detailOf(
    {
      ...c,
      direction: reversal ? 'debit' : 'credit',
      reversal,
      account: c.virtualAccount,
      counterparty: { name: c.debtor.name || undefined, accountNumber: c.debtor.accountNumber || undefined, bankCode: c.debtor.bankCode },
    },
    mainAccount,
  );
}

export function detailFromStatementEntry(e: StatementEntry, mainAccount: string): Cnh2hAccountDetail {
  return detailOf(e, mainAccount);
}

export interface ParsedDetail {
  entry: StatementEntry;
  /** The account as the payer addressed it: the sub-account when given, else the main one. */
  account: string;
}

/** tranDate + tranTime; a detail without tranTime was booked on that date at a time the bank
 *  does not report, read as the start of the day (flagged bookingDateOnly). */
function bookedAtOf(d: Record<string, unknown>, path: string): string {
  const date = str(d, 'tranDate', path, 8);
  const time = optStr(d, 'tranTime', path, 6);
  return time ? compactDateTimeToIso(date, time, `${path}.tranDate`) : startOfShanghaiDay(expandCompactDate(date, `${path}.tranDate`), `${path}.tranDate`);
}

export function parseDetail(raw: unknown, path: string, mainAccount: string): ParsedDetail {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: expected an object`);
  const d = raw as Record<string, unknown>;
  const account = optStr(d, 'subAcctNo', path, cnh2hAccountCharsMax) ?? mainAccount;
  const entry: StatementEntry = {
    entryRef: str(d, 'bankSerialNo', path, cnh2hSerialCharsMax),
    direction: oneOf(d, 'drCrFlag', path, ['C', 'D'] as const) === 'C' ? 'credit' : 'debit',
    amountFen: amount(d, 'tranAmt', path),
    currency: str(d, 'ccy', path, 3),
    bookedAt: bookedAtOf(d, path),
    valueDate: expandCompactDate(str(d, 'valueDate', path, 8), `${path}.valueDate`),
    account,
    counterparty: {},
  };
  if (d.tranTime === undefined || d.tranTime === '') entry.bookingDateOnly = true;
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
  readBookingDetails(d, path, entry);
  return { entry, account };
}

/** The fields added for reversals, returns, interest and date-only bookings; a detail written
 *  before them reads exactly as it did. */
function readBookingDetails(d: Record<string, unknown>, path: string, entry: StatementEntry): void {
  const tranType = optStr(d, 'tranType', path, 10);
  if (tranType) entry.bankTransactionCode = bankTransactionCodeOf(tranType, entry.direction, entry.reversal === true);
  const original = optStr(d, 'origBankSerialNo', path, cnh2hSerialCharsMax);
  if (original) {
    if (!entry.reversal) throw new BankMessageInvalid(`${path}.origBankSerialNo: only a reversal (revFlag "1") names an original booking`);
    entry.originalEntryRef = original;
  }
  const rtnCode = optStr(d, 'rtnCode', path, 10);
  if (tranType === cnh2hTranTypeReturn && !rtnCode) throw new BankMessageInvalid(`${path}.rtnCode: a return (tranType ${cnh2hTranTypeReturn}) must give its reason`);
  if (rtnCode) {
    if (tranType !== cnh2hTranTypeReturn) throw new BankMessageInvalid(`${path}.rtnCode: only a return (tranType ${cnh2hTranTypeReturn}) has a return reason`);
    entry.returnInfo = { reasonCode: cnh2hReasonCode(rtnCode) };
    if (entry.endToEndId) entry.returnInfo.originalEndToEndId = entry.endToEndId;
    const rtnMsg = optStr(d, 'rtnMsg', path, cnh2hReturnMessageCharsMax);
    if (rtnMsg) entry.returnInfo.additionalInfo = rtnMsg;
  }
}

// ------------------------------------------------------------------------------------------
// E2B0001 account notice

/** The notice type of what a notice carries: one kind per notice, as the bank sends them. */
function noticeTypeOf(credits: CreditEntry[], reversals: CreditEntry[]): Cnh2hNoticeType {
  if (reversals.length > 0) {
    if (credits.length > 0) throw new Error('assertion: a reversal notice carries reversals only');
    return cnh2hNoticeTypeReversal;
  }
  const kinds = new Set(credits.map((c) => tranTypeOf(c.bankTransactionCode) ?? cnh2hTranTypeTransfer));
  if (kinds.size > 1) throw new Error(`assertion: one kind of credit per notice, got ${[...kinds].join(', ')}`);
  if (kinds.has(cnh2hTranTypeReturn)) return cnh2hNoticeTypeReturn;
  if (kinds.has(cnh2hTranTypeInterest)) return cnh2hNoticeTypeInterest;
  return cnh2hNoticeTypeCredit;
}

export function cnh2hBuildCreditNotice(
  n: { messageId: string; account: string; credits: CreditEntry[]; reversals?: CreditEntry[] },
  opts: Cnh2hEnvelopeOptions = {},
): Cnh2hRequest<Cnh2hCreditNoticeBody> {
  const reversals = n.reversals ?? [];
  if (n.credits.length + reversals.length > notificationEntriesMax) throw new Error(`assertion: at most ${notificationEntriesMax} entries per notice`);
  for (const r of reversals) if (!r.originalEntryRef) throw new Error(`assertion: reversal ${r.entryRef} must name the credit it undoes`);
  return {
    head: requestHead(cnh2hTransCodeCreditNotice, opts.reqSeqNo ?? n.messageId, opts),
    body: {
      noticeNo: n.messageId,
      noticeType: noticeTypeOf(n.credits, reversals),
      acctNo: n.account,
      details: [...n.credits.map((c) => detailFromCredit(c, n.account, false)), ...reversals.map((c) => detailFromCredit(c, n.account, true))],
    },
  };
}

/** What every detail of a notice of that type must be; a notice whose details contradict its
 *  type is refused rather than read one way or the other. An incoming-credit notice (the type
 *  every notice had before types existed) keeps its old reading: credits, the rest ignored. */
function checkNoticeType(noticeType: Cnh2hNoticeType, entry: StatementEntry, path: string): void {
  const fits =
    noticeType === cnh2hNoticeTypeCredit ||
    (noticeType === cnh2hNoticeTypeReversal && entry.reversal === true && entry.direction === 'debit') ||
    (noticeType === cnh2hNoticeTypeReturn && !entry.reversal && entry.direction === 'credit' && entry.returnInfo !== undefined) ||
    (noticeType === cnh2hNoticeTypeInterest && !entry.reversal && entry.direction === 'credit' && entry.bankTransactionCode === interestCode);
  if (!fits) throw new BankMessageInvalid(`${path}: does not fit the notice's noticeType ${noticeType}`);
}

function notifiedEntry(entry: StatementEntry, account: string): CreditEntry {
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
  const details: (keyof BookingDetails)[] = ['bankTransactionCode', 'bookingDateOnly', 'originalEntryRef', 'returnInfo'];
  for (const k of details) if (entry[k]) Object.assign(c, { [k]: entry[k] });
  if (entry.reversal) c.reversal = true;
  return c;
}

/** Credits are details flagged C and not reversals; everything else is counted as ignored, and
 *  reversals of credits (D with revFlag "1") are also listed. */
export function cnh2hParseCreditNotice(body: unknown): CreditNotification {
  const message = cnh2hReadJson(body, 'cn-h2h credit notice');
  const head = cnh2hParseRequestHead(message);
  if (head.transCode !== cnh2hTransCodeCreditNotice) {
    throw new BankMessageInvalid(`head.transCode: expected ${cnh2hTransCodeCreditNotice}, got ${head.transCode}`);
  }
  const b = obj(message, 'body', '');
  const noticeType = b.noticeType === undefined ? cnh2hNoticeTypeCredit : oneOf(b, 'noticeType', 'body', cnh2hNoticeTypes);
  const mainAccount = str(b, 'acctNo', 'body', cnh2hAccountCharsMax);
  const details = arr(b, 'details', 'body', notificationEntriesMax);
  const credits: CreditEntry[] = [];
  const reversals: CreditEntry[] = [];
  let ignored = 0;
  details.forEach((raw, i) => {
    const path = `body.details[${i}]`;
    const { entry, account } = parseDetail(raw, path, mainAccount);
    checkNoticeType(noticeType, entry, path);
    if (entry.direction !== 'credit' || entry.reversal) {
      ignored += 1;
      if (entry.direction === 'debit' && entry.reversal) reversals.push(notifiedEntry(entry, account));
      return;
    }
    credits.push(notifiedEntry(entry, account));
  });
  const messageId = str(b, 'noticeNo', 'body', 32);
  return oneEntryPerReference(reversals.length ? { messageId, credits, ignored, reversals } : { messageId, credits, ignored }, 'cn-h2h credit notice');
}
