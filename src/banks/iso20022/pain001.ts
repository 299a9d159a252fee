// pain.001.001.09 customer credit transfer initiation: how we ask the bank to pay refunds out
// of the trust account. One PmtInf per batch (one debtor account, one execution date), so the
// PmtInfId is the message id and a pain.002 about either means the same batch.
//
// Limits the schema sets and what we do about them:
//   MsgId, EndToEndId, InstrId, PmtInfId  Max35Text   asserted (ids are never cut: a cut id
//                                                    could collide with another)
//   Othr/Id (account)                     Max34Text   asserted
//   Nm (debtor, creditor, initiating)     Max140Text  truncated to 140 characters
//   Ustrd (remittance)                    Max140Text  truncated to 140 characters, one line
//   amount                                18 digits   asserted positive, at most 15 integer digits
import type { CreditTransferIntent, TransferBatch } from '../types';
import { BankMessageInvalid } from '../types';
import { amountIntegerDigitsMax, formatAmount } from '../../domain/money';
import { child, childrenNamed, parseXmlTree, textAt, requireText } from '../xmlRead';
import { identifyTree } from '../xmlIsoMessage';
import { escapeXml } from '../xmlWrite';
import {
  accountXml,
  agentXml,
  assertAccount,
  assertId,
  isoNameCharsMax,
  isoRemittanceCharsMax,
  isoText,
  namespaceOf,
  readAccount,
  readAgentCode,
  readAmount,
  readControlSum,
  isoDecimalDigitsMax,
} from './common';
import { formatShanghaiDateTime, normalizeBankDate, normalizeBankDateTime } from './time';

export const pain001Namespace = namespaceOf('pain.001.001.09');
/** A batch the sandbox will read; the service splits larger runs into several messages. */
export const pain001TransfersMax = 10_000;

const amountFenMax = 10n ** BigInt(amountIntegerDigitsMax + 2) - 1n;

function transferXml(t: CreditTransferIntent): string {
  assertId(t.endToEndId, 'endToEndId');
  assertAccount(t.creditor.accountNumber, `creditor account of ${t.endToEndId}`);
  if (t.amountFen <= 0n || t.amountFen > amountFenMax) throw new Error(`assertion: amount of ${t.endToEndId} out of range`);
  if (t.currency !== 'CNY') throw new Error(`assertion: ${t.endToEndId} is not CNY`);
  const id = escapeXml(t.endToEndId);
  return (
    '<CdtTrfTxInf>' +
    `<PmtId><InstrId>${id}</InstrId><EndToEndId>${id}</EndToEndId></PmtId>` +
    `<Amt><InstdAmt Ccy="CNY">${formatAmount(t.amountFen)}</InstdAmt></Amt>` +
    (t.creditor.bankCode ? `<CdtrAgt>${agentXml(t.creditor.bankCode)}</CdtrAgt>` : '') +
    `<Cdtr><Nm>${isoText(t.creditor.name, isoNameCharsMax)}</Nm></Cdtr>` +
    `<CdtrAcct>${accountXml(t.creditor.accountNumber)}</CdtrAcct>` +
    (t.remittance.trim() ? `<RmtInf><Ustrd>${isoText(t.remittance, isoRemittanceCharsMax)}</Ustrd></RmtInf>` : '') +
    '</CdtTrfTxInf>'
  );
}

