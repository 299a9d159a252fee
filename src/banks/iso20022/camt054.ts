// camt.054 bank-to-customer debit/credit notification: the bank tells us money arrived. We
// write .001.08 (the sandbox pushes it) and read .001.08 and .001.02.
//
// A credit is an entry (or a transaction of a batched entry, see camtEntry.ts) that is booked
// (Sts/Cd or Sts = BOOK), credit (CdtDbtInd CRDT) and not a reversal. Everything else (debits,
// pending or informational entries, reversals) is counted in `ignored`: acting on a pending
// credit could refund money that never settles, and a reversal undoes a credit rather than
// adding one.
import type { CreditEntry, CreditNotification } from '../types';
import { BankMessageInvalid } from '../types';
import { formatAmount } from '../../domain/money';
import { notificationEntriesMax } from '../xmlLimits';
import { child, childrenNamed, parseXmlTree, requireText } from '../xmlRead';
import { identifyTree } from '../xmlIsoMessage';
import { escapeXml } from '../xmlWrite';
import { accountXml, agentXml, assertAccount, assertId, isoNameCharsMax, isoRemittanceCharsMax, isoText, namespaceOf, readAccount } from './common';
import { readCamtEntry } from './camtEntry';
import { formatShanghaiDateTime, normalizeBankDate, shanghaiParts } from './time';

export const camt054Namespace = namespaceOf('camt.054.001.08');
/** CashAccount39/Nm is Max70Text. */
export const isoAccountNameCharsMax = 70;

function creditXml(c: CreditEntry): string {
  assertId(c.entryRef, 'entryRef');
  assertAccount(c.virtualAccount, `virtualAccount of ${c.entryRef}`);
  if (c.amountFen <= 0n) throw new Error(`assertion: credit ${c.entryRef} must be positive`);
  if (c.endToEndId) assertId(c.endToEndId, 'endToEndId');
  const amt = `<Amt Ccy="${escapeXml(c.currency)}">${formatAmount(c.amountFen)}</Amt>`;
  const ref = escapeXml(c.entryRef);
  const debtor =
    (c.debtor.name.trim() ? `<Dbtr><Pty><Nm>${isoText(c.debtor.name, isoNameCharsMax)}</Nm></Pty></Dbtr>` : '') +
    (c.debtor.accountNumber ? `<DbtrAcct>${accountXml(c.debtor.accountNumber)}</DbtrAcct>` : '');
  return (
    `<Ntry>${amt}<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
    `<BookgDt><DtTm>${formatShanghaiDateTime(new Date(c.bookedAt))}</DtTm></BookgDt>` +
    `<ValDt><Dt>${normalizeBankDate(c.valueDate, 'valueDate')}</Dt></ValDt>` +
    `<AcctSvcrRef>${ref}</AcctSvcrRef>` +
    '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>' +
    '<NtryDtls><TxDtls>' +
    `<Refs><AcctSvcrRef>${ref}</AcctSvcrRef><EndToEndId>${c.endToEndId ? escapeXml(c.endToEndId) : 'NOTPROVIDED'}</EndToEndId></Refs>` +
    `${amt}<CdtDbtInd>CRDT</CdtDbtInd>` +
    `<RltdPties>${debtor}<CdtrAcct>${accountXml(c.virtualAccount)}</CdtrAcct></RltdPties>` +
    (c.debtor.bankCode ? `<RltdAgts><DbtrAgt>${agentXml(c.debtor.bankCode)}</DbtrAgt></RltdAgts>` : '') +
    (c.remittance?.trim() ? `<RmtInf><Ustrd>${isoText(c.remittance, isoRemittanceCharsMax)}</Ustrd></RmtInf>` : '') +
    '</TxDtls></NtryDtls></Ntry>'
  );
}

export function buildCamt054(n: { messageId: string; createdAt: Date; account: string; accountName?: string; credits: CreditEntry[] }): string {
  assertId(n.messageId, 'messageId');
  assertAccount(n.account, 'account');
  if (n.credits.length > notificationEntriesMax) throw new Error(`assertion: at most ${notificationEntriesMax} credits per notification`);
  const created = formatShanghaiDateTime(n.createdAt);
  const name = n.accountName?.trim() ? `<Nm>${isoText(n.accountName, isoAccountNameCharsMax)}</Nm>` : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="${camt054Namespace}"><BkToCstmrDbtCdtNtfctn>`,
    `<GrpHdr><MsgId>${escapeXml(n.messageId)}</MsgId><CreDtTm>${created}</CreDtTm></GrpHdr>`,
    `<Ntfctn><Id>${escapeXml(n.messageId)}</Id><CreDtTm>${created}</CreDtTm>`,
    `<Acct>${accountXml(n.account)}<Ccy>CNY</Ccy>${name}</Acct>`,
    ...n.credits.map(creditXml),
    '</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n',
  ].join('');
}

