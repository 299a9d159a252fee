// One camt entry (Ntry) read into per-transaction bookings, shared by camt.054 (notification)
// and camt.053 (statement) so both derive the same reference for the same booking: the
// reconciliation de-duplicates notified credits against the statement on that reference.
//
// An entry may batch several transactions (NtryDtls/TxDtls). When every transaction carries
// its own amount, each is its own booking with its own reference; otherwise the entry is one
// booking for the entry amount. With a single transaction the entry amount is what was booked
// (the transaction amount may be the instructed amount before charges, or another currency).
//
// Reference, first present of:
//   single transaction: Ntry/AcctSvcrRef, TxDtls/Refs/AcctSvcrRef, Ntry/NtryRef, Refs/UETR,
//                       Refs/EndToEndId (unless NOTPROVIDED)
//   several:            TxDtls/Refs/AcctSvcrRef (unless another transaction of the entry, or the
//                       entry itself, has the same), then "<Ntry/AcctSvcrRef or NtryRef>/<n>"
//                       (n = 1-based position), then UETR, then EndToEndId
// The bank's AcctSvcrRef comes first because it is unique per booking at that bank, while an
// EndToEndId is the payer's and is often NOTPROVIDED or repeated.
//
// Some banks book a batch under one AcctSvcrRef and number its entries in NtryRef. Within one
// message, an entry whose AcctSvcrRef an earlier entry carried under another NtryRef is another
// booking, not a repeat: its AcctSvcrRef stands as "<AcctSvcrRef>/<NtryRef>" (EntryReferences),
// in notifications and statements alike, so the two never share a reference and the second is
// neither dropped as the first sent again nor booked under its name. The same AcctSvcrRef under
// the same NtryRef, or where either entry has none (a NtryRef on one says nothing of the other),
// stays one reference, and what it names is compared by content (uniqueEntries.ts for notices,
// reconciliation for statements). The reference of the booking a reversal undoes is the
// AcctSvcrRef as the bank gave it.
//
// A reversal (RvslInd true) names the booking it undoes by the original's references. Banks put
// them in TxDtls/Refs while the entry keeps its own AcctSvcrRef (what the sandbox writes, so a
// statement never repeats a reference), or repeat them at entry level; the original's
// reference is therefore TxDtls/Refs/AcctSvcrRef, else the entry's AcctSvcrRef, else NtryRef.
//
// A payment of ours that came back carries returnInfo (see returnInfoOf), whether the bank books
// it as a plain credit or as the reversal of our debit.
//
// An entry is read in two steps: its fields are collected into a flat record (CamtEntryRecord,
// by the paths in entryPaths), then the bookings are derived from the record. A statement of
// 100,000 entries is read straight from the parser's events into records (CamtEntryReader)
// without a tree per entry; a notification, read whole, feeds its tree through the same
// reader, so both read exactly the same elements the same way: the first element of a name
// where one is read (as xmlRead's `child` does), every one where several are (TxDtls, Ustrd,
// AddtlInf).
import { BankMessageInvalid, type ReturnInfo } from '../types';
import type { XmlElement } from '../xmlRead';
import type { XmlSubtreeReader } from '../xmlStream';
import { amountOfText } from './common';
import { normalizeBankDate, normalizeBankDateTime, shanghaiDateOf, startOfShanghaiDay } from './time';

export interface CamtBooking {
  entryRef?: string;
  direction: 'credit' | 'debit';
  /** Sts/Cd (.08) or Sts (.02) as written: BOOK, PDNG, INFO... */
  status: string;
  reversal: boolean;
  amountFen: bigint;
  currency: string;
  bookedAt?: string;
  valueDate?: string;
  endToEndId?: string;
  /** For a credit the account the payer addressed (CdtrAcct), for a debit the account paid
   *  from (DbtrAcct), when the transaction names one. */
  ownAccount?: string;
  counterparty: { name?: string; accountNumber?: string; bankCode?: string };
  remittance?: string;
  /** "Domain/Family/SubFamily" from BkTxCd/Domn (the transaction's own, else the entry's). */
  bankTransactionCode?: string;
  /** BookgDt carried a date without a time. */
  bookingDateOnly?: boolean;
  /** On a reversal: the reference of the booking it undoes. */
  originalEntryRef?: string;
  /** TxDtls/RtrInf: the payment came back. */
  returnInfo?: ReturnInfo;
}

