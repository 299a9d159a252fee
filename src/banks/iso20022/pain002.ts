// pain.002 customer payment status report: what the bank says became of a pain.001. We write
// .001.10 (the sandbox answers with it) and read .001.10 and the .001.03 many banks still send.
//
// Status can sit at three levels: group (OrgnlGrpInfAndSts/GrpSts), payment information
// (OrgnlPmtInfAndSts/PmtInfSts) and transaction (TxInfAndSts/TxSts). A transaction without its
// own status inherits its PmtInf's, then the group's, with the reason that came with it.
// Only ACSC/ACCC are final success and RJCT final failure; every other code (ACTC, ACSP, PDNG,
// ACCP, PART, and any we do not know) leaves the transfer pending, because treating an unknown
// code as final would either pay twice or never.
import type { StatusReport, TransactionStatus, TransferOutcome } from '../types';
import { BankMessageInvalid } from '../types';
import { child, childrenNamed, parseXmlTree, requireText, textAt, type XmlElement } from '../xmlRead';
import { identifyTree } from '../xmlIsoMessage';
import { escapeXml } from '../xmlWrite';
import {
  assertId,
  isoAdditionalInfoCharsMax,
  isoCodeCharsMax,
  isoText,
  namespaceOf,
  readStatusReason,
} from './common';
import { formatShanghaiDateTime, normalizeBankDateTime } from './time';

export const pain002Namespace = namespaceOf('pain.002.001.10');
/** Transactions read from one status report (a pain.001 carries at most pain001TransfersMax). */
export const pain002TransactionsMax = 10_000;

export function isoStatusOutcome(code: string | undefined): TransferOutcome {
  switch (code) {
    case 'ACSC':
    case 'ACCC':
      return 'settled';
    case 'RJCT':
      return 'rejected';
    default:
      return 'pending';
  }
}

const outcomeCode: Record<Exclude<TransferOutcome, 'unknown'>, string> = {
  settled: 'ACSC',
  rejected: 'RJCT',
  pending: 'PDNG',
};

function reasonXml(code: string | undefined, text: string | undefined): string {
  if (!code && !text) return '';
  const rsn = code
    ? code.length <= isoCodeCharsMax
      ? `<Rsn><Cd>${escapeXml(code)}</Cd></Rsn>`
      : `<Rsn><Prtry>${isoText(code, 35)}</Prtry></Rsn>`
    : '';
  const info = text ? `<AddtlInf>${isoText(text, isoAdditionalInfoCharsMax)}</AddtlInf>` : '';
  return `<StsRsnInf>${rsn}${info}</StsRsnInf>`;
}

/** The code we write for a transaction: the bank's own when it is an ISO code that means the
 *  same outcome, else the canonical one. */
function txStatusCode(t: TransactionStatus): string {
  if (t.outcome === 'unknown') throw new Error('assertion: unknown transactions are not reported');
  const own = t.bankStatus;
  if (/^[A-Z]{4}$/.test(own) && isoStatusOutcome(own) === t.outcome) return own;
  return outcomeCode[t.outcome];
}

/** Writes the report. Transactions whose outcome is `unknown` are left out: ISO has no code for
 *  "never heard of it", and a reader treats an end-to-end id missing from the report as unknown. */