export function parseCamt054(xml: string | Buffer): CreditNotification {
  const root = parseXmlTree(xml);
  const { message } = identifyTree(root, 'camt.054');
  const messageId = requireText(child(message, 'GrpHdr'), 'camt.054 GrpHdr', 'MsgId');
  const credits: CreditEntry[] = [];
  let ignored = 0;
  let seen = 0;
  const ntfctns = childrenNamed(message, 'Ntfctn');
  if (ntfctns.length === 0) throw new BankMessageInvalid('camt.054: no Ntfctn');
  for (const ntfctn of ntfctns) {
    const notifiedAccount = readAccount(child(ntfctn, 'Acct'));
    if (!notifiedAccount) throw new BankMessageInvalid('camt.054 Ntfctn: missing Acct/Id');
    childrenNamed(ntfctn, 'Ntry').forEach((ntry, i) => {
      const where = `camt.054 entry ${i + 1}`;
      const bookings = readCamtEntry(ntry, where);
      seen += bookings.length;
      if (seen > notificationEntriesMax) throw new BankMessageInvalid(`camt.054: more than ${notificationEntriesMax} entries`);
      for (const b of bookings) {
        if (b.direction !== 'credit' || b.status !== 'BOOK' || b.reversal) {
          ignored += 1;
          continue;
        }
        if (!b.entryRef) throw new BankMessageInvalid(`${where}: a booked credit without any reference (AcctSvcrRef, NtryRef, UETR, EndToEndId)`);
        if (!b.bookedAt) throw new BankMessageInvalid(`${where}: a booked credit without BookgDt`);
        const credit: CreditEntry = {
          entryRef: b.entryRef,
          // The bank books every deposit into the one trust account named in Ntfctn/Acct, but
          // the bidder paid to a virtual sub-account, and the bank reports that number as the
          // transaction's creditor account. That number is what ties the money to a bidder and
          // a tender, so it wins; the notified account is only the fallback.
          virtualAccount: b.ownAccount ?? notifiedAccount,
          amountFen: b.amountFen,
          currency: b.currency,
          bookedAt: b.bookedAt,
          valueDate: b.valueDate ?? shanghaiParts(new Date(b.bookedAt)).date,
          debtor: { name: b.counterparty.name ?? '', accountNumber: b.counterparty.accountNumber ?? '' },
        };
        if (b.counterparty.bankCode) credit.debtor.bankCode = b.counterparty.bankCode;
        if (b.remittance) credit.remittance = b.remittance;
        if (b.endToEndId) credit.endToEndId = b.endToEndId;
        credits.push(credit);
      }
    });
  }
  return { messageId, credits, ignored };
}

/** Every booking of a notification, credits and the rest alike (for tests and diagnostics). */
export function readCamt054Bookings(xml: string | Buffer): { messageId: string; bookings: ReturnType<typeof readCamtEntry> } {
  const root = parseXmlTree(xml);
  const { message } = identifyTree(root, 'camt.054');
  const messageId = requireText(child(message, 'GrpHdr'), 'camt.054 GrpHdr', 'MsgId');
  const bookings = childrenNamed(message, 'Ntfctn').flatMap((n) =>
    childrenNamed(n, 'Ntry').flatMap((ntry, i) => readCamtEntry(ntry, `camt.054 entry ${i + 1}`)),
  );
  if (bookings.length > notificationEntriesMax) throw new BankMessageInvalid(`camt.054: more than ${notificationEntriesMax} entries`);
  return { messageId, bookings };
}
