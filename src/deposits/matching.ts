// A credit the bank notified becomes a deposit, in the transaction that records it: matched to
// the bidder and section by its virtual sub-account, checked (R3, R4, R5), posted to the ledger,
// and, where it does not secure the bid or exceeds the requirement, scheduled to go back where
// it came from (R15, R17). Nothing here trusts the bank message beyond what it says happened.
// Every credit has an end: valid (refunded by a section event), invalid (returned at once,
// also when the section has nothing left to secure: R11, R16), or held for the centre where R3
// cannot be decided from a date-only booking (its decision goes through `judgeR4` and
// `announce` here, like a credit).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert } from '../errors';
import type { Calendar } from '../domain/calendar';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { CreditEntry } from '../banks/types';
import { findBidder, type BankRow, type BidderRow, type SectionRow } from '../registry/repo';
import { depositAccountSpec, postJournal, suspenseAccountSpec, trustAccountSpec, type AccountSpec, type PostedJournal } from '../ledger';
import { scheduleRefund } from '../refunds/service';
import { requestVoucher } from '../vouchers/requests';
import * as repo from './repo';
import { recordBankException } from './exceptions';
import { checkSectionTakesCredits, r3BookedBeforeDeadline, r4Currency, r4Total, r5FromBasicAccount, type R4Outcome, type RuleCheck } from './rules';

const bankActor = (bankId: string) => ({ type: 'bank' as const, id: bankId });

/** The ledger reference of a bank entry: one journal per entry, ever. */
export const creditJournalRef = (bankId: string, entryRef: string) => `${bankId}:${entryRef}`;

/** `exception`: not booked; a bank exception for the centre says why (a reference that names
 *  two different bookings, money in another currency). */
export type RecordOutcome = { kind: 'duplicate' } | { kind: 'exception' } | { kind: 'recorded'; depositId: string; status: repo.DepositStatus };

/** Records one bank entry as a deposit; `calendar` dates the refunds it owes (R19).
 *  `notifiedAt` is when the bank's notice of the entry reached us, which bounds a booking given
 *  as a date only (R3: a bank books before it notifies); null for an entry recovered from a
 *  statement, which has no notice. */
export async function recordCredit(
  tx: Knex.Transaction,
  calendar: Calendar,
  bank: BankRow,
  messageId: string,
  entry: CreditEntry,
  notifiedAt: Date | null = new Date(),
): Promise<RecordOutcome> {
  const currency = r4Currency(entry.currency);
  if (currency) return holdForeignCurrency(tx, bank, messageId, entry, currency.detail);
  const credit = await claimEntry(tx, bank, messageId, entry, notifiedAt);
  if (!credit) return (await sameEntryOnRecord(tx, bank, messageId, entry)) ? { kind: 'duplicate' } : { kind: 'exception' };
  const account = await repo.lockDepositAccountByNumber(tx, bank.id, entry.virtualAccount);
  if (!account) return holdInSuspense(tx, bank, entry, credit);
  const section = (await repo.lockSectionForCredit(tx, account.section_id))!;
  const bidder = (await findBidder(tx, account.bidder_id))!;
  const matched: Matched = { bank, entry, credit, section, bidder, depositId: newId('dep') };
  const verdict = await judge(tx, matched);
  await post(tx, matched, verdict);
  await scheduleRefundsOwed(tx, calendar, { depositId: matched.depositId, amountFen: entry.amountFen }, verdict, eventOf(matched, verdict));
  return { kind: 'recorded', depositId: matched.depositId, status: verdict.status };
}

/** Money in another currency is never booked in the yuan ledger nor refunded as yuan: the centre
 *  decides with the bank. The same entry again opens nothing new. */
async function holdForeignCurrency(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, why: string): Promise<RecordOutcome> {
  const { created } = await recordBankException(tx, {
    bankId: bank.id,
    kind: 'foreign_currency',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    detail: `R4: ${why}; a credit of ${formatAmount(entry.amountFen)} ${entry.currency} to ${entry.virtualAccount} from ${entry.debtor.name || entry.debtor.accountNumber} is not booked in the yuan ledger nor refunded as yuan: a person decides with the bank`,
    data: { virtualAccount: entry.virtualAccount, debtorAccount: entry.debtor.accountNumber, bookedAt: entry.bookedAt },
  });
  return created ? { kind: 'exception' } : { kind: 'duplicate' };
}

