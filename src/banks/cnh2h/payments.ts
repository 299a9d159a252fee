// B2E0001 batch payment and B2E0002 payment status, both sides.
import { BankMessageInvalid, type StatusReport, type TransactionStatus, type TransferBatch, type TransferOutcome } from '../types';
import { formatAmount } from '../../domain/money';
import { compactDateTimeToIso, expandCompactDate, shanghaiParts } from '../iso20022/time';
import { amount, arr, cnh2hParseRequestHead, cnh2hParseResponseHead, cnh2hReadJson, count, obj, oneOf, optBankNo, optStr, requestHead, responseHead, str, total, truncateChars } from './fields';
import {
  cnh2hAccountCharsMax,
  cnh2hErrorCode,
  cnh2hNameCharsMax,
  cnh2hPaymentDetailsMax,
  cnh2hPostscriptCharsMax,
  cnh2hReasonCode,
  cnh2hRetCodeBatchNotFound,
  cnh2hRetCodeOk,
  cnh2hRetCodeSystemBusy,
  cnh2hSerialCharsMax,
  cnh2hStatusFailed,
  cnh2hStatusProcessing,
  cnh2hStatusSuccess,
  cnh2hStatusUnknown,
  cnh2hTransCodeBatchPayment,
  cnh2hTransCodePaymentStatus,
  type Cnh2hEnvelopeOptions,
  type Cnh2hPaymentDetail,
  type Cnh2hPaymentRequestBody,
  type Cnh2hRequest,
  type Cnh2hResponse,
  type Cnh2hStatus,
  type Cnh2hStatusDetail,
  type Cnh2hStatusQueryBody,
  type Cnh2hStatusResponseBody,
} from './types';

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
