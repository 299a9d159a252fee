// Deposits as the API shows them.
import { formatAmount } from '../domain/money';
import { exemptionNotice, isExempt, type RequiredSecurity } from '../domain/creditReduction';
import { businessDate } from '../domain/time';
import { presentRefund } from '../refunds/present';
import type { BankRow } from '../registry/repo';
import type { RefundRow } from '../refunds/repo';
import type { SubjectVouchers, VoucherRef } from '../vouchers/subjects';
import type { CreditRow, DepositAccountRow, DepositRow, WithdrawalRow } from './repo';
import type { DepositDetail, Forfeiture } from './service';

export const presentDepositAccount = (a: DepositAccountRow, bank: Pick<BankRow, 'name' | 'bank_code' | 'trust_account_name'>, r: RequiredSecurity) => ({
  object: 'deposit_account' as const,
  sectionId: a.section_id,
  bidderId: a.bidder_id,
  bankId: a.bank_id,
  virtualAccount: a.virtual_account,
  accountName: bank.trust_account_name,
  bank: { name: bank.name, bankCode: bank.bank_code },
  requiredAmount: formatAmount(r.requiredFen),
  currency: 'CNY' as const,
  creditReduction: r.reduction
    ? { grade: r.reduction.grade, percent: r.reduction.percent, source: r.reduction.source, validFrom: r.reduction.validFrom, validTo: r.reduction.validTo, fullAmount: formatAmount(r.fullFen) }
    : null,
  exempt: isExempt(r),
  exemptionNotice: exemptionNotice(r),
  createdAt: a.created_at.toISOString(),
});

export const presentCredit = (c: CreditRow) => ({
  id: c.id,
  object: 'credit' as const,
  bankId: c.bank_id,
  entryRef: c.entry_ref,
  messageId: c.message_id,
  virtualAccount: c.virtual_account,
  amount: formatAmount(c.amount_fen),
  currency: c.currency,
  bookedAt: c.booked_at.toISOString(),
  valueDate: c.value_date,
  debtor: { name: c.debtor_name, accountNumber: c.debtor_account, bankCode: c.debtor_bank_code },
  remittance: c.remittance,
  endToEndId: c.end_to_end_id,
  bookingDateOnly: c.booking_date_only,
  notifiedAt: c.notified_at ? c.notified_at.toISOString() : null,
  receivedAt: c.received_at.toISOString(),
});

export const presentWithdrawal = (w: WithdrawalRow, refunds: RefundRow[], vouchers?: SubjectVouchers) => ({
  object: 'withdrawal' as const,
  sectionId: w.section_id,
  bidderId: w.bidder_id,
  withdrawnAt: w.withdrawn_at.toISOString(),
  afterDeadline: w.after_deadline,
  rule: w.after_deadline ? 'R10' : 'R9',
  refunds: refunds.map((r) => presentRefund(r, { vouchers: vouchers?.of('refund', r.id) })),
});

/** `vouchers` when the caller looked them up (vouchersOfSubjects); omitted otherwise. */
export function presentDepositSummary(d: DepositRow, c: CreditRow, vouchers?: VoucherRef[]) {
  return {
    id: d.id,
    object: 'deposit' as const,
    status: d.status,
    sectionId: d.section_id,
    bidderId: d.bidder_id,
    bankId: d.bank_id,
    virtualAccount: d.virtual_account,
    amount: formatAmount(d.amount_fen),
    excess: formatAmount(d.excess_fen),
    secured: d.status === 'valid' || d.status === 'forfeited' ? formatAmount(d.amount_fen - d.excess_fen) : '0.00',
    currency: c.currency,
    rules: d.failed_rules,
    checks: d.checks,
    credit: presentCredit(c),
    forfeiture: d.forfeit_reason ? { reason: d.forfeit_reason, decidedBy: d.forfeited_by, decidedAt: d.forfeited_at!.toISOString() } : null,
    held: d.held_reason
      ? { reason: d.held_reason, bookingDate: businessDate(c.booked_at), bookingDateOnly: c.booking_date_only, notifiedAt: c.notified_at ? c.notified_at.toISOString() : null }
      : null,
    validAt: d.valid_at ? d.valid_at.toISOString() : null,
    createdAt: d.created_at.toISOString(),
    ...(vouchers ? { vouchers } : {}),
  };
}

/** The deposit with its refunds and every ledger posting of the journals that touched it. */
export function presentDepositDetail(d: DepositDetail, vouchers?: SubjectVouchers) {
  return {
    ...presentDepositSummary(d.deposit, d.credit, vouchers?.of('deposit', d.deposit.id)),
    refunds: d.refunds.map((r) => presentRefund(r, { vouchers: vouchers?.of('refund', r.id) })),
    ledger: d.ledger.map(({ journal: j, postings }) => ({
      journalId: j.id,
      kind: j.kind,
      memo: j.memo,
      postedAt: j.posted_at.toISOString(),
      postings: postings.map((p) => ({ account: p.account, amount: formatAmount(p.amount_fen), side: p.amount_fen > 0n ? 'debit' : 'credit' })),
    })),
  };
}

export const presentForfeiture = (f: Forfeiture) => ({
  object: 'forfeiture' as const,
  sectionId: f.sectionId,
  bidderId: f.bidderId,
  reason: f.reason,
  decidedBy: f.decidedBy,
  decidedAt: f.decidedAt.toISOString(),
  rule: 'R12' as const,
  deposits: f.forfeited.map((d) => ({ depositId: d.depositId, amount: formatAmount(d.amountFen) })),
});