/** An entry's identity is what the bank means by it: the same reference with the same money to
 *  the same account from the same payer is the entry sent again; the same reference on other
 *  money is another entry the bank's references cannot tell apart, which a person must see
 *  (a bank exception), never a silent drop. */
async function sameEntryOnRecord(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<boolean> {
  const onRecord = (await repo.findCreditByRef(tx, bank.id, entry.entryRef))!;
  const same =
    onRecord.amount_fen === entry.amountFen &&
    onRecord.currency === entry.currency &&
    onRecord.virtual_account === entry.virtualAccount &&
    onRecord.debtor_account === entry.debtor.accountNumber;
  if (same) return true;
  const fingerprint = createHash('sha256').update([entry.amountFen, entry.currency, entry.virtualAccount, entry.debtor.accountNumber].join('\u001f')).digest('hex').slice(0, 12);
  await recordBankException(tx, {
    bankId: bank.id,
    kind: 'reference_clash',
    // One exception per distinct entry behind the shared reference.
    entryRef: `${entry.entryRef}#${fingerprint}`,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    detail: `the bank's reference ${entry.entryRef} names a credit on record (${formatAmount(onRecord.amount_fen)} ${onRecord.currency} to ${onRecord.virtual_account}) and now another (${formatAmount(entry.amountFen)} ${entry.currency} to ${entry.virtualAccount} from ${entry.debtor.accountNumber}): not booked; ask the bank which is which`,
    data: { entryRef: entry.entryRef, onRecordCreditId: onRecord.id, virtualAccount: entry.virtualAccount, debtorAccount: entry.debtor.accountNumber, bookedAt: entry.bookedAt },
  });
  return false;
}

interface ClaimedEntry {
  creditId: string;
  bookedAt: Date;
  bookingDateOnly: boolean;
  notifiedAt: Date | null;
}

interface Matched {
  bank: BankRow;
  entry: CreditEntry;
  credit: ClaimedEntry;
  section: SectionRow;
  bidder: BidderRow;
  depositId: string;
}

/** The entry's credits row, or undefined when the entry is on record already: one repeated in
 *  this or any later message, or arriving in two messages at once, is recorded once. */
async function claimEntry(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, notifiedAt: Date | null): Promise<ClaimedEntry | undefined> {
  assert(entry.amountFen > 0n, `credit ${entry.entryRef} is positive`);
  const bookedAt = new Date(entry.bookedAt);
  assert(!Number.isNaN(bookedAt.getTime()), `credit ${entry.entryRef} has a booking time`);
  assert(notifiedAt === null || !Number.isNaN(notifiedAt.getTime()), `credit ${entry.entryRef} has a valid notice time`);
  const bookingDateOnly = entry.bookingDateOnly === true;
  const creditId = newId('crd');
  const inserted = await repo.insertCredit(tx, creditRowFor(creditId, bank, messageId, entry, notifiedAt));
  return inserted ? { creditId, bookedAt, bookingDateOnly, notifiedAt } : undefined;
}

/** R15: nobody to credit. The money is in the trust account, owed to someone a person must
 *  identify; nothing is returned automatically. */
async function holdInSuspense(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry, credit: ClaimedEntry): Promise<RecordOutcome> {
  const depositId = newId('dep');
  await repo.insertDeposit(tx, {
    id: depositId, credit_id: credit.creditId, bank_id: bank.id, virtual_account: entry.virtualAccount, amount_fen: entry.amountFen, status: 'suspense',
    checks: [{ rule: 'R15', ok: false, detail: `no sub-account ${entry.virtualAccount} at this bank` }],
  });
  await postTrustCredit(tx, bank, entry, suspenseAccountSpec(bank.id), `credit ${entry.entryRef} to unknown account ${entry.virtualAccount}: suspense`);
  await appendAudit(tx, { actor: bankActor(bank.id), action: 'deposit.suspense', entityType: 'deposit', entityId: depositId, data: { creditId: credit.creditId, entryRef: entry.entryRef, virtualAccount: entry.virtualAccount, amount: formatAmount(entry.amountFen) } });
  return { kind: 'recorded', depositId, status: 'suspense' };
}

export type Verdict =
  /** Failed R3, R4 (currency or short after the opening) or R5, or came to a section with
   *  nothing left to secure (R11, R16): it never secures the bid and goes back whole (R15). */
  | { status: 'invalid'; checks: RuleCheck[]; failed: string[] }
  /** R3 cannot be decided (a date-only booking on the deadline's day, not notified before the
   *  deadline): it secures nothing and is not returned until the centre decides. */
  | { status: 'held'; checks: RuleCheck[]; reason: string }
  /** Passed, but the bidder's total is still short (R4): it waits for a top-up. */
  | { status: 'received'; checks: RuleCheck[]; r4: Extract<R4Outcome, { kind: 'short' }> }
  /** Passed and the total reaches the requirement: the waiting credits become valid with it. */
  | { status: 'valid'; checks: RuleCheck[]; r4: Exclude<R4Outcome, { kind: 'short' }>; waiting: repo.DepositRow[] };

async function judge(tx: Knex.Transaction, m: Matched): Promise<Verdict> {
  const ended = checkSectionTakesCredits({ status: m.section.status, contractSignedAt: m.section.contract_signed_at, terminatedAt: m.section.terminated_at });
  if (ended) return { status: 'invalid', checks: [ended], failed: [ended.rule] };
  const r3 = r3BookedBeforeDeadline(m.credit.bookedAt, m.section.bid_deadline, { dateOnly: m.credit.bookingDateOnly, notifiedAt: m.credit.notifiedAt });
  const r3Check: RuleCheck = { rule: r3.rule, ok: r3.ok, detail: r3.detail };
  const checks: RuleCheck[] = [r3Check, r5FromBasicAccount(m.entry.debtor, { number: m.bidder.basic_account_number, name: m.bidder.basic_account_name })];
  // An R3 that cannot be decided is not a failure; a credit failing another rule goes back
  // whatever R3 would have said.
  const failed = checks.filter((c) => !c.ok && !(c === r3Check && r3.verdict === 'undecidable')).map((c) => c.rule);
  if (failed.length > 0) return { status: 'invalid', checks, failed };
  if (r3.verdict === 'undecidable') return { status: 'held', checks, reason: r3.detail };
  return judgeR4(tx, m.section, m.bidder.id, m.entry.amountFen, checks);
}

/** R4 on a credit that passed R3 and R5 (`checks`), against the bidder's other deposits on the
 *  section. After the opening a credit still short can never be topped up in time: it goes
 *  back, as the opening returned those short at the deadline (`invalidateShortDeposits`). */
export async function judgeR4(tx: Knex.Transaction, section: SectionRow, bidderId: string, creditFen: bigint, checks: RuleCheck[]): Promise<Verdict> {
  const others = (await repo.depositsOf(tx, section.id, bidderId)).filter((d) => d.status === 'valid' || d.status === 'received');
  const securedFen = others.filter((d) => d.status === 'valid').reduce((s, d) => s + d.amount_fen - d.excess_fen, 0n);
  const waiting = others.filter((d) => d.status === 'received');
  const waitingFen = waiting.reduce((s, d) => s + d.amount_fen, 0n);
  const r4 = r4Total({ requiredFen: section.deposit_amount_fen, securedFen, waitingFen, creditFen });
  if (r4.kind === 'short' && section.opened_at !== null) {
    const short: RuleCheck = { rule: 'R4', ok: false, detail: `${r4.check.detail.replace(/; awaiting a top-up$/, '')}: short of the requirement, and the bids were opened ${section.opened_at.toISOString()}` };
    return { status: 'invalid', checks: [...checks, short], failed: ['R4'] };
  }
  const all = [...checks, r4.check];
  if (r4.kind === 'short') return { status: 'received', checks: all, r4 };
  return { status: 'valid', checks: all, r4, waiting };
}

/** The deposit row, its ledger journal and audit events, and the receipts of what became valid. */
async function post(tx: Knex.Transaction, m: Matched, v: Verdict): Promise<void> {
  const { bank, entry, section, bidder, depositId } = m;
  const base = { id: depositId, credit_id: m.credit.creditId, bank_id: bank.id, section_id: section.id, bidder_id: bidder.id, virtual_account: entry.virtualAccount, amount_fen: entry.amountFen };
  const memo = `credit ${entry.entryRef} ${formatAmount(entry.amountFen)} to ${entry.virtualAccount} (${section.id}/${bidder.id})`;
  const now = new Date();
  if (v.status === 'invalid') await repo.insertDeposit(tx, { ...base, status: 'invalid', checks: v.checks, failed_rules: v.failed });
  else if (v.status === 'held') await repo.insertDeposit(tx, { ...base, status: 'held', checks: v.checks, held_reason: v.reason });
  else if (v.status === 'received') await repo.insertDeposit(tx, { ...base, status: 'received', checks: v.checks });
  else await repo.insertDeposit(tx, { ...base, status: 'valid', excess_fen: v.r4.excessFen, valid_at: now, checks: v.checks });
  // Whatever the verdict, the money is in the trust account and owed to this deposit.
  await postTrustCredit(tx, bank, entry, depositAccountSpec(depositId, bank.id, section.id), memo);
  await announce(tx, bankActor(bank.id), { depositId, creditId: m.credit.creditId, section, bidderId: bidder.id, amountFen: entry.amountFen }, v, now);
}

/** The audit events of a verdict, the waiting credits a valid one tops up (R4) and the receipts
 *  of what became valid; the deposit's own row already carries the verdict. */
export async function announce(
  tx: Knex.Transaction,
  actor: Actor,
  d: { depositId: string; creditId: string; section: SectionRow; bidderId: string; amountFen: bigint },
  v: Verdict,
  now: Date,
): Promise<void> {
  const { depositId, section, bidderId } = d;
  const ids = { creditId: d.creditId, sectionId: section.id, bidderId };
  const amount = formatAmount(d.amountFen);
  if (v.status === 'invalid') {
    await appendAudit(tx, { actor, action: 'deposit.invalid', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, rules: v.failed, checks: v.checks } });
    return;
  }
  if (v.status === 'held') {
    await appendAudit(tx, { actor, action: 'deposit.held', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, rule: 'R3', reason: v.reason, checks: v.checks } });
    return;
  }
  if (v.status === 'received') {
    await appendAudit(tx, { actor, action: 'deposit.received', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, total: formatAmount(v.r4.totalFen), required: formatAmount(section.deposit_amount_fen) } });
    return;
  }
  const nowValid = [depositId];
  for (const w of v.waiting) {
    const checks = [...w.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: true, detail: `topped up by ${depositId}: ${v.r4.check.detail}` }];
    const n = await repo.markToppedUp(tx, w.id, checks, now);
    assert(n === 1, `waiting deposit ${w.id} is still received`);
    nowValid.push(w.id);
  }
  for (const id of nowValid) {
    await appendAudit(tx, { actor, action: 'deposit.valid', entityType: 'deposit', entityId: id, data: { sectionId: section.id, bidderId, total: formatAmount(v.r4.totalFen), required: formatAmount(section.deposit_amount_fen) } });
    await requestReceipt(tx, id);
  }
}

