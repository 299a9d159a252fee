// camt.053 bank-to-customer statement: the day's bookings on an account, the basis of the
// daily reconciliation. A busy trust account books 100,000 entries a day, so both sides
// stream: the builder yields chunks (never one giant string) and the parser hands over one
// entry at a time with bounded memory, reading no further input until the consumer is done.
//
// Read: every version from .001.02 to the current one, by its namespace (xmlIsoMessage.ts,
// camtVersionsRead); opening balance OPBD (or PRCD, the previous day's closing, which
// some banks send instead), closing CLBD, each signed by its CdtDbtInd; ElctrncSeqNb, else
// LglSeqNb; entries in both directions with their reversal indicator (and the reference of the
// booking a reversal undoes), bank transaction code and return information (a payment of ours
// that came back keeps the bank's RvslInd here: a statement line is what the bank booked). Only booked entries are
// delivered (Sts BOOK, or no status at all): pending and informational lines do not move the
// balance and must not be reconciled as if they had.
import type { Readable } from 'node:stream';
import type { StatementEntry, StatementHeader, StatementSummary } from '../types';
import { BankMessageInvalid } from '../types';
import { formatAmount } from '../../domain/money';
import { statementEntriesMax } from '../xmlLimits';
import { child, textAt, type XmlElement } from '../xmlRead';
import { identifyMessage, type IsoMessageInfo } from '../xmlIsoMessage';
import { streamXml } from '../xmlStream';
import { escapeXml } from '../xmlWrite';
import { accountXml, agentXml, assertAccount, assertId, isoNameCharsMax, isoRemittanceCharsMax, isoText, namespaceOf, readAccount, readAmount } from './common';
import { bookingsOf, CamtEntryReader, EntryReferences, type CamtEntryRecord } from './camtEntry';
import { bankTransactionCodeXml, bookingDateXml, defaultBankTransactionCode, returnInfoXml } from './camtWrite';
import { formatShanghaiDateTime, normalizeBankDate, normalizeBankDateTime, shanghaiParts, startOfShanghaiDay } from './time';

export const camt053Namespace = namespaceOf('camt.053.001.08');
/** Entries per yielded chunk: large enough that chunk overhead is negligible, small enough
 *  that a chunk is a few hundred KiB at most. */
export const camt053EntriesPerChunk = 200;

function balanceXml(code: 'OPBD' | 'CLBD', fen: bigint, currency: string, date: string): string {
  const abs = fen < 0n ? -fen : fen;
  return (
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${escapeXml(currency)}">${formatAmount(abs)}</Amt>` +
    `<CdtDbtInd>${fen < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>`
  );
}

function party(tag: 'Dbtr' | 'Cdtr', name: string | undefined): string {
  return name?.trim() ? `<${tag}><Pty><Nm>${isoText(name, isoNameCharsMax)}</Nm></Pty></${tag}>` : '';
}