// ------------------------------------------------------------------------------------------
// The record: each field the text of an element as written (undefined when the element is
// absent, '' when it is empty), or of an attribute, or a flag.

type Text = string | undefined;

/** One TxDtls. */
export class CamtTxRecord {
  amt: Text = undefined;
  amtCcy: Text = undefined;
  txAmt: Text = undefined;
  txAmtCcy: Text = undefined;
  cdtDbtInd: Text = undefined;
  acctSvcrRef: Text = undefined;
  endToEndId: Text = undefined;
  uetr: Text = undefined;
  domain: Text = undefined;
  family: Text = undefined;
  subFamily: Text = undefined;
  ustrd: string[] = [];
  rtrInf: Text = undefined;
  rtrRsnCd: Text = undefined;
  rtrRsnPrtry: Text = undefined;
  rtrAddtlInf: string[] = [];
  dbtrPtyNm: Text = undefined;
  dbtrNm: Text = undefined;
  dbtrAgtNm: Text = undefined;
  cdtrPtyNm: Text = undefined;
  cdtrNm: Text = undefined;
  cdtrAgtNm: Text = undefined;
  dbtrAcctOthr: Text = undefined;
  dbtrAcctIban: Text = undefined;
  cdtrAcctOthr: Text = undefined;
  cdtrAcctIban: Text = undefined;
  dbtrAgtMmbId: Text = undefined;
  dbtrAgtBicfi: Text = undefined;
  dbtrAgtBic: Text = undefined;
  cdtrAgtMmbId: Text = undefined;
  cdtrAgtBicfi: Text = undefined;
  cdtrAgtBic: Text = undefined;
}

/** One Ntry. */
export class CamtEntryRecord {
  amt: Text = undefined;
  amtCcy: Text = undefined;
  cdtDbtInd: Text = undefined;
  sts: Text = undefined;
  stsCd: Text = undefined;
  stsPrtry: Text = undefined;
  rvslInd: Text = undefined;
  bookg: Text = undefined;
  bookgHasChildren = false;
  bookgDtTm: Text = undefined;
  bookgDt: Text = undefined;
  val: Text = undefined;
  valHasChildren = false;
  valDtTm: Text = undefined;
  valDt: Text = undefined;
  acctSvcrRef: Text = undefined;
  ntryRef: Text = undefined;
  domain: Text = undefined;
  family: Text = undefined;
  subFamily: Text = undefined;
  txs: CamtTxRecord[] = [];
}

/** Where each field is, under Ntry or under TxDtls: `a/b` the first b of the first a, `b[]`
 *  every b, `@Ccy` an attribute, `*` whether the element has any child element. */