/** When a refund owed on arrival falls due from: the booking, for a credit judged by its rules
 *  (R15, as before); when we learnt of it, for one that came to a finished section (its
 *  booking may be long past, and the section's own refunds dated from its event). */
function eventOf(m: Matched, v: Verdict): Date {
  const ended = v.status === 'invalid' && v.failed.some((r) => r === 'R11' || r === 'R16');
  return ended ? new Date() : m.credit.bookedAt;
}

/** R15: a credit that fails R3/R4/R5 (or comes to a finished section, R11/R16) goes back to its
 *  source automatically, and so does the part of a valid one above the requirement (R4). A held
 *  credit owes nothing yet. */
export async function scheduleRefundsOwed(tx: Knex.Transaction, calendar: Calendar, d: { depositId: string; amountFen: bigint }, v: Verdict, eventAt: Date, actor?: Actor): Promise<void> {
  if (v.status === 'invalid') await scheduleRefund(tx, calendar, { depositId: d.depositId, reason: 'invalid', principalFen: d.amountFen, eventAt, actor });
  if (v.status === 'valid' && v.r4.excessFen > 0n) await scheduleRefund(tx, calendar, { depositId: d.depositId, reason: 'excess', principalFen: v.r4.excessFen, eventAt, actor });
}

/** The `credits` row of a bank entry: one per (bank, entry reference), whatever the entry turns
 *  out to be (a deposit, a returned refund, interest). */