export function buildPain001(batch: TransferBatch): string {
  assertId(batch.messageId, 'messageId');
  assertAccount(batch.debtor.accountNumber, 'debtor account');
  if (batch.transfers.length === 0) throw new Error('assertion: a batch has at least one transfer');
  if (batch.transfers.length > pain001TransfersMax) throw new Error(`assertion: at most ${pain001TransfersMax} transfers per batch`);
  const seen = new Set<string>();
  let ctrlSumFen = 0n;
  for (const t of batch.transfers) {
    if (seen.has(t.endToEndId)) throw new Error(`assertion: endToEndId ${t.endToEndId} twice in one batch`);
    seen.add(t.endToEndId);
    ctrlSumFen += t.amountFen;
  }
  if (ctrlSumFen >= 10n ** BigInt(isoDecimalDigitsMax)) throw new Error('assertion: the batch total exceeds the 18 digits of CtrlSum');
  const date = normalizeBankDate(batch.requestedExecutionDate, 'requestedExecutionDate');
  const msgId = escapeXml(batch.messageId);
  const nb = String(batch.transfers.length);
  const ctrl = formatAmount(ctrlSumFen);
  const debtorName = isoText(batch.debtor.name, isoNameCharsMax);
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="${pain001Namespace}"><CstmrCdtTrfInitn>`,
    `<GrpHdr><MsgId>${msgId}</MsgId><CreDtTm>${formatShanghaiDateTime(batch.createdAt)}</CreDtTm>` +
      `<NbOfTxs>${nb}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum><InitgPty><Nm>${debtorName}</Nm></InitgPty></GrpHdr>`,
    `<PmtInf><PmtInfId>${msgId}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg>` +
      `<NbOfTxs>${nb}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum><ReqdExctnDt><Dt>${date}</Dt></ReqdExctnDt>` +
      `<Dbtr><Nm>${debtorName}</Nm></Dbtr>` +
      `<DbtrAcct>${accountXml(batch.debtor.accountNumber)}<Ccy>CNY</Ccy></DbtrAcct>` +
      `<DbtrAgt>${agentXml(batch.debtor.bankCode)}</DbtrAgt><ChrgBr>SLEV</ChrgBr>`,
  ];
  for (const t of batch.transfers) parts.push(transferXml(t));
  parts.push('</PmtInf></CstmrCdtTrfInitn></Document>\n');
  return parts.join('');
}

/** The bank's side (the sandbox). Reads .001.09 and, leniently, the older .001.03 shape. Checks
 *  the control totals, because a bank that paid a file whose totals disagree would pay the
 *  wrong thing. All PmtInf blocks must share one debtor account (a TransferBatch has one). */
export function parsePain001(xml: string | Buffer): TransferBatch {
  const root = parseXmlTree(xml);
  const { message } = identifyTree(root, 'pain.001');
  const grp = child(message, 'GrpHdr');
  const messageId = requireText(grp, 'pain.001 GrpHdr', 'MsgId');
  const createdAt = new Date(normalizeBankDateTime(requireText(grp, 'pain.001 GrpHdr', 'CreDtTm'), 'GrpHdr/CreDtTm'));
  const pmtInfs = childrenNamed(message, 'PmtInf');
  if (pmtInfs.length === 0) throw new BankMessageInvalid('pain.001: no PmtInf');
  let debtor: TransferBatch['debtor'] | undefined;
  let requestedExecutionDate: string | undefined;
  const transfers: CreditTransferIntent[] = [];
  let sumFen = 0n;
  for (const pmt of pmtInfs) {
    const acct = readAccount(child(pmt, 'DbtrAcct'));
    if (!acct) throw new BankMessageInvalid('pain.001 PmtInf: missing DbtrAcct');
    const bankCode = readAgentCode(child(pmt, 'DbtrAgt'));
    const d = { accountNumber: acct, name: textAt(pmt, 'Dbtr', 'Nm') ?? '', ...(bankCode && bankCode !== 'NOTPROVIDED' ? { bankCode } : {}) };
    if (debtor && debtor.accountNumber !== d.accountNumber) throw new BankMessageInvalid('pain.001: PmtInf blocks with different debtor accounts');
    debtor ??= d;
    // .09 wraps the date in a choice (Dt or DtTm); .03 writes it directly.
    const rawDate = textAt(pmt, 'ReqdExctnDt', 'Dt') ?? textAt(pmt, 'ReqdExctnDt', 'DtTm')?.slice(0, 10) ?? textAt(pmt, 'ReqdExctnDt');
    if (!rawDate) throw new BankMessageInvalid('pain.001 PmtInf: missing ReqdExctnDt');
    requestedExecutionDate ??= normalizeBankDate(rawDate.slice(0, 10), 'ReqdExctnDt');
    for (const tx of childrenNamed(pmt, 'CdtTrfTxInf')) {
      if (transfers.length >= pain001TransfersMax) throw new BankMessageInvalid(`pain.001: more than ${pain001TransfersMax} transfers`);
      const endToEndId = requireText(tx, 'pain.001 CdtTrfTxInf', 'PmtId', 'EndToEndId');
      const where = `pain.001 transfer ${endToEndId}`;
      const { amountFen, currency } = readAmount(child(tx, 'Amt', 'InstdAmt'), where);
      if (currency !== 'CNY') throw new BankMessageInvalid(`${where}: currency ${currency}, only CNY is carried`);
      if (amountFen <= 0n) throw new BankMessageInvalid(`${where}: amount must be positive`);
      const creditorAccount = readAccount(child(tx, 'CdtrAcct'));
      if (!creditorAccount) throw new BankMessageInvalid(`${where}: missing CdtrAcct`);
      const cdtrAgt = readAgentCode(child(tx, 'CdtrAgt'));
      sumFen += amountFen;
      transfers.push({
        endToEndId,
        amountFen,
        currency: 'CNY',
        creditor: { accountNumber: creditorAccount, name: textAt(tx, 'Cdtr', 'Nm') ?? '', ...(cdtrAgt && cdtrAgt !== 'NOTPROVIDED' ? { bankCode: cdtrAgt } : {}) },
        remittance: childrenNamed(child(tx, 'RmtInf'), 'Ustrd').map((u) => u.text.trim()).join(' '),
      });
    }
  }
  if (transfers.length === 0) throw new BankMessageInvalid('pain.001: no CdtTrfTxInf');
  const nb = textAt(grp, 'NbOfTxs');
  if (nb !== undefined && nb !== String(transfers.length)) throw new BankMessageInvalid(`pain.001 GrpHdr/NbOfTxs: says ${nb}, file has ${transfers.length}`);
  const ctrl = readControlSum(child(grp, 'CtrlSum'), 'pain.001 GrpHdr/CtrlSum');
  if (ctrl !== undefined && ctrl !== sumFen) {
    throw new BankMessageInvalid(`pain.001 GrpHdr/CtrlSum: says ${formatAmount(ctrl)}, transfers sum to ${formatAmount(sumFen)}`);
  }
  return { messageId, createdAt, requestedExecutionDate: requestedExecutionDate!, debtor: debtor!, transfers };
}