const entryPaths: Record<string, string> = {
  amt: 'Amt',
  amtCcy: 'Amt@Ccy',
  cdtDbtInd: 'CdtDbtInd',
  sts: 'Sts',
  stsCd: 'Sts/Cd',
  stsPrtry: 'Sts/Prtry',
  rvslInd: 'RvslInd',
  bookg: 'BookgDt',
  bookgHasChildren: 'BookgDt/*',
  bookgDtTm: 'BookgDt/DtTm',
  bookgDt: 'BookgDt/Dt',
  val: 'ValDt',
  valHasChildren: 'ValDt/*',
  valDtTm: 'ValDt/DtTm',
  valDt: 'ValDt/Dt',
  acctSvcrRef: 'AcctSvcrRef',
  ntryRef: 'NtryRef',
  domain: 'BkTxCd/Domn/Cd',
  family: 'BkTxCd/Domn/Fmly/Cd',
  subFamily: 'BkTxCd/Domn/Fmly/SubFmlyCd',
};
const txPaths: Record<string, string> = {
  amt: 'Amt',
  amtCcy: 'Amt@Ccy',
  txAmt: 'AmtDtls/TxAmt/Amt',
  txAmtCcy: 'AmtDtls/TxAmt/Amt@Ccy',
  cdtDbtInd: 'CdtDbtInd',
  acctSvcrRef: 'Refs/AcctSvcrRef',
  endToEndId: 'Refs/EndToEndId',
  uetr: 'Refs/UETR',
  domain: 'BkTxCd/Domn/Cd',
  family: 'BkTxCd/Domn/Fmly/Cd',
  subFamily: 'BkTxCd/Domn/Fmly/SubFmlyCd',
  ustrd: 'RmtInf/Ustrd[]',
  rtrInf: 'RtrInf',
  rtrRsnCd: 'RtrInf/Rsn/Cd',
  rtrRsnPrtry: 'RtrInf/Rsn/Prtry',
  rtrAddtlInf: 'RtrInf/AddtlInf[]',
  dbtrPtyNm: 'RltdPties/Dbtr/Pty/Nm',
  dbtrNm: 'RltdPties/Dbtr/Nm',
  dbtrAgtNm: 'RltdPties/Dbtr/Agt/FinInstnId/Nm',
  cdtrPtyNm: 'RltdPties/Cdtr/Pty/Nm',
  cdtrNm: 'RltdPties/Cdtr/Nm',
  cdtrAgtNm: 'RltdPties/Cdtr/Agt/FinInstnId/Nm',
  dbtrAcctOthr: 'RltdPties/DbtrAcct/Id/Othr/Id',
  dbtrAcctIban: 'RltdPties/DbtrAcct/Id/IBAN',
  cdtrAcctOthr: 'RltdPties/CdtrAcct/Id/Othr/Id',
  cdtrAcctIban: 'RltdPties/CdtrAcct/Id/IBAN',
  dbtrAgtMmbId: 'RltdAgts/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId',
  dbtrAgtBicfi: 'RltdAgts/DbtrAgt/FinInstnId/BICFI',
  dbtrAgtBic: 'RltdAgts/DbtrAgt/FinInstnId/BIC',
  cdtrAgtMmbId: 'RltdAgts/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId',
  cdtrAgtBicfi: 'RltdAgts/CdtrAgt/FinInstnId/BICFI',
  cdtrAgtBic: 'RltdAgts/CdtrAgt/FinInstnId/BIC',
};
/** The transactions of an entry. */
const txPath = 'NtryDtls[]/TxDtls[]';

interface PathNode {
  children: Map<string, PathNode>;
  /** The children's names and nodes side by side: a few names compared beat hashing each
   *  name of 4 million elements. */
  childNames: string[];
  childNodes: PathNode[];
  /** This node's bit among its siblings: only the first element of a name is read. */
  bit: number;
  /** Every element of this name is read (a list), not only the first. */
  every: boolean;
  /** Field receiving the element's text (a list field for `every`). */
  text?: string;
  /** Attribute (by local name) and the field receiving it. */
  attr?: [string, string];
  /** Field set when the element has a child element. */
  hasChildren?: string;
  /** Opens a new transaction record (TxDtls). */
  tx: boolean;
  /** Fields go to the transaction record, not the entry's. */
  inTx: boolean;
}

function newNode(inTx: boolean): PathNode {
  return { children: new Map(), childNames: [], childNodes: [], bit: 0, every: false, tx: false, inTx };
}

function nodeAt(root: PathNode, steps: string[], inTx: boolean): PathNode {
  let node = root;
  for (const raw of steps) {
    const every = raw.endsWith('[]');
    const name = every ? raw.slice(0, -2) : raw;
    let next = node.children.get(name);
    if (!next) {
      next = newNode(inTx);
      next.every = every;
      next.bit = 1 << node.children.size;
      if (node.children.size >= 30) throw new Error('assertion: too many fields under one element');
      node.children.set(name, next);
      node.childNames.push(name);
      node.childNodes.push(next);
    }
    node = next;
  }
  return node;
}

function addPaths(root: PathNode, paths: Record<string, string>, inTx: boolean): void {
  for (const [field, path] of Object.entries(paths)) {
    const [elementPath, attr] = path.split('@');
    const steps = elementPath.split('/');
    if (steps[steps.length - 1] === '*') {
      nodeAt(root, steps.slice(0, -1), inTx).hasChildren = field;
      continue;
    }
    const node = nodeAt(root, steps, inTx);
    if (attr) node.attr = [attr, field];
    else node.text = field;
  }
}

const entryTree: PathNode = newNode(false);
addPaths(entryTree, entryPaths, false);
const txNode = nodeAt(entryTree, txPath.split('/'), true);
txNode.tx = true;
addPaths(txNode, txPaths, true);

/** An attribute by local name as xmlRead keeps them: the unqualified one (ISO 20022's
 *  attributes have no namespace), else the last prefixed one of that local name. */
