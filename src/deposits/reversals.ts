// The bank takes a credit back (冲正): the money left the trust account for the account that paid
// it, by the bank's own hand. Recorded once per bank entry, in the transaction of the message:
//   - matched to the credit it undoes by the references it carries (the original's entry ref,
//     else its end-to-end id), failing those by sub-account and amount when exactly one credit
//     not yet reversed fits; otherwise a `reversal_unmatched` exception for a person;
//   - applied only while the money is still ours to give back: the deposit becomes `reversed`,
//     the ledger follows the bank (Dr the deposit's liability / Cr trust), refunds not yet paid
//     are cancelled, its audit event and a voucher naming the original receipt. The bidder is no
//     longer secured by it: before the opening what it has left is judged again (R4) and it may
//     pay again before the deadline; after the opening a `reversal_after_opening` exception
//     names the roster entry that counted it;
//   - a credit whose money has gone (refunded, forfeited, a refund with the bank) or that is in
//     suspense is not touched: the bank took money we no longer hold, and that is an exception
//     with nothing else changed.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import type { CreditEntry } from '../banks/types';
import type { Calendar } from '../domain/calendar';
import { formatAmount } from '../domain/money';
import { balanceOf, depositAccount, depositAccountSpec, postJournal, trustAccountSpec } from '../ledger';
import { requirementFor } from '../credit/service';
import { cancelScheduledForReversal, refundsBeforeReversal, refundsOfDeposit } from '../refunds/service';
import { findBidder, type BankRow, type SectionRow } from '../registry/repo';
import { findRoster } from '../sections/repo';
import { findVoucherIdOf } from '../vouchers/repo';
import { requestVoucher } from '../vouchers/requests';
import type { DepositReversalData } from '../vouchers/input';
import { recordBankException } from './exceptions';
import { bankExceptionsOfEntry, type BankExceptionKind } from './exceptionsRepo';
import * as repo from './repo';
import * as rv from './reversalsRepo';

const bankActor = (bankId: string) => ({ type: 'bank' as const, id: bankId });
const reversalExceptionKinds: readonly BankExceptionKind[] = ['reversal_unmatched', 'reversal_after_opening'];

export type ReversalOutcome =
  /** Applied; `exceptionIds` holds the exception opened with it (after the opening). */
  | { kind: 'reversed'; depositId: string; exceptionIds: string[] }
  /** The entry is on record already, from this or an earlier message. */
  | { kind: 'duplicate' }
  /** Not applied: a person must look (see exceptions.ts). */
  | { kind: 'exception'; exceptionId: string };

type Matched = { credit: repo.CreditRow; deposit: repo.DepositRow; by: 'entry_ref' | 'end_to_end_id' | 'account_and_amount' };
type Match = ({ kind: 'matched' } & Matched) | { kind: 'unmatched'; detail: string; credit?: repo.CreditRow; deposit?: repo.DepositRow };

/** Records one reversal entry (`entry.reversal`), once per bank entry whatever message it comes
 *  in. `calendar` (R19) is taken like recordCredit's; a reversal schedules no refund, it only
 *  cancels them, so nothing is dated on it yet. */
export async function recordReversal(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, messageId: string, entry: CreditEntry): Promise<ReversalOutcome> {
  assert(entry.reversal === true, `entry ${entry.entryRef} is a reversal`);
  assert(entry.amountFen > 0n, `reversal ${entry.entryRef} is positive`);
  assert(!Number.isNaN(new Date(entry.bookedAt).getTime()), `reversal ${entry.entryRef} has a booking time`);
  // The bank gives every booking its own reference: a credit under this one means the bank
  // reused it, and the two cannot be told apart in our books or on its statement.
  const clash = await rv.findCreditByEntryRef(tx, bank.id, entry.entryRef);
  if (clash) return referenceClash(tx, bank, messageId, entry, clash);
  if (await onRecord(tx, bank.id, entry.entryRef)) return { kind: 'duplicate' };
  const match = await findReversedCredit(tx, bank.id, entry);
  if (match.kind === 'unmatched') return notApplied(tx, bank, messageId, entry, match.detail, match.deposit);
  return applyIfMoneyIsHere(tx, bank, messageId, entry, match);
}

