// camt.054 bank-to-customer debit/credit notification: the bank tells us money arrived. We
// write .001.08 (the sandbox pushes it) and read every version from .001.02 to the current one
// by its namespace (xmlIsoMessage.ts, camtVersionsRead).
//
// A credit is an entry (or a transaction of a batched entry, see camtEntry.ts) that is booked
// (Sts/Cd or Sts = BOOK), credit (CdtDbtInd CRDT) and not a reversal. Everything else (debits,
// pending or informational entries, reversals) is counted in `ignored`: acting on a pending
// credit could refund money that never settles, and a reversal undoes a credit rather than
// adding one. Booked debit reversals (a credit taken back) are also listed in `reversals`, so
// that the credit they undo can be found by its reference.
//
// What a credit is (a deposit, a payment of ours returned with RtrInf, interest) is told by its
// bank transaction code and return information, which are read into the entry as they stand.
// A return is a credit with returnInfo whichever way the bank marks it: booked as a plain credit
// (what the sandbox writes) or as the reversal of our debit (CRDT with RvslInd true, PMNT/ICDT/
// RRTN, the payment's EndToEndId in Refs), so the service sees one shape of return; such a
// credit is not listed with `reversal`, which on a notified entry means a credit taken back.
import type { CreditEntry, CreditNotification } from '../types';
import { BankMessageInvalid } from '../types';
import { formatAmount } from '../../domain/money';
import { notificationEntriesMax } from '../xmlLimits';
import { child, childrenNamed, parseXmlTree, requireText, type XmlElement } from '../xmlRead';
import { scanXml } from '../xmlStream';
import { identifyMessage, identifyTree, type IsoMessageInfo } from '../xmlIsoMessage';
import { oneEntryPerReference } from '../uniqueEntries';
import { escapeXml } from '../xmlWrite';
import { accountXml, agentXml, assertAccount, assertId, isoNameCharsMax, isoRemittanceCharsMax, isoText, namespaceOf, readAccount } from './common';
import { bankTransactionCodeXml, bookingDateXml, defaultBankTransactionCode, returnInfoXml } from './camtWrite';
import { bookingsOf, CamtEntryReader, EntryReferences, readCamtEntry, type CamtBooking } from './camtEntry';
import { normalizeBankDate, formatShanghaiDateTime, shanghaiParts } from './time';

export const camt054Namespace = namespaceOf('camt.054.001.08');
/** CashAccount39/Nm is Max70Text. */
export const isoAccountNameCharsMax = 70;

/** One notified booking. A credit is CRDT with the payer as debtor and the (virtual) account
 *  paid to as creditor account; a reversal of a credit is DBIT with RvslInd, the same parties
 *  in their debit places (the money goes back to the payer), and the original's AcctSvcrRef and
 *  EndToEndId in TxDtls/Refs beside its own AcctSvcrRef at entry level. */
function entryXml(c: CreditEntry, reversal: boolean): string {
  const what = reversal ? 'reversal' : 'credit';
  assertId(c.entryRef, 'entryRef');
  assertAccount(c.virtualAccount, `virtualAccount of ${c.entryRef}`);
  if (c.amountFen <= 0n) throw new Error(`assertion: ${what} ${c.entryRef} must be positive`);
  if (c.endToEndId) assertId(c.endToEndId, 'endToEndId');
  if (reversal && !c.originalEntryRef) throw new Error(`assertion: reversal ${c.entryRef} must name the credit it undoes`);
  if (c.originalEntryRef) assertId(c.originalEntryRef, 'originalEntryRef');
  if (!reversal && c.reversal) throw new Error(`assertion: ${c.entryRef} is a reversal, not a credit`);
  const ind = reversal ? 'DBIT' : 'CRDT';
  const amt = `<Amt Ccy="${escapeXml(c.currency)}">${formatAmount(c.amountFen)}</Amt>`;
  const ref = escapeXml(c.entryRef);
  const payerName = c.debtor.name.trim() ? `<Pty><Nm>${isoText(c.debtor.name, isoNameCharsMax)}</Nm></Pty>` : '';
  const payerAcct = c.debtor.accountNumber ? accountXml(c.debtor.accountNumber) : '';
  // Schema order in TransactionParties6: Dbtr, DbtrAcct, ..., Cdtr, CdtrAcct.
  const parties = reversal
    ? `<DbtrAcct>${accountXml(c.virtualAccount)}</DbtrAcct>` + (payerName ? `<Cdtr>${payerName}</Cdtr>` : '') + (payerAcct ? `<CdtrAcct>${payerAcct}</CdtrAcct>` : '')
    : (payerName ? `<Dbtr>${payerName}</Dbtr>` : '') + (payerAcct ? `<DbtrAcct>${payerAcct}</DbtrAcct>` : '') + `<CdtrAcct>${accountXml(c.virtualAccount)}</CdtrAcct>`;
  const agentTag = reversal ? 'CdtrAgt' : 'DbtrAgt';
  const txRef = escapeXml(reversal ? c.originalEntryRef! : c.entryRef);
  return (
    `<Ntry>${amt}<CdtDbtInd>${ind}</CdtDbtInd>${reversal ? '<RvslInd>true</RvslInd>' : ''}<Sts><Cd>BOOK</Cd></Sts>` +
    bookingDateXml(c.bookedAt, c.bookingDateOnly) +
    `<ValDt><Dt>${normalizeBankDate(c.valueDate, 'valueDate')}</Dt></ValDt>` +
    `<AcctSvcrRef>${ref}</AcctSvcrRef>` +
    bankTransactionCodeXml(c.bankTransactionCode ?? defaultBankTransactionCode(reversal ? 'debit' : 'credit', reversal)) +
    '<NtryDtls><TxDtls>' +
    `<Refs><AcctSvcrRef>${txRef}</AcctSvcrRef><EndToEndId>${c.endToEndId ? escapeXml(c.endToEndId) : 'NOTPROVIDED'}</EndToEndId></Refs>` +
    `${amt}<CdtDbtInd>${ind}</CdtDbtInd>` +
    `<RltdPties>${parties}</RltdPties>` +
    (c.debtor.bankCode ? `<RltdAgts><${agentTag}>${agentXml(c.debtor.bankCode)}</${agentTag}></RltdAgts>` : '') +
    (c.remittance?.trim() ? `<RmtInf><Ustrd>${isoText(c.remittance, isoRemittanceCharsMax)}</Ustrd></RmtInf>` : '') +
    (c.returnInfo ? returnInfoXml(c.returnInfo) : '') +
    '</TxDtls></NtryDtls></Ntry>'
  );
}