function entryXml(e: StatementEntry, statementAccount: string): string {
  assertId(e.entryRef, 'entryRef');
  if (e.amountFen <= 0n) throw new Error(`assertion: statement entry ${e.entryRef} must be positive`);
  if (e.endToEndId) assertId(e.endToEndId, 'endToEndId');
  const credit = e.direction === 'credit';
  const ind = credit ? 'CRDT' : 'DBIT';
  const amt = `<Amt Ccy="${escapeXml(e.currency)}">${formatAmount(e.amountFen)}</Amt>`;
  const ref = escapeXml(e.entryRef);
  const own = e.account ?? statementAccount;
  assertAccount(own, `account of ${e.entryRef}`);
  const cp = e.counterparty;
  if (cp.accountNumber) assertAccount(cp.accountNumber, `counterparty account of ${e.entryRef}`);
  // Schema order in TransactionParties6: Dbtr, DbtrAcct, ..., Cdtr, CdtrAcct.
  const parties = credit
    ? party('Dbtr', cp.name) + (cp.accountNumber ? `<DbtrAcct>${accountXml(cp.accountNumber)}</DbtrAcct>` : '') + `<CdtrAcct>${accountXml(own)}</CdtrAcct>`
    : `<DbtrAcct>${accountXml(own)}</DbtrAcct>` + party('Cdtr', cp.name) + (cp.accountNumber ? `<CdtrAcct>${accountXml(cp.accountNumber)}</CdtrAcct>` : '');
  const agents = cp.bankCode ? `<RltdAgts><${credit ? 'DbtrAgt' : 'CdtrAgt'}>${agentXml(cp.bankCode)}</${credit ? 'DbtrAgt' : 'CdtrAgt'}></RltdAgts>` : '';
  // A reversal carries the references of the booking it undoes in TxDtls/Refs, as its
  // notification did, while the entry keeps its own AcctSvcrRef: no reference repeats in a
  // statement (a repeat reads as a duplicate line).
  if (e.originalEntryRef) assertId(e.originalEntryRef, 'originalEntryRef');
  const txRef = escapeXml(e.reversal && e.originalEntryRef ? e.originalEntryRef : e.entryRef);
  return (
    `<Ntry>${amt}<CdtDbtInd>${ind}</CdtDbtInd>${e.reversal ? '<RvslInd>true</RvslInd>' : ''}<Sts><Cd>BOOK</Cd></Sts>` +
    bookingDateXml(e.bookedAt, e.bookingDateOnly) +
    `<ValDt><Dt>${normalizeBankDate(e.valueDate, 'valueDate')}</Dt></ValDt><AcctSvcrRef>${ref}</AcctSvcrRef>` +
    bankTransactionCodeXml(e.bankTransactionCode ?? defaultBankTransactionCode(e.direction, e.reversal)) +
    `<NtryDtls><TxDtls><Refs><AcctSvcrRef>${txRef}</AcctSvcrRef>${e.endToEndId ? `<EndToEndId>${escapeXml(e.endToEndId)}</EndToEndId>` : ''}</Refs>` +
    `${amt}<CdtDbtInd>${ind}</CdtDbtInd><RltdPties>${parties}</RltdPties>${agents}` +
    (e.remittance?.trim() ? `<RmtInf><Ustrd>${isoText(e.remittance, isoRemittanceCharsMax)}</Ustrd></RmtInf>` : '') +
    (e.returnInfo ? returnInfoXml(e.returnInfo) : '') +
    '</TxDtls></NtryDtls></Ntry>'
  );
}

/** Yields a camt.053.001.08 document in pieces. The entries may be a lazy iterable (a cursor):
 *  they are read once, in order, and never held all at once. */
export function* camt053Chunks(header: StatementHeader & { createdAt: Date }, entries: Iterable<StatementEntry>): Generator<string> {
  assertId(header.messageId, 'messageId');
  assertId(header.statementId, 'statementId');
  assertAccount(header.account, 'account');
  const date = normalizeBankDate(header.date, 'date');
  if (header.sequenceNumber !== undefined && !/^\d{1,18}$/.test(header.sequenceNumber)) {
    // ElctrncSeqNb is an 18-digit xs:decimal in the schema.
    throw new Error(`assertion: sequenceNumber must be 1 to 18 digits, got ${JSON.stringify(header.sequenceNumber)}`);
  }
  const created = formatShanghaiDateTime(header.createdAt);
  yield '<?xml version="1.0" encoding="UTF-8"?>' +
    `<Document xmlns="${camt053Namespace}"><BkToCstmrStmt>` +
    `<GrpHdr><MsgId>${escapeXml(header.messageId)}</MsgId><CreDtTm>${created}</CreDtTm></GrpHdr>` +
    `<Stmt><Id>${escapeXml(header.statementId)}</Id>` +
    (header.sequenceNumber !== undefined ? `<ElctrncSeqNb>${header.sequenceNumber}</ElctrncSeqNb>` : '') +
    `<CreDtTm>${created}</CreDtTm>` +
    `<FrToDt><FrDtTm>${date}T00:00:00+08:00</FrDtTm><ToDtTm>${date}T23:59:59+08:00</ToDtTm></FrToDt>` +
    `<Acct>${accountXml(header.account)}<Ccy>${escapeXml(header.currency)}</Ccy></Acct>` +
    balanceXml('OPBD', header.openingBalanceFen, header.currency, date) +
    balanceXml('CLBD', header.closingBalanceFen, header.currency, date);
  let buffer: string[] = [];
  let count = 0;
  for (const e of entries) {
    count += 1;
    if (count > statementEntriesMax) throw new Error(`assertion: at most ${statementEntriesMax} statement entries`);
    buffer.push(entryXml(e, header.account));
    if (buffer.length >= camt053EntriesPerChunk) {
      yield buffer.join('');
      buffer = [];
    }
  }
  if (buffer.length) yield buffer.join('');
  yield '</Stmt></BkToCstmrStmt></Document>\n';
}

