// The end of a refund: the bank says the money arrived. The attempt and the refund become
// settled, the amounts the attempt carried are written on the refund (once), the ledger moves
// the money out of the trust account, and the refund voucher is requested, in one transaction.
// A status report settles many refunds at once, so this works on a set: the same steps for each
// refund, written with set-based statements where the refunds module owns the rows.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import type { TransactionStatus } from '../banks/types';
import { assert } from '../errors';
import { refundDuePolicy } from '../domain/dueDates';
import { formatAmount } from '../domain/money';
import { refundsInFlightAccountSpec, trustAccountSpec } from '../ledger';
import { markDepositRefundedAfterReturn, markDepositsRefunded, type DepositRow } from '../deposits/repo';
import type { BidderRow, SectionRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import { requestVouchers, type VoucherRequest } from '../vouchers/requests';
import { postNewJournals } from './journals';
import { markAttemptsSettled, markRefundsSettled } from './messagesRepo';
import type * as repo from './repo';
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

export interface Settlement {
  attempt: repo.AttemptRow;
  refund: repo.RefundRow;
  status: TransactionStatus;
}

async function byId<T extends { id: string }>(tx: Knex.Transaction, table: string, ids: string[]): Promise<Map<string, T>> {
  const unique = [...new Set(ids)];
  const rows = unique.length ? ((await tx(table).whereIn('id', unique)) as T[]) : [];
  return new Map(rows.map((r) => [r.id, r]));
}

/** Settles attempts the caller has locked in flight, their refunds locked and submitted. */
export async function settleMany(rt: Runtime, tx: Knex.Transaction, items: Settlement[], now: Date): Promise<void> {
  if (items.length === 0) return;
  await markAttemptsSettled(tx, items.map((s) => ({ id: s.attempt.id, bankStatus: s.status.bankStatus || 'ACSC', bankReference: s.status.bankReference ?? null })), now);
  // The amounts are those the attempt was sent with; they are written here once and never again.
  const n = await markRefundsSettled(tx, items.map((s) => ({ refundId: s.refund.id, attemptId: s.attempt.id, bankReference: s.status.bankReference ?? null })), now);
  assert(n === items.length, `each of ${items.length} refunds settles once (${n} did)`);
  await postNewJournals(
    tx,
    items.map(({ attempt, refund, status }) => ({
      kind: 'refund_settle',
      ref: attempt.id,
      memo: `refund ${refund.id} settled${status.bankReference ? ` (${status.bankReference})` : ''}`,
      postings: [
        { account: refundsInFlightAccountSpec(refund.bank_id), amountFen: attempt.amount_fen },
        { account: trustAccountSpec(refund.bank_id), amountFen: -attempt.amount_fen },
      ],
    })),
  );
  const deposits = await byId<DepositRow>(tx, 'deposits', items.map((s) => s.refund.deposit_id));
  const bidders = await byId<BidderRow>(tx, 'bidders', items.flatMap((s) => (s.refund.bidder_id ? [s.refund.bidder_id] : [])));
  const sections = await byId<SectionRow>(tx, 'sections', items.flatMap((s) => { const id = s.refund.section_id ?? deposits.get(s.refund.deposit_id)?.section_id; return id ? [id] : []; }));
  const rates = rateTables(rt.tables);
  // Deposits are updated in id order, as every other path that locks several takes them.
  const byDeposit = [...items].sort((a, b) => (a.refund.deposit_id < b.refund.deposit_id ? -1 : a.refund.deposit_id > b.refund.deposit_id ? 1 : 0));
  // The deposits that move to refunded, a run at a time between those paid again after a return
  // (rare, one by one), so that every lock is still taken in id order.
  let toRefunded: string[] = [];
  const flushRefunded = async () => {
    await markDepositsRefunded(tx, toRefunded, now);
    toRefunded = [];
  };
  const vouchers: VoucherRequest[] = [];
  for (const { attempt, refund, status } of byDeposit) {
    const bankReference = status.bankReference ?? null;
    // An excess refund returns only the part above the requirement: the deposit still secures the bid.
    // A payment sent again after a return (退汇) finds the deposit held since the return.
    const paidAgain = refund.returned_at !== null;
    if (refund.reason !== 'excess') {
      if (paidAgain) {
        await flushRefunded();
        const moved = await markDepositRefundedAfterReturn(tx, refund.deposit_id, now);
        if (moved === 0) toRefunded.push(refund.deposit_id);
      } else {
        toRefunded.push(refund.deposit_id);
      }
    }
    const deposit = deposits.get(refund.deposit_id)!;
    const bidder = refund.bidder_id ? bidders.get(refund.bidder_id) : undefined;
    const sectionId = refund.section_id ?? deposit.section_id;
    const section = sectionId ? sections.get(sectionId) : undefined;
    const detail = r13InterestDetail(
      rates,
      { principalFen: attempt.principal_fen, interestFen: attempt.interest_fen, lateFeeFen: attempt.late_fee_fen, totalFen: attempt.amount_fen, interestFrom: attempt.interest_from, valueDate: attempt.value_date },
      refund.due_by,
    );
    vouchers.push({
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
      data: { attemptId: attempt.id, messageId: attempt.message_id, endToEndId: attempt.end_to_end_id, amount: formatAmount(attempt.amount_fen), bankReference, ...(paidAgain ? { paidAgainAfterReturn: true } : {}) },
    });
  }
  await flushRefunded();
  await requestVouchers(tx, vouchers);
}
