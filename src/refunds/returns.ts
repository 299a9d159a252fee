// A refund's payment sent back by the payee's bank (退汇): the account it went to was closed,
// unknown or not the payee's, days after the payment had settled. The money is in the trust
// account again and owed to the bidder again; where it goes next is a person's decision (R17).
//
// The notification dispatcher (deposits/notifications.ts) calls `recordRefundReturn` for every
// credit carrying `returnInfo`, inside the transaction of the notice. In that one transaction:
//   - the bank entry is recorded once (bankEntries.ts: a `credits` row under its unique key; a
//     notice repeated in whole or part is a duplicate and changes nothing);
//   - it is matched to the settled payment it sends back: by the end-to-end id the return names
//     (the one we sent, at this bank), or, when it names none, by the bank's reference of the
//     payment's debit, or by amount and account when exactly one settled refund fits;
//   - matched: the refund becomes `returned` (waiting for a person, the bank's reason in its
//     manual reason), the ledger takes the money back (Dr trust / Cr the deposit's liability),
//     the deposit goes from `refunded` to `held`, with the audit event and the return voucher;
//   - not matched (or not returnable: the amount differs, the refund was returned already): a
//     `return_unmatched` bank exception for a person, and the money in suspense (Dr trust / Cr
//     suspense), because the ledger's trust account must equal the bank's, and this money is in
//     the bank; nobody's liability can be credited before a person says whose it is.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import { formatAmount } from '../domain/money';
import type { CreditEntry } from '../banks/types';
import { recordBankException } from '../deposits/exceptions';
import { lockDeposit, markDepositHeldAfterReturn } from '../deposits/repo';
import { depositAccountSpec, suspenseAccountSpec } from '../ledger';
import type { BankRow } from '../registry/repo';
import { requestVoucher } from '../vouchers/requests';
import { claimBankEntry, postTrustCredit, type BankEntryOutcome } from './bankEntries';
import * as repo from './repo';
import { r17AfterReturn, returnReasonText } from './rules';

const bankActor = (bankId: string) => ({ type: 'bank' as const, id: bankId });

type Found =
  | { kind: 'found'; payment: repo.SettledPayment; by: 'end_to_end_id' | 'bank_reference' | 'amount_and_creditor' }
  | { kind: 'none'; detail: string };

/** The payment a return sends back. An end-to-end id named by the return decides alone: one that
 *  is not ours at this bank says the money is not a refund of ours, whatever else would fit. */
async function findReturnedPayment(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry): Promise<Found> {
  const endToEndId = entry.returnInfo?.originalEndToEndId ?? entry.endToEndId;
  if (endToEndId) {
    const [payment] = await repo.settledPaymentsByEndToEndId(tx, bank.id, endToEndId);
    return payment ? { kind: 'found', payment, by: 'end_to_end_id' } : { kind: 'none', detail: `no refund was paid from this bank's trust account under end-to-end id ${endToEndId}` };
  }
  if (entry.originalEntryRef) {
    const byReference = await repo.settledPaymentsByBankReference(tx, bank.id, entry.originalEntryRef);
    if (byReference.length === 1) return { kind: 'found', payment: byReference[0], by: 'bank_reference' };
  }
  if (entry.debtor.accountNumber) {
    const fits = await repo.settledPaymentsByAmountAndCreditor(tx, bank.id, entry.amountFen, entry.debtor.accountNumber);
    if (fits.length === 1) return { kind: 'found', payment: fits[0], by: 'amount_and_creditor' };
    if (fits.length > 1) return { kind: 'none', detail: `the return names no end-to-end id and several settled refunds of ${formatAmount(entry.amountFen)} to account ${entry.debtor.accountNumber} fit it` };
  }
  return { kind: 'none', detail: `the return names no end-to-end id and no settled refund of ${formatAmount(entry.amountFen)} to account ${entry.debtor.accountNumber || '(none given)'} fits it` };
}

/** Records a return the bank notified: `recorded` when it brought a refund back, `duplicate`
 *  when the entry was on record already, `exception` when a person must look. */