/** The entry's journal (applied) or its exception (not applied, or applied after the opening). */
async function onRecord(tx: Knex.Transaction, bankId: string, entryRef: string): Promise<boolean> {
  if (await rv.reversalJournalExists(tx, bankId, entryRef)) return true;
  return (await bankExceptionsOfEntry(tx, bankId, entryRef, reversalExceptionKinds)).length > 0;
}

const sameMoney = (c: repo.CreditRow, e: CreditEntry) => c.amount_fen === e.amountFen && c.currency === e.currency;
const money = (fen: bigint, currency: string) => `${formatAmount(fen)} ${currency}`;

async function matchedWithDeposit(tx: Knex.Transaction, credit: repo.CreditRow, by: Matched['by']): Promise<Match> {
  const deposit = await rv.depositOfCredit(tx, credit.id);
  // A bank entry into the trust account that was not a deposit (a returned refund, interest).
  if (!deposit) return { kind: 'unmatched', credit, detail: `the reversal names entry ${credit.entry_ref}, which was not a deposit (a returned refund or interest)` };
  return { kind: 'matched', credit, deposit, by };
}

/** The bank's own reference decides when it names a credit we hold; the payer's end-to-end id
 *  next; the sub-account and amount only when they leave no doubt. */
async function findReversedCredit(tx: Knex.Transaction, bankId: string, entry: CreditEntry): Promise<Match> {
  if (entry.originalEntryRef) {
    const credit = await rv.findCreditByEntryRef(tx, bankId, entry.originalEntryRef);
    if (credit) {
      if (!sameMoney(credit, entry)) {
        const deposit = await rv.depositOfCredit(tx, credit.id);
        return { kind: 'unmatched', credit, deposit, detail: `the reversal names credit ${credit.entry_ref} of ${money(credit.amount_fen, credit.currency)}, but takes back ${money(entry.amountFen, entry.currency)}` };
      }
      return matchedWithDeposit(tx, credit, 'entry_ref');
    }
  }
  const fits = { amountFen: entry.amountFen, currency: entry.currency };
  if (entry.endToEndId) {
    const byEndToEnd = await rv.unreversedCreditsFitting(tx, bankId, { ...fits, endToEndId: entry.endToEndId });
    if (byEndToEnd.length === 1) return matchedWithDeposit(tx, byEndToEnd[0], 'end_to_end_id');
  }
  if (entry.virtualAccount) {
    const byAccount = await rv.unreversedCreditsFitting(tx, bankId, { ...fits, virtualAccount: entry.virtualAccount, payerAccount: entry.debtor.accountNumber || undefined });
    if (byAccount.length === 1) return matchedWithDeposit(tx, byAccount[0], 'account_and_amount');
    if (byAccount.length > 1) {
      return { kind: 'unmatched', detail: `the reversal names no credit on record${entry.originalEntryRef ? ` (original ${entry.originalEntryRef})` : ''}, and more than one credit of ${money(entry.amountFen, entry.currency)} to ${entry.virtualAccount} fits it` };
    }
  }
  return { kind: 'unmatched', detail: `the reversal of ${money(entry.amountFen, entry.currency)} to ${entry.virtualAccount || '(no account)'} names no credit on record${entry.originalEntryRef ? ` (original ${entry.originalEntryRef})` : ''}, and no credit not yet reversed fits it` };
}

