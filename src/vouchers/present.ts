// Vouchers as the API shows them.
import type { Caller } from '../http/auth';
import type { VoucherRow } from './repo';

export function presentVoucher(v: VoucherRow, caller: Caller) {
  return {
    id: v.id,
    object: 'voucher' as const,
    kind: v.kind,
    subject: { type: v.subject_type, id: v.subject_id },
    sectionId: v.section_id,
    bidderId: v.bidder_id,
    status: v.status,
    recordSha256: v.record_sha256,
    pdfSha256: v.pdf_sha256,
    signer: v.signer_subject,
    signedAt: v.signed_at?.toISOString() ?? null,
    renderAttempts: v.render_attempts,
    // A render error is the service's own exception text: for those who operate it, not for a
    // bidder, who sees that its voucher failed.
    error: caller.role === 'bidder' ? null : v.error,
    createdAt: v.created_at.toISOString(),
  };
}
