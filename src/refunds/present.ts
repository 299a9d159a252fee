// Refunds as the API shows them.
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import type { VoucherRef } from '../vouchers/subjects';
import type * as repo from './repo';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const amount = (f: bigint | null) => (f === null ? null : formatAmount(f));

/** Not settled by the end of its due date (Asia/Shanghai), or waiting for a person because the
 *  bank never said what became of it: either way someone must act before the money is late. */
export function isOverdue(r: repo.RefundRow, now = new Date()): boolean {
  return r.status !== 'settled' && (r.due_by < businessDate(now) || r.manual_code === 'status_unknown');
}

export function presentAttempt(a: repo.AttemptRow) {
  return {
    id: a.id,
    seq: a.seq,
    status: a.status,
    endToEndId: a.end_to_end_id,
    messageId: a.message_id,
    amount: formatAmount(a.amount_fen),
    principal: formatAmount(a.principal_fen),
    interest: formatAmount(a.interest_fen),
    lateFee: formatAmount(a.late_fee_fen),
    valueDate: a.value_date,
    creditor: { number: a.creditor_account_number, name: a.creditor_account_name, bankCode: a.creditor_bank_code },
    bankStatus: a.bank_status,
    reasonCode: a.reason_code,
    reasonText: a.reason_text,
    bankReference: a.bank_reference,
    sentAt: iso(a.sent_at),
    finishedAt: iso(a.finished_at),
    createdAt: a.created_at.toISOString(),
  };
}

/** `vouchers` when the caller looked them up (vouchersOfSubjects); omitted otherwise, never
 *  guessed. */
export function presentRefund(r: repo.RefundRow, extra: { attempts?: repo.AttemptRow[]; decisions?: repo.DecisionRow[]; vouchers?: VoucherRef[] } = {}) {
  const settled = r.interest_fen !== null && r.late_fee_fen !== null;
  return {
    id: r.id,
    object: 'refund' as const,
    depositId: r.deposit_id,
    sectionId: r.section_id,
    bidderId: r.bidder_id,
    bankId: r.bank_id,
    reason: r.reason,
    status: r.status,
    dueBy: r.due_by,
    dueByProvisional: r.due_by_provisional,
    overdue: isOverdue(r),
    currency: 'CNY' as const,
    principal: formatAmount(r.principal_fen),
    interest: amount(r.interest_fen),
    lateFee: amount(r.late_fee_fen),
    total: settled ? formatAmount(r.principal_fen + r.interest_fen! + r.late_fee_fen!) : null,
    valueDate: r.value_date,
    creditor: { number: r.creditor_account_number, name: r.creditor_account_name, bankCode: r.creditor_bank_code },
    attemptsCount: r.attempts_count,
    lastReasonCode: r.last_reason_code,
    manualCode: r.manual_code,
    manualReason: r.manual_reason,
    endToEndId: r.end_to_end_id,
    notBefore: iso(r.not_before),
    settledAt: iso(r.settled_at),
    returnedAt: iso(r.returned_at),
    returnReasonCode: r.return_reason_code,
    bankReference: r.bank_reference,
    createdAt: r.created_at.toISOString(),
    ...(extra.attempts ? { attempts: extra.attempts.map(presentAttempt) } : {}),
    ...(extra.decisions
      ? {
          decisions: extra.decisions.map((d) => ({
            decision: d.decision,
            account: d.account_number ? { number: d.account_number, name: d.account_name!, bankCode: d.account_bank_code } : null,
            decidedBy: d.decided_by,
            decidedAt: d.decided_at.toISOString(),
          })),
        }
      : {}),
    ...(extra.vouchers ? { vouchers: extra.vouchers } : {}),
  };
}

