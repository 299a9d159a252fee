// Records as the API shows them: amounts as decimal strings, dates as ISO strings.
import { formatAmount } from '../domain/money';
import type { VoucherRef } from '../vouchers/subjects';
import type { ApplicationRow, GuaranteeRow } from './repo';

/** `vouchers` from vouchersOfSubjects (one query for a whole page). */
export function presentGuarantee(g: GuaranteeRow, vouchers: VoucherRef[]) {
  return {
    id: g.id,
    object: 'guarantee' as const,
    status: g.status,
    issuerId: g.issuer_id,
    number: g.number,
    kind: g.kind,
    applicationId: g.application_id,
    sectionId: g.section_id,
    bidderId: g.bidder_id,
    applicant: { uscc: g.applicant_uscc, name: g.applicant_name },
    beneficiary: { uscc: g.beneficiary_uscc, name: g.beneficiary_name },
    projectCode: g.project_code,
    sectionCode: g.section_code,
    amount: formatAmount(g.amount_fen),
    currency: g.currency,
    validFrom: g.valid_from,
    validTo: g.valid_to,
    issuingBankCode: g.issuing_bank_code,
    issuedAt: g.issued_at.toISOString(),
    documentSha256: g.document_sha256,
    checks: g.checks,
    claim:
      g.claim_reason && g.claim_amount_fen !== null
        ? { reason: g.claim_reason, amount: formatAmount(g.claim_amount_fen), claimedAt: g.claimed_at?.toISOString() ?? null }
        : null,
    release: g.released_at ? { reason: g.release_reason, releasedAt: g.released_at.toISOString() } : null,
    createdAt: g.created_at.toISOString(),
    updatedAt: g.updated_at.toISOString(),
    vouchers,
  };
}

export function presentApplication(a: ApplicationRow) {
  return {
    id: a.id,
    object: 'guarantee_application' as const,
    status: a.status,
    sectionId: a.section_id,
    bidderId: a.bidder_id,
    issuerId: a.issuer_id,
    kind: a.kind,
    guaranteeId: a.guarantee_id,
    declineReason: a.decline_reason,
    createdAt: a.created_at.toISOString(),
    updatedAt: a.updated_at.toISOString(),
  };
}
