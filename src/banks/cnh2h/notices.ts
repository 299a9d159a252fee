// Account details (shared by statements and notices) and the E2B0001 credit notice.
import { BankMessageInvalid, type CreditEntry, type CreditNotification, type StatementEntry } from '../types';
import { formatAmount } from '../../domain/money';
import { compactDateTimeToIso, expandCompactDate, shanghaiParts } from '../iso20022/time';
import { notificationEntriesMax } from '../xmlLimits';
import { amount, arr, cnh2hParseRequestHead, cnh2hReadJson, obj, oneOf, optBankNo, optStr, requestHead, str } from './fields';
import {
  cnh2hAccountCharsMax,
  cnh2hSerialCharsMax,
  cnh2hTransCodeCreditNotice,
  type Cnh2hAccountDetail,
  type Cnh2hCreditNoticeBody,
  type Cnh2hEnvelopeOptions,
  type Cnh2hRequest,
} from './types';

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

export function detailFromStatementEntry(e: StatementEntry, mainAccount: string): Cnh2hAccountDetail {
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

export interface ParsedDetail {
  entry: StatementEntry;
  /** The account as the payer addressed it: the sub-account when given, else the main one. */
  account: string;
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