export async function recordRefundReturn(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<BankEntryOutcome> {
  assert(entry.returnInfo, `bank entry ${entry.entryRef} is a return`);
  const creditId = await claimBankEntry(tx, bank, messageId, entry);
  if (!creditId) return { kind: 'duplicate' };
  if (entry.currency !== 'CNY') {
    // The trust account and every refund are in yuan: this is not money the ledger can hold.
    await recordBankException(tx, {
      bankId: bank.id, kind: 'foreign_currency', entryRef: entry.entryRef, messageId, amountFen: entry.amountFen, currency: entry.currency,
      detail: `a return of ${entry.amountFen} (minor units) in ${entry.currency} into the CNY trust account; nothing was booked`,
      data: returnFacts(entry),
    });
    return { kind: 'exception' };
  }
  const found = await findReturnedPayment(tx, bank, entry);
  if (found.kind === 'none') return holdUnmatched(tx, bank, messageId, entry, found.detail);
  const payment = found.payment;
  // Deposit before refund: the order every path that locks both takes (scheduling, reversals).
  const deposit = await lockDeposit(tx, payment.deposit_id);
  assert(deposit, `deposit ${payment.deposit_id} of refund ${payment.refund_id} exists`);
  const refund = (await repo.lockRefund(tx, payment.refund_id))!;
  // Only the payment that settled the refund, while it stands settled, can come back: an earlier
  // one came back already (the refund was paid again since, or waits as returned).
  const settledBy = refund.status === 'settled' ? await repo.lastSettledAttempt(tx, refund.id) : undefined;
  if (settledBy?.id !== payment.id) {
    return holdUnmatched(tx, bank, messageId, entry, `refund ${refund.id}'s payment ${payment.end_to_end_id} was already returned (the refund is ${refund.status}${refund.end_to_end_id !== payment.end_to_end_id ? `, now under ${refund.end_to_end_id}` : ''})`, refund);
  }
  if (entry.amountFen !== payment.amount_fen) {
    // What the refund owes again is exactly what it paid; a return of another amount (a charge
    // deducted on the way, a partial return) is for a person to settle with the bank.
    return holdUnmatched(tx, bank, messageId, entry, `refund ${refund.id} paid ${formatAmount(payment.amount_fen)} under ${payment.end_to_end_id}, the return brings back ${formatAmount(entry.amountFen)}`, refund);
  }

  const now = new Date();
  const returnedAt = new Date(entry.bookedAt);
  const reasonCode = entry.returnInfo.reasonCode;
  const reasonText = returnReasonText(reasonCode, entry.returnInfo.additionalInfo);
  const manualReason = r17AfterReturn({ reasonCode, additionalInfo: entry.returnInfo.additionalInfo, endToEndId: payment.end_to_end_id, creditorAccount: payment.creditor_account_number });
  const firstReturn = refund.returned_at === null;
  const n = await repo.markRefundReturned(tx, refund.id, { returnedAt, reasonCode, manualReason, now });
  assert(n === 1, `refund ${refund.id} moves from settled to returned once`);
  // The whole amount that came back (principal, and the R13 interest and late fee paid with it)
  // is the bidder's again: it is credited to the deposit's liability, from which a retry pays it
  // (executor.ts debits that liability for the whole amount of a payment sent again). Interest
  // and late fee are not given back to the income or expense accounts that paid them: they
  // were owed when paid and still are, so they are neither earned back nor paid twice.
  await postTrustCredit(
    tx, bank, entry, depositAccountSpec(deposit.id, bank.id, deposit.section_id ?? undefined),
    `return ${entry.entryRef} of refund ${refund.id} (${payment.end_to_end_id}, ${reasonCode}): owed to the payer again`,
  );
  // A refund of the secured part marked the deposit refunded; its money is held again. An
  // excess refund left the deposit valid, and an invalid deposit stays invalid: both still say
  // the truth, with the refund `returned` beside them.
  let depositStatus = deposit.status as string;
  if (deposit.status === 'refunded') {
    const heldReason = `refund ${refund.id} (${refund.reason}) came back from the payee's bank on ${returnedAt.toISOString()} (${reasonCode}: ${reasonText}); the money is held for the bidder until the centre decides where it goes (R17)`;
    const held = await markDepositHeldAfterReturn(tx, deposit.id, heldReason, now);
    assert(held === 1, `deposit ${deposit.id} moves from refunded to held once`);
    depositStatus = 'held';
  }
  await appendAudit(tx, {
    actor: bankActor(bank.id),
    action: 'refund.returned',
    entityType: 'refund',
    entityId: refund.id,
    data: {
      depositId: deposit.id, depositStatus, attemptId: payment.id, endToEndId: payment.end_to_end_id, matchedBy: found.by, entryRef: entry.entryRef, messageId,
      amount: formatAmount(entry.amountFen), reasonCode, reasonText, creditorAccount: payment.creditor_account_number, returnedAt: returnedAt.toISOString(), rule: 'R17',
    },
  });
  await requestVoucher(tx, {
    kind: 'refund_return',
    // One voucher per kind and subject: the first return of a refund is the refund's, a later one
    // (of a payment sent again) the returned payment's.
    subjectType: firstReturn ? 'refund' : 'refund_attempt',
    subjectId: firstReturn ? refund.id : payment.id,
    sectionId: refund.section_id ?? undefined,
    bidderId: refund.bidder_id ?? undefined,
    data: {
      refundId: refund.id,
      depositId: deposit.id,
      sectionId: refund.section_id,
      bidderId: refund.bidder_id,
      creditorAccount: payment.creditor_account_number,
      creditorName: payment.creditor_account_name,
      amount: formatAmount(entry.amountFen),
      returnReasonCode: reasonCode,
      returnReasonText: reasonText,
      originalEndToEndId: payment.end_to_end_id,
      returnedAt: returnedAt.toISOString(),
    },
  });
  return { kind: 'recorded' };
}

function returnFacts(entry: CreditEntry): Record<string, unknown> {
  return {
    reasonCode: entry.returnInfo?.reasonCode ?? null,
    reasonText: entry.returnInfo ? returnReasonText(entry.returnInfo.reasonCode, entry.returnInfo.additionalInfo) : null,
    originalEndToEndId: entry.returnInfo?.originalEndToEndId ?? entry.endToEndId ?? null,
    originalEntryRef: entry.originalEntryRef ?? null,
    payer: { name: entry.debtor.name, accountNumber: entry.debtor.accountNumber, bankCode: entry.debtor.bankCode ?? null },
    bookedAt: entry.bookedAt,
    valueDate: entry.valueDate,
  };
}

/** The money is in the bank, so the ledger books it (trust must equal the bank's statement), in
 *  suspense: owed to someone, nobody's until a person decides (R15). */
async function holdUnmatched(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, detail: string, refund?: repo.RefundRow): Promise<BankEntryOutcome> {
  await postTrustCredit(tx, bank, entry, suspenseAccountSpec(bank.id), `return ${entry.entryRef} matching no returnable refund: suspense`);
  await recordBankException(tx, {
    bankId: bank.id,
    kind: 'return_unmatched',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    refundId: refund?.id ?? null,
    depositId: refund?.deposit_id ?? null,
    sectionId: refund?.section_id ?? null,
    bidderId: refund?.bidder_id ?? null,
    detail: `${detail}; the money is held in suspense until a person decides`,
    data: returnFacts(entry),
  });
  return { kind: 'exception' };
}
