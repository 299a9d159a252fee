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
// A reversal (RvslInd true) names the booking it undoes by the original's references. Banks put
// them in TxDtls/Refs while the entry keeps its own AcctSvcrRef (what the sandbox writes, so a
// statement never repeats a reference), or repeat them at entry level; the original's
// reference is therefore TxDtls/Refs/AcctSvcrRef, else the entry's AcctSvcrRef, else NtryRef.
//
// A payment of ours that came back carries returnInfo (see returnInfoOf), whether the bank books
// it as a plain credit or as the reversal of our debit.
import { BankMessageInvalid, type ReturnInfo } from '../types';
import { child, childrenNamed, textAt, type XmlElement } from '../xmlRead';
import { readAccount, readAgentCode, readAmount, readPartyName } from './common';
import { normalizeBankDate, normalizeBankDateTime, shanghaiParts, startOfShanghaiDay } from './time';

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

function direction(code: string | undefined, where: string): 'credit' | 'debit' {
  if (code === 'CRDT') return 'credit';
  if (code === 'DBIT') return 'debit';
  throw new BankMessageInvalid(`${where}: CdtDbtInd ${JSON.stringify(code ?? '')} is neither CRDT nor DBIT`);
}

function readDateChoice(el: XmlElement | undefined, what: string): { at?: string; date?: string; dateOnly?: boolean } {
  if (!el) return {};
  const dtTm = textAt(el, 'DtTm');
  if (dtTm) {
    const at = normalizeBankDateTime(dtTm, what);
    return { at, date: shanghaiParts(new Date(at)).date };
  }
  const dt = textAt(el, 'Dt') ?? (el.children.length === 0 ? textAt(el) : undefined);
  if (dt) {
    // Some banks write Dt with an offset ("2025-02-28+08:00"), which xs:date allows.
    const date = normalizeBankDate(dt.slice(0, 10), what);
    return { at: startOfShanghaiDay(date, what), date, dateOnly: true };
  }
  return {};
}