export function creditRowFor(creditId: string, bank: BankRow, messageId: string, entry: CreditEntry, notifiedAt: Date | null): Omit<repo.CreditRow, 'received_at'> {
  return {
    id: creditId,
    bank_id: bank.id,
    entry_ref: entry.entryRef,
    message_id: messageId,
    // The account booked: the trust account itself for interest and returns.
    virtual_account: entry.virtualAccount || bank.trust_account_number,
    amount_fen: entry.amountFen,
    currency: entry.currency,
    booked_at: new Date(entry.bookedAt),
    value_date: entry.valueDate,
    debtor_name: entry.debtor.name,
    debtor_account: entry.debtor.accountNumber,
    debtor_bank_code: entry.debtor.bankCode ?? null,
    remittance: entry.remittance ?? null,
    end_to_end_id: entry.endToEndId ?? null,
    booking_date_only: entry.bookingDateOnly === true,
    notified_at: notifiedAt,
  };
}

/** The bank's booking into the trust account, in the ledger: Dr trust / Cr `counter`, once per
 *  bank entry, under the journal kind and ref reconciliation matches by the bank's reference. */
export async function postTrustCredit(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry, counter: AccountSpec, memo: string): Promise<PostedJournal> {
  const posted = await postJournal(tx, {
    kind: 'credit',
    ref: creditJournalRef(bank.id, entry.entryRef),
    memo,
    postings: [
      { account: trustAccountSpec(bank.id), amountFen: entry.amountFen },
      { account: counter, amountFen: -entry.amountFen },
    ],
  });
  // The credits row is unique on the same key, so reaching here twice is a bug.
  assert(posted.created, `entry ${entry.entryRef} posted once`);
  return posted;
}

