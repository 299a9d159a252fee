// The end of a refund: the bank says the money arrived. The attempt and the refund become
// settled, the amounts the attempt carried are written on the refund (once), the ledger moves
// the money out of the trust account, and the refund voucher is requested, in one transaction.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import type { TransactionStatus } from '../banks/types';
import { assert } from '../errors';
import { refundDuePolicy } from '../domain/dueDates';
import { formatAmount } from '../domain/money';
import { postJournal, refundsInFlightAccountSpec, trustAccountSpec } from '../ledger';
import { findDeposit, markDepositRefunded, markDepositRefundedAfterReturn } from '../deposits/repo';
import { findBidder, findSection } from '../registry/repo';
import type { Runtime } from '../runtime';
import { requestVoucher } from '../vouchers/requests';
import * as repo from './repo';
import { r13InterestDetail, rateTables } from './rules';

const voucherReason = {
  withdrawal: 'withdrawal',
  contract: 'contract_signed',
  award_non_winner: 'not_awarded',
  termination: 'termination',
  excess: 'excess',
  invalid: 'invalid_deposit',
  suspense_return: 'other',
} as const;

export async function settle(rt: Runtime, tx: Knex.Transaction, attempt: repo.AttemptRow, refund: repo.RefundRow, status: TransactionStatus, now: Date): Promise<'settled'> {
  const bankReference = status.bankReference ?? null;
  await repo.markAttemptSettled(tx, attempt.id, { bankStatus: status.bankStatus || 'ACSC', bankReference, now });
  // The amounts are those the attempt was sent with; they are written here once and never again.
  const n = await repo.markRefundSettled(tx, refund.id, attempt, bankReference, now);
  assert(n === 1, `refund ${refund.id} settles once`);
  const settled = await postJournal(tx, {
    kind: 'refund_settle',
    ref: attempt.id,
    memo: `refund ${refund.id} settled${bankReference ? ` (${bankReference})` : ''}`,
    postings: [
      { account: refundsInFlightAccountSpec(refund.bank_id), amountFen: attempt.amount_fen },
      { account: trustAccountSpec(refund.bank_id), amountFen: -attempt.amount_fen },
    ],
  });
  assert(settled.created, `settlement of ${attempt.id} is posted once`);
  // An excess refund returns only the part above the requirement: the deposit still secures the bid.
  // A payment sent again after a return (退汇) finds the deposit held since the return.
  const paidAgain = refund.returned_at !== null;
  if (refund.reason !== 'excess') {
    const n = paidAgain ? await markDepositRefundedAfterReturn(tx, refund.deposit_id, now) : 0;
    if (n === 0) await markDepositRefunded(tx, refund.deposit_id, now);
  }
  const deposit = (await findDeposit(tx, refund.deposit_id))!;
  const bidder = refund.bidder_id ? await findBidder(tx, refund.bidder_id) : undefined;
  const sectionId = refund.section_id ?? deposit.section_id;
  const section = sectionId ? await findSection(tx, sectionId) : undefined;
  const rates = rateTables(rt.tables);
  const detail = r13InterestDetail(
    rates,
    { principalFen: attempt.principal_fen, interestFen: attempt.interest_fen, lateFeeFen: attempt.late_fee_fen, totalFen: attempt.amount_fen, interestFrom: attempt.interest_from, valueDate: attempt.value_date },
    refund.due_by,
  );
  await requestVoucher(tx, {
    kind: 'refund_voucher',
    // One voucher per kind and subject: a payment made again after a return is a payment of its
    // own, with its own voucher (the first one's payee and date stay as they were).
    subjectType: paidAgain ? 'refund_attempt' : 'refund',
    subjectId: paidAgain ? attempt.id : refund.id,
    sectionId: refund.section_id ?? undefined,
    bidderId: refund.bidder_id ?? undefined,
    data: {
      refundId: refund.id,
      depositId: refund.deposit_id,
      bidder: { name: bidder?.name ?? attempt.creditor_account_name, ...(bidder ? { uscc: bidder.uscc } : {}) },
      reason: voucherReason[refund.reason] ?? 'other',
      rules: section && refund.reason !== 'suspense_return' ? [refundDuePolicy(section.regime, refund.reason).rule, 'R13', 'R17'] : ['R15', 'R17'],
      payee: { name: attempt.creditor_account_name, number: attempt.creditor_account_number, ...(attempt.creditor_bank_code ? { bankCode: attempt.creditor_bank_code } : {}) },
      principalFen: attempt.principal_fen,
      interestFen: attempt.interest_fen,
      lateFeeFen: attempt.late_fee_fen,
      totalFen: attempt.amount_fen,
      interest: detail.interest,
      ...(detail.lateFee ? { lateFee: detail.lateFee } : {}),
      dueBy: refund.due_by,
      settledAt: now.toISOString(),
      ...(bankReference ? { bankReference } : {}),
    },
  });
  await appendAudit(tx, {
    actor: { type: 'system' },
    action: 'refund.settled',
    entityType: 'refund',
    entityId: refund.id,
    data: { attemptId: attempt.id, endToEndId: attempt.end_to_end_id, amount: formatAmount(attempt.amount_fen), bankReference, ...(paidAgain ? { paidAgainAfterReturn: true } : {}) },
  });
  return 'settled';
}