function attributeByLocalName(attrs: Record<string, string>, name: string): string | undefined {
  const own = attrs[name];
  if (own !== undefined && Object.hasOwn(attrs, name)) return own;
  let value: string | undefined;
  for (const k in attrs) {
    // localName, spelled out: an imported function is reached through a getter per call under
    // tsx, and this runs for every amount of a statement.
    const colon = k.indexOf(':');
    if (colon !== -1 && !k.startsWith('xmlns') && k.slice(colon + 1) === name) value = attrs[k];
  }
  return value;
}

type Fields = Record<string, unknown>;

/** Collects one Ntry into a CamtEntryRecord from the events inside it; reused entry after
 *  entry (see XmlSubtreeReader). */
export class CamtEntryReader implements XmlSubtreeReader {
  private record = new CamtEntryRecord();
  private tx: CamtTxRecord | undefined;
  private readonly nodes: (PathNode | undefined)[] = [entryTree];
  private readonly seen: number[] = [0];

  constructor(private readonly onRecord: (record: CamtEntryRecord) => void | Promise<void>) {}

  begin(): void {
    this.record = new CamtEntryRecord();
    this.tx = undefined;
    this.seen[0] = 0;
  }

  open(name: string, attrs: Record<string, string> | undefined, depth: number): void {
    const parent = this.nodes[depth - 1];
    let node: PathNode | undefined;
    if (parent) {
      if (parent.hasChildren) this.fieldsOf(parent)[parent.hasChildren] = true;
      const names = parent.childNames;
      let candidate: PathNode | undefined;
      for (let i = 0; i < names.length; i++) {
        if (names[i] === name) {
          candidate = parent.childNodes[i];
          break;
        }
      }
      if (candidate && (candidate.every || (this.seen[depth - 1] & candidate.bit) === 0)) {
        this.seen[depth - 1] |= candidate.bit;
        node = candidate;
      }
    }
    this.nodes[depth] = node;
    this.seen[depth] = 0;
    if (!node) return;
    if (node.tx) {
      this.tx = new CamtTxRecord();
      this.record.txs.push(this.tx);
    }
    const fields = this.fieldsOf(node);
    if (node.text) {
      if (node.every) (fields[node.text] as string[]).push('');
      else fields[node.text] = '';
    }
    if (node.attr) fields[node.attr[1]] = attrs ? attributeByLocalName(attrs, node.attr[0]) : undefined;
  }

  text(text: string, depth: number): void {
    const node = this.nodes[depth];
    if (!node?.text) return;
    const fields = this.fieldsOf(node);
    if (node.every) {
      const list = fields[node.text] as string[];
      list[list.length - 1] += text;
    } else fields[node.text] += text;
  }

  close(): void {}

  finish(): () => void | Promise<void> {
    const record = this.record;
    return () => this.onRecord(record);
  }

  private fieldsOf(node: PathNode): Fields {
    return (node.inTx ? this.tx! : this.record) as unknown as Fields;
  }
}

/** The record of an Ntry read whole (notifications), through the same reader. */
export function recordOfTree(ntry: XmlElement): CamtEntryRecord {
  let out: CamtEntryRecord | undefined;
  const reader = new CamtEntryReader((r) => {
    out = r;
  });
  const walk = (el: XmlElement, depth: number) => {
    if (el.text !== '') reader.text(el.text, depth);
    for (const c of el.children) {
      reader.open(c.name, c.attrs, depth + 1);
      walk(c, depth + 1);
      reader.close();
    }
  };
  reader.begin();
  walk(ntry, 0);
  void reader.finish()();
  return out!;
}

// ------------------------------------------------------------------------------------------
// Bookings from the record

/** As xmlRead's textAt: trimmed, undefined when absent or empty. */
function txt(v: Text): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function direction(code: string | undefined, where: string): 'credit' | 'debit' {
  if (code === 'CRDT') return 'credit';
  if (code === 'DBIT') return 'debit';
  throw new BankMessageInvalid(`${where}: CdtDbtInd ${JSON.stringify(code ?? '')} is neither CRDT nor DBIT`);
}

