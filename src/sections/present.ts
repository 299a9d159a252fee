// The section lifecycle as the API shows it: amounts as decimal strings, times as ISO strings.
import { formatAmount } from '../domain/money';
import { presentSection } from '../registry/present';
import type { VoucherRef } from '../vouchers/subjects';
import type { LifecycleSection, RosterRow } from './repo';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentLifecycle(r: LifecycleSection, extra: { refundIds?: string[]; releasedGuaranteeIds?: string[]; extensionRequestedGuaranteeIds?: string[] } = {}) {
  return {
    ...presentSection(r),
    winnerBidderId: r.winner_bidder_id,
    openedAt: iso(r.opened_at),
    awardNoticeAt: iso(r.award_notice_at),
    contractSignedAt: iso(r.contract_signed_at),
    terminatedAt: iso(r.terminated_at),
    ...extra,
  };
}

/** `vouchers` when the caller looked them up (vouchersOfSubjects); omitted otherwise. */
export function presentRoster(r: RosterRow, vouchers?: VoucherRef[]) {
  return {
    id: r.id,
    object: 'roster' as const,
    sectionId: r.section_id,
    openedAt: r.opened_at.toISOString(),
    requiredDeposit: formatAmount(r.required_deposit_fen),
    currency: 'CNY' as const,
    voucherId: r.voucher_id,
    ...(vouchers ? { vouchers } : {}),
    entries: r.entries.map((e) => ({
      bidderId: e.bidderId,
      name: e.name,
      uscc: e.uscc,
      security: e.security,
      status: e.status,
      rules: e.rules,
      amount: e.amountFen === null ? null : formatAmount(BigInt(e.amountFen)),
      depositIds: e.depositIds,
      guaranteeId: e.guaranteeId,
      creditExemption: e.exemption ? { grade: e.exemption.grade, source: e.exemption.source, validFrom: e.exemption.validFrom, validTo: e.exemption.validTo } : null,
    })),
  };
}