export function buildCamt054(n: {
  messageId: string;
  createdAt: Date;
  account: string;
  accountName?: string;
  credits: CreditEntry[];
  /** Credits taken back (see CreditNotification.reversals): written as DBIT entries with RvslInd. */
  reversals?: CreditEntry[];
}): string {
  assertId(n.messageId, 'messageId');
  assertAccount(n.account, 'account');
  const reversals = n.reversals ?? [];
  if (n.credits.length + reversals.length > notificationEntriesMax) throw new Error(`assertion: at most ${notificationEntriesMax} entries per notification`);
  const created = formatShanghaiDateTime(n.createdAt);
  const name = n.accountName?.trim() ? `<Nm>${isoText(n.accountName, isoAccountNameCharsMax)}</Nm>` : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="${camt054Namespace}"><BkToCstmrDbtCdtNtfctn>`,
    `<GrpHdr><MsgId>${escapeXml(n.messageId)}</MsgId><CreDtTm>${created}</CreDtTm></GrpHdr>`,
    `<Ntfctn><Id>${escapeXml(n.messageId)}</Id><CreDtTm>${created}</CreDtTm>`,
    `<Acct>${accountXml(n.account)}<Ccy>CNY</Ccy>${name}</Acct>`,
    ...n.credits.map((c) => entryXml(c, false)),
    ...reversals.map((c) => entryXml(c, true)),
    '</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n',
  ].join('');
}

/** The notified entry of a booking: the account it names (the virtual sub-account for a
 *  deposit; for a reversal, the one the credit went to) and the payer as its debtor. */
function notifiedEntry(b: CamtBooking & { entryRef: string; bookedAt: string }, notifiedAccount: string): CreditEntry {
  const returned = isReturnedPayment(b);
  const entry: CreditEntry = {
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
  if (b.counterparty.bankCode) entry.debtor.bankCode = b.counterparty.bankCode;
  if (b.remittance) entry.remittance = b.remittance;
  if (b.endToEndId) entry.endToEndId = b.endToEndId;
  if (b.bankTransactionCode) entry.bankTransactionCode = b.bankTransactionCode;
  if (b.bookingDateOnly) entry.bookingDateOnly = true;
  if (b.returnInfo) entry.returnInfo = b.returnInfo;
  if (b.reversal && !returned) {
    entry.reversal = true;
    if (b.originalEntryRef) entry.originalEntryRef = b.originalEntryRef;
  }
  return entry;
}

/** A payment of ours that came back: money received, whatever RvslInd says (see above). */
function isReturnedPayment(b: CamtBooking): boolean {
  return b.direction === 'credit' && b.returnInfo !== undefined;
}

/** Reads a notification with the statement's scanner (xmlStream.ts): each Ntry goes straight
 *  from the scanner's events into a flat record, and only the group header and each Ntfctn's
 *  account are built as trees. A notice of 10,000 credits is read inside its request, before
 *  its receipt is answered, so no tree of its 400,000 elements is built. */
export function parseCamt054(xml: string | Buffer): CreditNotification {
  let info: IsoMessageInfo | undefined;
  let groupHeader: XmlElement | undefined;
  let ntfctns = 0;
  let notifiedAccount: string | undefined;
  let ntryIndex = 0;
  const credits: CreditEntry[] = [];
  const reversals: CreditEntry[] = [];
  let ignored = 0;
  let seen = 0;
  const references = new EntryReferences();
  const requireAccount = () => {
    if (ntfctns > 0 && !notifiedAccount) throw new BankMessageInvalid('camt.054 Ntfctn: missing Acct/Id');
  };
  const entryReader = new CamtEntryReader((record) => {
    ntryIndex += 1;
    requireAccount();
    const where = `camt.054 entry ${ntryIndex}`;
    const bookings = bookingsOf(record, where, references);
    seen += bookings.length;
    if (seen > notificationEntriesMax) throw new BankMessageInvalid(`camt.054: more than ${notificationEntriesMax} entries`);
    for (const b of bookings) {
      // An entry of zero moves no money: nothing to credit or take back.
      if (b.amountFen === 0n || b.direction !== 'credit' || b.status !== 'BOOK' || (b.reversal && !isReturnedPayment(b))) {
        ignored += 1;
        // Listed only when it can be acted on; one without a reference or a date stays just
        // ignored, as every reversal was before they were listed.
        if (b.amountFen > 0n && b.direction === 'debit' && b.status === 'BOOK' && b.reversal && b.entryRef && b.bookedAt) {
          reversals.push(notifiedEntry({ ...b, entryRef: b.entryRef, bookedAt: b.bookedAt }, notifiedAccount!));
        }
        continue;
      }
      if (!b.entryRef) throw new BankMessageInvalid(`${where}: a booked credit without any reference (AcctSvcrRef, NtryRef, UETR, EndToEndId)`);
      if (!b.bookedAt) throw new BankMessageInvalid(`${where}: a booked credit without BookgDt`);
      credits.push(notifiedEntry({ ...b, entryRef: b.entryRef, bookedAt: b.bookedAt }, notifiedAccount!));
    }
  });
  scanXml(xml, {
    collect: (path, loc) => {
      const n = path.length;
      if (!info) {
        if (n >= 2 && path[n - 2] === 'Document') {
          info = identifyMessage(loc);
          if (info?.type !== 'camt.054') throw new BankMessageInvalid(`expected camt.054, got ${info?.type ?? path[n - 1]}`);
        }
        return false;
      }
      if (n < 3 || path[n - 3] !== 'Document') {
        if (n >= 4 && path[n - 2] === 'Ntfctn' && path[n - 4] === 'Document') {
          if (path[n - 1] === 'Acct') return true;
          if (path[n - 1] === 'Ntry') return entryReader;
        }
        return false;
      }
      // A child of the message root.
      if (path[n - 1] === 'GrpHdr') return groupHeader === undefined;
      if (path[n - 1] === 'Ntfctn') {
        requireAccount();
        ntfctns += 1;
        notifiedAccount = undefined;
        ntryIndex = 0;
      }
      return false;
    },
    onElement: (el) => {
      if (el.name === 'GrpHdr') groupHeader = el;
      else if (el.name === 'Acct' && notifiedAccount === undefined) notifiedAccount = readAccount(el);
    },
  });
  if (!info) throw new BankMessageInvalid('expected an ISO 20022 camt.054 Document');
  const messageId = requireText(groupHeader, 'camt.054 GrpHdr', 'MsgId');
  if (ntfctns === 0) throw new BankMessageInvalid('camt.054: no Ntfctn');
  requireAccount();
  return oneEntryPerReference(reversals.length ? { messageId, credits, ignored, reversals } : { messageId, credits, ignored }, 'camt.054');
}

/** Every booking of a notification, credits and the rest alike (for tests and diagnostics). */
export function readCamt054Bookings(xml: string | Buffer): { messageId: string; bookings: ReturnType<typeof readCamtEntry> } {
  const root = parseXmlTree(xml);
  const { message } = identifyTree(root, 'camt.054');
  const messageId = requireText(child(message, 'GrpHdr'), 'camt.054 GrpHdr', 'MsgId');
  const references = new EntryReferences();
  const bookings = childrenNamed(message, 'Ntfctn').flatMap((n) =>
    childrenNamed(n, 'Ntry').flatMap((ntry, i) => readCamtEntry(ntry, `camt.054 entry ${i + 1}`, references)),
  );
  if (bookings.length > notificationEntriesMax) throw new BankMessageInvalid(`camt.054: more than ${notificationEntriesMax} entries`);
  return { messageId, bookings };
}