function readDateChoice(present: Text, hasChildren: boolean, dtTmText: Text, dtText: Text, what: string): { at?: string; date?: string; dateOnly?: boolean } {
  if (present === undefined) return {};
  const dtTm = txt(dtTmText);
  if (dtTm) {
    const at = normalizeBankDateTime(dtTm, what);
    return { at, date: shanghaiDateOf(at, what) };
  }
  const dt = txt(dtText) ?? (!hasChildren ? txt(present) : undefined);
  if (dt) {
    // Some banks write Dt with an offset ("2025-02-28+08:00"), which xs:date allows.
    const date = normalizeBankDate(dt.slice(0, 10), what);
    return { at: startOfShanghaiDay(date, what), date, dateOnly: true };
  }
  return {};
}

/** BkTxCd/Domn as "PMNT/RCDT/DMCT"; a proprietary code alone says nothing we could compare. */
function bankTransactionCodeOf(r: { domain: Text; family: Text; subFamily: Text } | undefined): string | undefined {
  const domain = txt(r?.domain);
  const family = txt(r?.family);
  const subFamily = txt(r?.subFamily);
  return domain && family && subFamily ? `${domain}/${family}/${subFamily}` : undefined;
}

/** The bank transaction code of a payment of ours that came back (ISO: "Issued Credit
 *  Transfers / Reversal due to payment return"). */
export const returnedPaymentCode = 'PMNT/ICDT/RRTN';

/** A payment of ours that came back (退汇), as banks encode it: a credit with TxDtls/RtrInf
 *  (reason in Rsn/Cd or Rsn/Prtry), often marked as the reversal of our debit (CRDT with
 *  RvslInd true) and coded PMNT/ICDT/RRTN, with the payment's own EndToEndId in Refs. A
 *  credit coded RRTN without RtrInf is a return whose reason the bank did not give (NARR:
 *  "reason in narrative", here none). RtrInf on a debit (a payment to us sent back by us) is
 *  read as it stands. */
function returnInfoOf(tx: CamtTxRecord | undefined, endToEndId: string | undefined, dir: 'credit' | 'debit', code: string | undefined): ReturnInfo | undefined {
  const rtr = tx?.rtrInf !== undefined;
  if (!rtr && !(dir === 'credit' && code === returnedPaymentCode)) return undefined;
  const info: ReturnInfo = { reasonCode: txt(tx?.rtrRsnCd) ?? txt(tx?.rtrRsnPrtry) ?? 'NARR' };
  if (endToEndId) info.originalEndToEndId = endToEndId;
  const lines = (rtr ? tx!.rtrAddtlInf : []).map((l) => l.trim()).filter((t) => t !== '');
  if (lines.length) info.additionalInfo = lines.join(' ');
  return info;
}

function notProvided(v: string | undefined): string | undefined {
  return v && v.toUpperCase() !== 'NOTPROVIDED' ? v : undefined;
}

function remittanceOf(tx: CamtTxRecord | undefined): string | undefined {
  const lines = (tx?.ustrd ?? []).map((u) => u.trim()).filter((t) => t !== '');
  return lines.length ? lines.join(' ') : undefined;
}

function partiesOf(tx: CamtTxRecord | undefined, dir: 'credit' | 'debit'): Pick<CamtBooking, 'ownAccount' | 'counterparty'> {
  // The counterparty of a credit is the debtor; of a debit, the creditor. A party's name is in
  // Pty (camt .08) or directly in the party (older versions); an account is Othr/Id
  // (domestic), else IBAN; an agent its clearing member id (CNAPS here), else the BIC.
  const counterparty: CamtBooking['counterparty'] = {};
  if (!tx) return { counterparty };
  const credit = dir === 'credit';
  const name = credit ? (txt(tx.dbtrPtyNm) ?? txt(tx.dbtrNm) ?? txt(tx.dbtrAgtNm)) : (txt(tx.cdtrPtyNm) ?? txt(tx.cdtrNm) ?? txt(tx.cdtrAgtNm));
  const acct = credit ? (txt(tx.dbtrAcctOthr) ?? txt(tx.dbtrAcctIban)) : (txt(tx.cdtrAcctOthr) ?? txt(tx.cdtrAcctIban));
  const bank = credit ? (txt(tx.dbtrAgtMmbId) ?? txt(tx.dbtrAgtBicfi) ?? txt(tx.dbtrAgtBic)) : (txt(tx.cdtrAgtMmbId) ?? txt(tx.cdtrAgtBicfi) ?? txt(tx.cdtrAgtBic));
  if (name) counterparty.name = name;
  if (acct) counterparty.accountNumber = acct;
  if (bank) counterparty.bankCode = bank;
  const own = credit ? (txt(tx.cdtrAcctOthr) ?? txt(tx.cdtrAcctIban)) : (txt(tx.dbtrAcctOthr) ?? txt(tx.dbtrAcctIban));
  return own ? { ownAccount: own, counterparty } : { counterparty };
}