/** Why the money the bank took is not ours to give back, if it is not. */
function whyDepositCannotBeReversed(d: repo.DepositRow): string | undefined {
  const status = d.status as string;
  if (d.section_id === null) return `deposit ${d.id} belongs to no section (${status}, R15): a person decides what the money was`;
  if (status === 'reversed') return `deposit ${d.id} was reversed already by another bank entry`;
  if (status === 'refunded') return `deposit ${d.id} was refunded: the money left the trust account before the bank took it back`;
  if (status === 'forfeited') return `deposit ${d.id} was forfeited to the tenderee (R12)`;
  if (!(rv.reversibleStatuses as readonly string[]).includes(status)) return `deposit ${d.id} is ${status}`;
  return undefined;
}

async function applyIfMoneyIsHere(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, m: Matched): Promise<ReversalOutcome> {
  // The same locks, in the same order, as a credit to the sub-account (R4 totals); then the
  // deposit before its refunds, as scheduling a refund and recording a return take them.
  let section: SectionRow | undefined;
  if (m.deposit.section_id) {
    await repo.lockDepositAccountByNumber(tx, bank.id, m.credit.virtual_account);
    section = await rv.lockSectionForReversal(tx, m.deposit.section_id);
  }
  const d = (await repo.lockDeposit(tx, m.deposit.id))!;
  const refunds = await refundsBeforeReversal(tx, d.id);
  // A copy of this entry in another message may have committed while we waited for the locks.
  if (await onRecord(tx, bank.id, entry.entryRef)) return { kind: 'duplicate' };
  const blocked = whyDepositCannotBeReversed(d) ?? (refunds.ok ? undefined : refunds.detail);
  if (blocked || !section) {
    const detail = `the reversal takes back credit ${m.credit.entry_ref} (${money(d.amount_fen, m.credit.currency)}), which the service no longer holds: ${blocked}; nothing was changed`;
    return notApplied(tx, bank, messageId, entry, detail, d, refunds.ok ? undefined : refunds.refund.id);
  }
  return apply(tx, bank, messageId, entry, { ...m, deposit: d }, section);
}