async function requestReceipt(tx: Knex.Transaction, depositId: string): Promise<void> {
  const d = (await repo.findDeposit(tx, depositId))!;
  const c = (await repo.findCredit(tx, d.credit_id))!;
  await requestVoucher(tx, {
    kind: 'deposit_receipt',
    subjectType: 'deposit',
    subjectId: d.id,
    sectionId: d.section_id!,
    bidderId: d.bidder_id!,
    data: {
      depositId: d.id,
      sectionId: d.section_id,
      bidderId: d.bidder_id,
      virtualAccount: d.virtual_account,
      amountFen: d.amount_fen,
      excessFen: d.excess_fen,
      securedFen: d.amount_fen - d.excess_fen,
      currency: c.currency,
      payer: { name: c.debtor_name, accountNumber: c.debtor_account, bankCode: c.debtor_bank_code },
      bookedAt: c.booked_at.toISOString(),
      valueDate: c.value_date,
      entryRef: c.entry_ref,
    },
  });
}

/** For the opening: credits still short of the requirement at the deadline never secured the
 *  bid (R4) and go back to where they came from, due by `calendar` (R19). */
export async function invalidateShortDeposits(tx: Knex.Transaction, calendar: Calendar, sectionId: string, at = new Date()): Promise<string[]> {
  const waiting = await repo.lockReceivedDepositsOf(tx, sectionId);
  for (const d of waiting) {
    const checks = [...d.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: false, detail: 'the total was short of the required amount at the deadline' }];
    await repo.markInvalid(tx, d.id, { failedRules: ['R4'], checks, now: at });
    await appendAudit(tx, { actor: { type: 'system' }, action: 'deposit.invalid', entityType: 'deposit', entityId: d.id, data: { sectionId, bidderId: d.bidder_id, rules: ['R4'] } });
    await scheduleRefund(tx, calendar, { depositId: d.id, reason: 'invalid', principalFen: d.amount_fen, eventAt: at });
  }
  return waiting.map((d) => d.id);
}