/** A transaction's amount element: TxDtls/Amt, else (.001.02) AmtDtls/TxAmt/Amt. */
function txAmountOf(tx: CamtTxRecord): { text: Text; ccy: Text } | undefined {
  if (tx.amt !== undefined) return { text: tx.amt, ccy: tx.amtCcy };
  if (tx.txAmt !== undefined) return { text: tx.txAmt, ccy: tx.txAmtCcy };
  return undefined;
}

/** Reads one Ntry into its bookings (one per transaction when they can be told apart). */
export function readCamtEntry(ntry: XmlElement, where: string, references?: EntryReferences): CamtBooking[] {
  return bookingsOf(recordOfTree(ntry), where, references);
}

/** What every booking of one entry shares. */
interface EntryCommon {
  ntry: CamtEntryRecord;
  dir: 'credit' | 'debit';
  status: string;
  reversal: boolean;
  entryAmount: { amountFen: bigint; currency: string };
  booked: { at?: string; date?: string; dateOnly?: boolean };
  value: { at?: string; date?: string; dateOnly?: boolean };
  entryAcctSvcrRef: string | undefined;
  /** The entry's own reference: its AcctSvcrRef, qualified by its NtryRef where an earlier
   *  entry of the message carried that AcctSvcrRef under another (EntryReferences). */
  entryOwnRef: string | undefined;
  ntryRef: string | undefined;
}

/** Entries remembered per message by EntryReferences: every entry of a notification, and the
 *  first this many of a statement that carry both an AcctSvcrRef and a NtryRef (a statement of a
 *  million lines must not hold a million references). Past it a statement's repeated reference
 *  stays unqualified, and reconciliation reports the repeat as a duplicate line for a person. */
export const entryReferencesRememberedMax = 100_000;

/** Per message: the NtryRef under which each AcctSvcrRef was first seen. */
export class EntryReferences {
  private readonly firstNtryRef = new Map<string, string>();

  /** The entry's own reference base (see the top of this file). */
  ownRef(acctSvcrRef: string | undefined, ntryRef: string | undefined): string | undefined {
    if (acctSvcrRef === undefined || ntryRef === undefined) return acctSvcrRef;
    const first = this.firstNtryRef.get(acctSvcrRef);
    if (first === undefined) {
      if (this.firstNtryRef.size < entryReferencesRememberedMax) this.firstNtryRef.set(acctSvcrRef, ntryRef);
      return acctSvcrRef;
    }
    return first === ntryRef ? acctSvcrRef : `${acctSvcrRef}/${ntryRef}`;
  }
}

/** One booking of an entry, for one of its transactions (or for the entry as a whole). A
 *  function of the module, not a closure per entry: tsx names each closure it creates, which
 *  on 100,000 entries costs more than the closure's work. */
function bookingOf(e: EntryCommon, tx: CamtTxRecord | undefined): CamtBooking {
  const { dir, reversal } = e;
  const parties = partiesOf(tx, dir);
  const b = { direction: dir, status: e.status, reversal, amountFen: e.entryAmount.amountFen, currency: e.entryAmount.currency } as CamtBooking;
  if (parties.ownAccount) b.ownAccount = parties.ownAccount;
  b.counterparty = parties.counterparty;
  if (e.booked.at) b.bookedAt = e.booked.at;
  if (e.booked.dateOnly) b.bookingDateOnly = true;
  if (e.value.date) b.valueDate = e.value.date;
  const e2e = notProvided(txt(tx?.endToEndId));
  if (e2e) b.endToEndId = e2e;
  const rmt = remittanceOf(tx);
  if (rmt) b.remittance = rmt;
  const code = bankTransactionCodeOf(tx) ?? bankTransactionCodeOf(e.ntry);
  if (code) b.bankTransactionCode = code;
  if (reversal) {
    const original = txt(tx?.acctSvcrRef) ?? e.entryAcctSvcrRef ?? e.ntryRef;
    if (original) b.originalEntryRef = original;
  }
  const rtr = returnInfoOf(tx, e2e, dir, code);
  if (rtr) b.returnInfo = rtr;
  return b;
}