async function apply(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, m: Matched, section: SectionRow): Promise<ReversalOutcome> {
  const { credit, deposit: d } = m;
  const now = new Date();
  const reversedAt = new Date(entry.bookedAt);
  const statusBefore = d.status as DepositReversalData['statusBefore'];
  const bidder = (await findBidder(tx, d.bidder_id!))!;

  // The liability still owes the payer exactly the credit: nothing was reserved or paid from it.
  const liabilityFen = await balanceOf(tx, depositAccount(d.id));
  assert(liabilityFen === -d.amount_fen, `deposit ${d.id} owes its ${d.amount_fen} fen before the reversal, not ${-liabilityFen}`);
  const journal = await postJournal(tx, {
    kind: rv.reversalJournalKind,
    ref: rv.reversalJournalRef(bank.id, entry.entryRef),
    memo: `reversal ${entry.entryRef} of credit ${credit.entry_ref} ${formatAmount(d.amount_fen)} (${d.id}, ${section.id}/${bidder.id}): the bank took it back to ${credit.debtor_account}`,
    postings: [
      { account: depositAccountSpec(d.id, bank.id, section.id), amountFen: d.amount_fen },
      { account: trustAccountSpec(bank.id), amountFen: -d.amount_fen },
    ],
  });
  // onRecord found no journal under the deposit's lock, and the ref is this entry's alone.
  assert(journal.created, `reversal ${entry.entryRef} is posted once`);
  const cancelled = await cancelScheduledForReversal(tx, { depositId: d.id, reversalEntryRef: entry.entryRef, actor: bankActor(bank.id), now });
  const n = await rv.markDepositReversed(tx, d.id, { reversedAt, now });
  assert(n === 1, `deposit ${d.id} moved from ${d.status} to reversed`);
  assert((await balanceOf(tx, depositAccount(d.id))) === 0n, `deposit ${d.id} owes nothing once reversed`);

  const afterOpening = section.opened_at !== null;
  await appendAudit(tx, {
    actor: bankActor(bank.id),
    action: 'deposit.reversed',
    entityType: 'deposit',
    entityId: d.id,
    data: {
      sectionId: section.id,
      bidderId: bidder.id,
      creditId: credit.id,
      entryRef: credit.entry_ref,
      reversalEntryRef: entry.entryRef,
      messageId,
      matchedBy: m.by,
      amount: formatAmount(d.amount_fen),
      statusBefore,
      afterOpening,
      journalId: journal.journal.id,
      cancelledRefundIds: cancelled.map((r) => r.id),
    },
  });
  await requestVoucher(tx, {
    kind: 'deposit_reversal',
    subjectType: 'deposit',
    subjectId: d.id,
    sectionId: section.id,
    bidderId: bidder.id,
    data: {
      depositId: d.id,
      bidder: { name: bidder.name, uscc: bidder.uscc },
      amountFen: d.amount_fen,
      currency: credit.currency,
      virtualAccount: d.virtual_account,
      payer: { name: credit.debtor_name, number: credit.debtor_account, ...(credit.debtor_bank_code ? { bankCode: credit.debtor_bank_code } : {}) },
      originalEntryRef: credit.entry_ref,
      originalBookedAt: credit.booked_at.toISOString(),
      receiptVoucherId: (await findVoucherIdOf(tx, 'deposit_receipt', 'deposit', d.id)) ?? null,
      reversalEntryRef: entry.entryRef,
      reversedAt: reversedAt.toISOString(),
      statusBefore,
      afterOpening,
      cancelledRefundIds: cancelled.map((r) => r.id),
    } satisfies DepositReversalData,
  });

  if (!afterOpening && section.status === 'open' && statusBefore === 'valid') await judgeWhatIsLeft(tx, bank, section, bidder.id, d, now);
  const exceptionIds: string[] = [];
  if (afterOpening) exceptionIds.push(await reportAfterOpening(tx, bank, messageId, entry, m, section, bidder.name));
  return { kind: 'reversed', depositId: d.id, exceptionIds };
}

/** R4 before the opening: the bidder's other valid credits may no longer reach the requirement
 *  without the one reversed. Those then wait for a top-up (received), as a short credit does, so
 *  that the bidder may pay again before the deadline and the opening returns what stays short.
 *  A credit with an excess (returned, or being returned) cannot wait: the top-up would count it
 *  whole; it stays valid, and its secured part counts towards R4 and the roster as before. So
 *  does a credit with a refund on record (a withdrawal): it is already on its way back. */
async function judgeWhatIsLeft(tx: Knex.Transaction, bank: BankRow, section: SectionRow, bidderId: string, reversed: repo.DepositRow, now: Date): Promise<void> {
  const others = (await repo.depositsOf(tx, section.id, bidderId)).filter((o) => o.id !== reversed.id);
  const valid = others.filter((o) => o.status === 'valid');
  const securedFen = valid.reduce((s, o) => s + o.amount_fen - o.excess_fen, 0n);
  const requiredFen = (await requirementFor(tx, section, bidderId)).requiredFen;
  if (valid.length === 0 || securedFen >= requiredFen) return;
  const waitingFen = others.filter((o) => o.status === 'received').reduce((s, o) => s + o.amount_fen, 0n);
  const detail = `the bank reversed ${reversed.id}: credited ${formatAmount(securedFen + waitingFen)} of the required ${formatAmount(requiredFen)}; awaiting a top-up`;
  for (const o of valid) {
    if (o.excess_fen > 0n) continue;
    const locked = (await repo.lockDeposit(tx, o.id))!;
    if (locked.status !== 'valid' || (await refundsOfDeposit(tx, o.id)).length > 0) continue;
    const checks = [...locked.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: false, detail }];
    const n = await rv.markShortAfterReversal(tx, o.id, checks, now);
    assert(n === 1, `deposit ${o.id} moved from valid to received`);
    await appendAudit(tx, {
      actor: bankActor(bank.id),
      action: 'deposit.received',
      entityType: 'deposit',
      entityId: o.id,
      data: { sectionId: section.id, bidderId, reversedDepositId: reversed.id, total: formatAmount(securedFen + waitingFen), required: formatAmount(requiredFen), rule: 'R4' },
    });
  }
}