interface Balance {
  code: string;
  fen: bigint;
  currency: string;
  date?: string;
}

function readBalance(bal: XmlElement): Balance {
  const code = textAt(bal, 'Tp', 'CdOrPrtry', 'Cd') ?? textAt(bal, 'Tp', 'CdOrPrtry', 'Prtry') ?? '';
  const { amountFen, currency } = readAmount(child(bal, 'Amt'), `camt.053 balance ${code}`);
  const ind = textAt(bal, 'CdtDbtInd');
  if (ind !== 'CRDT' && ind !== 'DBIT') throw new BankMessageInvalid(`camt.053 balance ${code}: CdtDbtInd ${JSON.stringify(ind ?? '')}`);
  const b: Balance = { code, fen: ind === 'DBIT' ? -amountFen : amountFen, currency };
  const date = textAt(bal, 'Dt', 'Dt') ?? textAt(bal, 'Dt', 'DtTm');
  if (date) b.date = date.slice(0, 10);
  return b;
}

/** Streams a statement. Accepts a stream, a Buffer or a string; resolves with the header and
 *  totals once the document has been read to its end (a truncated document is rejected, so a
 *  cut connection never passes as a short statement). */
export async function parseCamt053Stream(
  input: Readable | NodeJS.ReadableStream | Buffer | string,
  onEntry: (e: StatementEntry) => void | Promise<void>,
): Promise<StatementSummary> {
  let info: IsoMessageInfo | undefined;
  let messageId: string | undefined;
  let statementId: string | undefined;
  let statements = 0;
  let electronicSeq: string | undefined;
  let legalSeq: string | undefined;
  let account: string | undefined;
  let accountCurrency: string | undefined;
  let fromDate: string | undefined;
  let createdDate: string | undefined;
  const balances: Balance[] = [];
  let ntryIndex = 0;
  let entryCount = 0;
  let creditTotalFen = 0n;
  let debitTotalFen = 0n;
  const references = new EntryReferences();

  // Each entry goes straight from the parser's events into a flat record (camtEntry.ts):
  // no tree is built for the 100,000 entries of a busy day, only for the few header elements.
  // Synchronous while the consumer is (a promise only when it returns one): see streamXml.
  const onEntryRecord = (record: CamtEntryRecord): void | Promise<void> => {
    ntryIndex += 1;
    const where = `camt.053 entry ${ntryIndex}`;
    const bookings = bookingsOf(record, where, references);
    return deliver(bookings, 0, where);
  };
  const deliver = (bookings: ReturnType<typeof bookingsOf>, from: number, where: string): void | Promise<void> => {
    for (let i = from; i < bookings.length; i++) {
      const b = bookings[i];
      // Pending and informational lines do not move the balance; nor does a line of zero.
      if ((b.status !== '' && b.status !== 'BOOK') || b.amountFen === 0n) continue;
      entryCount += 1;
      if (entryCount > statementEntriesMax) throw new BankMessageInvalid(`camt.053: more than ${statementEntriesMax} entries`);
      const bookedAt = b.bookedAt ?? (b.valueDate ? startOfShanghaiDay(b.valueDate, `${where} ValDt`) : undefined);
      if (!bookedAt) throw new BankMessageInvalid(`${where}: neither BookgDt nor ValDt`);
      // A line dated by its value date alone was booked at a time the bank does not give:
      // like a date-only BookgDt, its bookedAt must not decide a deadline to the minute.
      const dateOnly = b.bookingDateOnly === true || b.bookedAt === undefined;
      const entry: StatementEntry = {
        // A statement line without any reference still needs a stable one: its position
        // in this statement. Such lines cannot be matched to a notification.
        entryRef: b.entryRef ?? `${statementId ?? messageId ?? 'STMT'}/${ntryIndex}${i ? `/${i + 1}` : ''}`,
        direction: b.direction,
        amountFen: b.amountFen,
        currency: b.currency,
        bookedAt,
        valueDate: b.valueDate ?? shanghaiParts(new Date(bookedAt)).date,
        counterparty: b.counterparty,
        reversal: b.reversal,
      };
      const acct = b.ownAccount ?? account;
      if (acct) entry.account = acct;
      if (b.endToEndId) entry.endToEndId = b.endToEndId;
      if (b.remittance) entry.remittance = b.remittance;
      if (b.bankTransactionCode) entry.bankTransactionCode = b.bankTransactionCode;
      if (dateOnly) entry.bookingDateOnly = true;
      if (b.originalEntryRef) entry.originalEntryRef = b.originalEntryRef;
      if (b.returnInfo) entry.returnInfo = b.returnInfo;
      if (b.direction === 'credit') creditTotalFen += b.amountFen;
      else debitTotalFen += b.amountFen;
      const taken = onEntry(entry);
      if (taken !== undefined) return taken.then(() => deliver(bookings, i + 1, where));
    }
  };
  const entryReader = new CamtEntryReader(onEntryRecord);

  const stmtChildren = new Set(['Id', 'ElctrncSeqNb', 'LglSeqNb', 'CreDtTm', 'FrToDt', 'Acct', 'Bal']);
  await streamXml(input, {
    collect: (path, loc) => {
      const n = path.length;
      if (n >= 2 && path[n - 2] === 'Document') {
        info = identifyMessage(loc);
        if (info?.type !== 'camt.053') throw new BankMessageInvalid(`expected camt.053, got ${info?.type ?? path[n - 1]}`);
        return false;
      }
      if (!info) return false;
      if (n >= 2 && path[n - 2] === 'BkToCstmrStmt') {
        if (path[n - 1] === 'Stmt') {
          statements += 1;
          if (statements > 1) throw new BankMessageInvalid('camt.053: one statement (Stmt) per document expected');
        }
        return path[n - 1] === 'GrpHdr';
      }
      if (!(n >= 3 && path[n - 2] === 'Stmt' && path[n - 3] === 'BkToCstmrStmt')) return false;
      if (path[n - 1] === 'Ntry') return entryReader;
      return stmtChildren.has(path[n - 1]);
    },
    onElement: (el) => {
      switch (el.name) {
        case 'GrpHdr':
          messageId = textAt(el, 'MsgId');
          return;
        case 'Id':
          statementId = textAt(el);
          return;
        case 'ElctrncSeqNb':
          electronicSeq = textAt(el);
          return;
        case 'LglSeqNb':
          legalSeq = textAt(el);
          return;
        case 'CreDtTm': {
          const t = textAt(el);
          if (t) createdDate = shanghaiParts(new Date(normalizeBankDateTime(t, 'Stmt/CreDtTm'))).date;
          return;
        }
        case 'FrToDt': {
          const t = textAt(el, 'FrDtTm');
          if (t) fromDate = shanghaiParts(new Date(normalizeBankDateTime(t, 'Stmt/FrToDt/FrDtTm'))).date;
          return;
        }
        case 'Acct':
          account = readAccount(el);
          accountCurrency = textAt(el, 'Ccy');
          return;
        case 'Bal':
          balances.push(readBalance(el));
          return;
      }
    },
  });
  if (!info) throw new BankMessageInvalid('camt.053: no BkToCstmrStmt message found');
  if (!messageId) throw new BankMessageInvalid('camt.053: missing GrpHdr/MsgId');
  if (!statementId) throw new BankMessageInvalid('camt.053: missing Stmt/Id');
  if (!account) throw new BankMessageInvalid('camt.053: missing Stmt/Acct/Id');
  const opening = balances.find((b) => b.code === 'OPBD') ?? balances.find((b) => b.code === 'PRCD');
  const closing = balances.find((b) => b.code === 'CLBD');
  if (!opening) throw new BankMessageInvalid('camt.053: no opening balance (OPBD or PRCD)');
  if (!closing) throw new BankMessageInvalid('camt.053: no closing balance (CLBD)');
  const date = closing.date ?? fromDate ?? createdDate;
  if (!date) throw new BankMessageInvalid('camt.053: no date for the statement');
  const summary: StatementSummary = {
    messageId,
    statementId,
    account,
    currency: accountCurrency ?? closing.currency,
    date: normalizeBankDate(date, 'statement date'),
    openingBalanceFen: opening.fen,
    closingBalanceFen: closing.fen,
    entryCount,
    creditTotalFen,
    debitTotalFen,
  };
  const seq = electronicSeq ?? legalSeq;
  if (seq) summary.sequenceNumber = seq;
  return summary;
}