/** The bookings of an entry's record (one per transaction when they can be told apart).
 *  `references` is the message's, shared by all its entries; without it the entry is read as
 *  if it were the message's only one. */
export function bookingsOf(ntry: CamtEntryRecord, where: string, references: EntryReferences = new EntryReferences()): CamtBooking[] {
  const entryAmount = amountOfText(ntry.amt, ntry.amtCcy, where);
  const dir = direction(txt(ntry.cdtDbtInd), where);
  const status = txt(ntry.stsCd) ?? txt(ntry.stsPrtry) ?? txt(ntry.sts) ?? '';
  const rvsl = txt(ntry.rvslInd);
  const reversal = rvsl === 'true' || rvsl === '1';
  const booked = readDateChoice(ntry.bookg, ntry.bookgHasChildren, ntry.bookgDtTm, ntry.bookgDt, `${where} BookgDt`);
  const value = readDateChoice(ntry.val, ntry.valHasChildren, ntry.valDtTm, ntry.valDt, `${where} ValDt`);
  const entryAcctSvcrRef = txt(ntry.acctSvcrRef);
  const ntryRef = txt(ntry.ntryRef);
  const entryOwnRef = references.ownRef(entryAcctSvcrRef, ntryRef);
  const txs = ntry.txs;

  const entry: EntryCommon = { ntry, dir, status, reversal, entryAmount, booked, value, entryAcctSvcrRef, entryOwnRef, ntryRef };
  const splittable = txs.length > 1 && txs.every((tx) => txAmountOf(tx) !== undefined);
  if (!splittable) {
    const tx = txs.length === 1 ? txs[0] : undefined;
    const b = bookingOf(entry, tx);
    const ref = entryOwnRef ?? txt(tx?.acctSvcrRef) ?? ntryRef ?? txt(tx?.uetr) ?? b.endToEndId;
    if (ref) b.entryRef = ref;
    if (txs.length > 1) {
      // Parties of several transactions cannot be attributed to one booking.
      b.counterparty = {};
      delete b.ownAccount;
      delete b.endToEndId;
    }
    return [b];
  }

  // A transaction's own AcctSvcrRef names it only when no other booking of the entry has it
  // too: some banks copy the entry's reference into every TxDtls. A repeated one is replaced by
  // the position, as a missing one is, so two transactions never share a reference.
  const txRefs = txs.map((tx) => txt(tx.acctSvcrRef));
  const ownRef = (i: number): string | undefined => {
    const r = txRefs[i];
    return r !== undefined && r !== entryAcctSvcrRef && txRefs.indexOf(r) === txRefs.lastIndexOf(r) ? r : undefined;
  };
  let sumFen = 0n;
  const sameCurrency = txs.every((tx) => txAmountOf(tx)!.ccy === entryAmount.currency);
  const bookings = txs.map((tx, i) => {
    const b = bookingOf(entry, tx);
    const txAmount = txAmountOf(tx)!;
    const amt = amountOfText(txAmount.text, txAmount.ccy, `${where} TxDtls ${i + 1}`);
    b.amountFen = amt.amountFen;
    b.currency = amt.currency;
    sumFen += amt.amountFen;
    // The entry's indicator governs: it is what moved the account. A transaction can only
    // narrow a credit entry down to a debit, never turn a debit entry into credits (real
    // files carry CRDT on the transactions of a debit batch, seen from the creditor's side).
    const txDir = txt(tx.cdtDbtInd);
    if (txDir && dir === 'credit' && direction(txDir, `${where} TxDtls ${i + 1}`) === 'debit') b.direction = 'debit';
    const entryBase = entryOwnRef ?? ntryRef;
    const ref = ownRef(i) ?? (entryBase ? `${entryBase}/${i + 1}` : undefined) ?? txt(tx.uetr) ?? b.endToEndId;
    if (ref) b.entryRef = ref;
    return b;
  });
  // Money must add up before any transaction of a credit entry is acted on; a mismatch means
  // the bank's file is wrong and crediting bidders from it could credit money never received.
  if (dir === 'credit' && sameCurrency && sumFen !== entryAmount.amountFen) {
    throw new BankMessageInvalid(`${where}: transactions sum to ${sumFen} fen but the entry is ${entryAmount.amountFen} fen`);
  }
  return bookings;
}