/** The roster fixed at the opening counted the deposit as it stood: the centre decides what the
 *  bidder's bid is worth now. */
async function reportAfterOpening(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, m: Matched, section: SectionRow, bidderName: string): Promise<string> {
  const d = m.deposit;
  const roster = await findRoster(tx, section.id);
  const rosterEntry = roster?.entries.find((e) => e.bidderId === d.bidder_id) ?? null;
  const onRoster = rosterEntry
    ? `the roster of ${section.id} shows ${rosterEntry.name} (${rosterEntry.bidderId}) as ${rosterEntry.status}${rosterEntry.depositIds.includes(d.id) ? ` counting ${d.id}` : ''}`
    : `${bidderName} (${d.bidder_id}) is not on the roster of ${section.id}`;
  const { exception } = await recordBankException(tx, {
    bankId: bank.id,
    kind: 'reversal_after_opening',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    sectionId: section.id,
    bidderId: d.bidder_id,
    depositId: d.id,
    detail: `the bank reversed credit ${m.credit.entry_ref} (${money(d.amount_fen, m.credit.currency)}, deposit ${d.id}) after the opening: ${onRoster}; the deposit is reversed and no longer secures the bid`,
    data: {
      originalEntryRef: m.credit.entry_ref,
      statusBefore: d.status,
      rosterId: roster?.id ?? null,
      rosterEntry: rosterEntry
        ? { bidderId: rosterEntry.bidderId, name: rosterEntry.name, security: rosterEntry.security, status: rosterEntry.status, amount: rosterEntry.amountFen, depositIds: rosterEntry.depositIds }
        : null,
    },
  });
  return exception.id;
}

/** Not applied: recorded for a person, once per entry; a second copy is a duplicate. */
async function notApplied(
  tx: Knex.Transaction,
  bank: BankRow,
  messageId: string,
  entry: CreditEntry,
  detail: string,
  deposit?: repo.DepositRow,
  refundId?: string,
): Promise<ReversalOutcome> {
  const { exception, created } = await recordBankException(tx, {
    bankId: bank.id,
    kind: 'reversal_unmatched',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    sectionId: deposit?.section_id ?? null,
    bidderId: deposit?.bidder_id ?? null,
    depositId: deposit?.id ?? null,
    refundId: refundId ?? null,
    detail,
    data: {
      originalEntryRef: entry.originalEntryRef ?? null,
      endToEndId: entry.endToEndId ?? null,
      virtualAccount: entry.virtualAccount,
      payer: { name: entry.debtor.name, accountNumber: entry.debtor.accountNumber, bankCode: entry.debtor.bankCode ?? null },
      bookedAt: entry.bookedAt,
      depositStatus: deposit?.status ?? null,
    },
  });
  return created ? { kind: 'exception', exceptionId: exception.id } : { kind: 'duplicate' };
}

async function referenceClash(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, credit: repo.CreditRow): Promise<ReversalOutcome> {
  const { exception, created } = await recordBankException(tx, {
    bankId: bank.id,
    kind: 'reference_clash',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    detail: `the bank notified a reversal under ${entry.entryRef}, the reference of credit ${credit.id} (${money(credit.amount_fen, credit.currency)}) it booked before; nothing was changed`,
    data: { creditId: credit.id, originalEntryRef: entry.originalEntryRef ?? null, virtualAccount: entry.virtualAccount, bookedAt: entry.bookedAt },
  });
  return created ? { kind: 'exception', exceptionId: exception.id } : { kind: 'duplicate' };
}