/** BkTxCd/Domn as "PMNT/RCDT/DMCT"; a proprietary code alone says nothing we could compare. */
function bankTransactionCodeOf(el: XmlElement | undefined): string | undefined {
  const domain = textAt(el, 'BkTxCd', 'Domn', 'Cd');
  const family = textAt(el, 'BkTxCd', 'Domn', 'Fmly', 'Cd');
  const subFamily = textAt(el, 'BkTxCd', 'Domn', 'Fmly', 'SubFmlyCd');
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
function returnInfoOf(tx: XmlElement | undefined, endToEndId: string | undefined, dir: 'credit' | 'debit', code: string | undefined): ReturnInfo | undefined {
  const rtr = child(tx, 'RtrInf');
  if (!rtr && !(dir === 'credit' && code === returnedPaymentCode)) return undefined;
  const info: ReturnInfo = { reasonCode: textAt(rtr, 'Rsn', 'Cd') ?? textAt(rtr, 'Rsn', 'Prtry') ?? 'NARR' };
  if (endToEndId) info.originalEndToEndId = endToEndId;
  const lines = childrenNamed(rtr, 'AddtlInf')
    .map((l) => l.text.trim())
    .filter((t) => t !== '');
  if (lines.length) info.additionalInfo = lines.join(' ');
  return info;
}

function notProvided(v: string | undefined): string | undefined {
  return v && v.toUpperCase() !== 'NOTPROVIDED' ? v : undefined;
}

function remittanceOf(tx: XmlElement | undefined): string | undefined {
  const lines = childrenNamed(child(tx, 'RmtInf'), 'Ustrd')
    .map((u) => u.text.trim())
    .filter((t) => t !== '');
  return lines.length ? lines.join(' ') : undefined;
}

function partiesOf(tx: XmlElement | undefined, dir: 'credit' | 'debit'): Pick<CamtBooking, 'ownAccount' | 'counterparty'> {
  const parties = child(tx, 'RltdPties');
  const agents = child(tx, 'RltdAgts');
  // The counterparty of a credit is the debtor; of a debit, the creditor.
  const [cpParty, cpAcct, cpAgent, ownAcct] =
    dir === 'credit' ? ['Dbtr', 'DbtrAcct', 'DbtrAgt', 'CdtrAcct'] : ['Cdtr', 'CdtrAcct', 'CdtrAgt', 'DbtrAcct'];
  const counterparty: CamtBooking['counterparty'] = {};
  const name = readPartyName(child(parties, cpParty));
  const acct = readAccount(child(parties, cpAcct));
  const bank = readAgentCode(child(agents, cpAgent));
  if (name) counterparty.name = name;
  if (acct) counterparty.accountNumber = acct;
  if (bank) counterparty.bankCode = bank;
  const own = readAccount(child(parties, ownAcct));
  return own ? { ownAccount: own, counterparty } : { counterparty };
}

/** Reads one Ntry into its bookings (one per transaction when they can be told apart). */
export function readCamtEntry(ntry: XmlElement, where: string): CamtBooking[] {
  const entryAmount = readAmount(child(ntry, 'Amt'), where);
  const dir = direction(textAt(ntry, 'CdtDbtInd'), where);
  const status = textAt(ntry, 'Sts', 'Cd') ?? textAt(ntry, 'Sts', 'Prtry') ?? textAt(ntry, 'Sts') ?? '';
  const rvsl = textAt(ntry, 'RvslInd');
  const reversal = rvsl === 'true' || rvsl === '1';
  const booked = readDateChoice(child(ntry, 'BookgDt'), `${where} BookgDt`);
  const value = readDateChoice(child(ntry, 'ValDt'), `${where} ValDt`);
  const entryAcctSvcrRef = textAt(ntry, 'AcctSvcrRef');
  const ntryRef = textAt(ntry, 'NtryRef');
  const txs = childrenNamed(ntry, 'NtryDtls').flatMap((d) => childrenNamed(d, 'TxDtls'));

  const base = (tx: XmlElement | undefined): CamtBooking => {
    const b: CamtBooking = {
      direction: dir,
      status,
      reversal,
      amountFen: entryAmount.amountFen,
      currency: entryAmount.currency,
      ...partiesOf(tx, dir),
    };
    if (booked.at) b.bookedAt = booked.at;
    if (booked.dateOnly) b.bookingDateOnly = true;
    if (value.date) b.valueDate = value.date;
    const e2e = notProvided(textAt(tx, 'Refs', 'EndToEndId'));
    if (e2e) b.endToEndId = e2e;
    const rmt = remittanceOf(tx);
    if (rmt) b.remittance = rmt;
    const code = bankTransactionCodeOf(tx) ?? bankTransactionCodeOf(ntry);
    if (code) b.bankTransactionCode = code;
    if (reversal) {
      const original = textAt(tx, 'Refs', 'AcctSvcrRef') ?? entryAcctSvcrRef ?? ntryRef;
      if (original) b.originalEntryRef = original;
    }
    const rtr = returnInfoOf(tx, e2e, dir, code);
    if (rtr) b.returnInfo = rtr;
    return b;
  };

  const splittable = txs.length > 1 && txs.every((tx) => child(tx, 'Amt') ?? child(tx, 'AmtDtls', 'TxAmt', 'Amt'));
  if (!splittable) {
    const tx = txs.length === 1 ? txs[0] : undefined;
    const b = base(tx);
    const ref =
      entryAcctSvcrRef ?? textAt(tx, 'Refs', 'AcctSvcrRef') ?? ntryRef ?? textAt(tx, 'Refs', 'UETR') ?? b.endToEndId;
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
  const txRefs = txs.map((tx) => textAt(tx, 'Refs', 'AcctSvcrRef'));
  const ownRef = (i: number): string | undefined => {
    const r = txRefs[i];
    return r !== undefined && r !== entryAcctSvcrRef && txRefs.indexOf(r) === txRefs.lastIndexOf(r) ? r : undefined;
  };
  let sumFen = 0n;
  const sameCurrency = txs.every((tx) => (child(tx, 'Amt') ?? child(tx, 'AmtDtls', 'TxAmt', 'Amt'))!.attrs.Ccy === entryAmount.currency);
  const bookings = txs.map((tx, i) => {
    const b = base(tx);
    const amt = readAmount(child(tx, 'Amt') ?? child(tx, 'AmtDtls', 'TxAmt', 'Amt'), `${where} TxDtls ${i + 1}`);
    b.amountFen = amt.amountFen;
    b.currency = amt.currency;
    sumFen += amt.amountFen;
    // The entry's indicator governs: it is what moved the account. A transaction can only
    // narrow a credit entry down to a debit, never turn a debit entry into credits (real
    // files carry CRDT on the transactions of a debit batch, seen from the creditor's side).
    const txDir = textAt(tx, 'CdtDbtInd');
    if (txDir && dir === 'credit' && direction(txDir, `${where} TxDtls ${i + 1}`) === 'debit') b.direction = 'debit';
    const entryBase = entryAcctSvcrRef ?? ntryRef;
    const ref = ownRef(i) ?? (entryBase ? `${entryBase}/${i + 1}` : undefined) ?? textAt(tx, 'Refs', 'UETR') ?? b.endToEndId;
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