export function buildPain002(report: StatusReport, createdAt: Date): string {
  const messageId = report.messageId ?? `STS-${report.originalMessageId}`.slice(0, 35);
  assertId(messageId, 'status report messageId');
  assertId(report.originalMessageId, 'originalMessageId');
  const orig = escapeXml(report.originalMessageId);
  const known = report.transactions.filter((t) => t.outcome !== 'unknown');
  const groupStatus = report.groupStatus && report.groupStatus.length <= isoCodeCharsMax ? report.groupStatus : undefined;
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="${pain002Namespace}"><CstmrPmtStsRpt>`,
    `<GrpHdr><MsgId>${escapeXml(messageId)}</MsgId><CreDtTm>${formatShanghaiDateTime(createdAt)}</CreDtTm></GrpHdr>`,
    `<OrgnlGrpInfAndSts><OrgnlMsgId>${orig}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>` +
      (groupStatus ? `<GrpSts>${escapeXml(groupStatus)}</GrpSts>${reasonXml(report.groupReasonCode, undefined)}` : '') +
      '</OrgnlGrpInfAndSts>',
  ];
  if (known.length > 0) {
    parts.push(`<OrgnlPmtInfAndSts><OrgnlPmtInfId>${orig}</OrgnlPmtInfId>`);
    for (const t of known) {
      assertId(t.endToEndId, 'endToEndId');
      const accepted = t.bookedAt && t.outcome !== 'pending' ? `<AccptncDtTm>${formatShanghaiDateTime(new Date(t.bookedAt))}</AccptncDtTm>` : '';
      const ref = t.bankReference ? `<AcctSvcrRef>${isoText(t.bankReference, 35)}</AcctSvcrRef>` : '';
      parts.push(
        `<TxInfAndSts><OrgnlInstrId>${escapeXml(t.endToEndId)}</OrgnlInstrId><OrgnlEndToEndId>${escapeXml(t.endToEndId)}</OrgnlEndToEndId>` +
          `<TxSts>${escapeXml(txStatusCode(t))}</TxSts>${reasonXml(t.reasonCode, t.reasonText)}${accepted}${ref}</TxInfAndSts>`,
      );
    }
    parts.push('</OrgnlPmtInfAndSts>');
  }
  parts.push('</CstmrPmtStsRpt></Document>\n');
  return parts.join('');
}

interface LevelStatus {
  code?: string;
  reasonCode?: string;
  reasonText?: string;
}

function levelStatus(el: XmlElement | undefined, statusName: string): LevelStatus {
  const code = textAt(el, statusName);
  const reason = readStatusReason(el);
  const out: LevelStatus = {};
  if (code) out.code = code;
  if (reason.code) out.reasonCode = reason.code;
  if (reason.text) out.reasonText = reason.text;
  return out;
}

/** Reads .001.10 and .001.03, namespaced or not (the `Xmlns` sample is read by structure). */
export function parsePain002(xml: string | Buffer): StatusReport {
  const root = parseXmlTree(xml);
  const { message } = identifyTree(root, 'pain.002');
  const grpHdr = child(message, 'GrpHdr');
  const orgnlGrp = child(message, 'OrgnlGrpInfAndSts');
  if (!orgnlGrp) throw new BankMessageInvalid('pain.002: missing OrgnlGrpInfAndSts');
  const group = levelStatus(orgnlGrp, 'GrpSts');
  const report: StatusReport = {
    originalMessageId: requireText(orgnlGrp, 'pain.002', 'OrgnlMsgId'),
    transactions: [],
  };
  const messageId = textAt(grpHdr, 'MsgId');
  if (messageId) report.messageId = messageId;

  const pmtInfs = childrenNamed(message, 'OrgnlPmtInfAndSts');
  const pmtLevels = pmtInfs.map((p) => levelStatus(p, 'PmtInfSts'));
  if (group.code) {
    report.groupStatus = group.code;
    if (group.reasonCode) report.groupReasonCode = group.reasonCode;
  } else {
    // We send one PmtInf per message, so when the bank reports status only at PmtInf level
    // (Nordea does) and every PmtInf agrees, that is the status of the whole message.
    const codes = new Set(pmtLevels.map((l) => l.code));
    if (pmtLevels.length > 0 && codes.size === 1 && pmtLevels[0].code) {
      report.groupStatus = pmtLevels[0].code;
      if (pmtLevels[0].reasonCode) report.groupReasonCode = pmtLevels[0].reasonCode;
    }
  }

  pmtInfs.forEach((pmt, i) => {
    const pmtLevel = pmtLevels[i];
    for (const tx of childrenNamed(pmt, 'TxInfAndSts')) {
      if (report.transactions.length >= pain002TransactionsMax) throw new BankMessageInvalid(`pain.002: more than ${pain002TransactionsMax} transactions`);
      const endToEndId = textAt(tx, 'OrgnlEndToEndId') ?? textAt(tx, 'OrgnlInstrId');
      if (!endToEndId) throw new BankMessageInvalid('pain.002 TxInfAndSts: neither OrgnlEndToEndId nor OrgnlInstrId');
      const own = levelStatus(tx, 'TxSts');
      // The inherited level supplies the reason only when it supplies the status.
      const source = own.code ? own : pmtLevel.code ? pmtLevel : group.code ? group : own;
      const t: TransactionStatus = {
        endToEndId,
        outcome: isoStatusOutcome(source.code),
        bankStatus: source.code ?? '',
      };
      const reasonCode = own.reasonCode ?? source.reasonCode;
      const reasonText = own.reasonText ?? source.reasonText;
      if (reasonCode) t.reasonCode = reasonCode;
      if (reasonText) t.reasonText = reasonText;
      const ref = textAt(tx, 'AcctSvcrRef') ?? textAt(tx, 'ClrSysRef');
      if (ref) t.bankReference = ref;
      const accepted = textAt(tx, 'AccptncDtTm');
      if (accepted && t.outcome !== 'pending') t.bookedAt = normalizeBankDateTime(accepted, 'TxInfAndSts/AccptncDtTm');
      report.transactions.push(t);
    }
  });
  return report;
}
