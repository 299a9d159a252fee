// Request and response schemas of vouchers; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';
import { idParam, listEnvelope, listQuery } from '../http/schemas';
import { voucherKinds } from './input';
import { voucherSubjectKinds } from './repo';

export const voucherStatuses = ['pending', 'signed', 'failed'] as const;

export const voucherParams = z.strictObject({ id: idParam('vch') });

export const voucherKindSchema = z.enum(voucherKinds as [string, ...string[]]);

export const voucherOut = z.object({
  id: z.string(),
  object: z.literal('voucher'),
  kind: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }),
  sectionId: z.string().nullable(),
  bidderId: z.string().nullable(),
  status: z.enum(voucherStatuses),
  recordSha256: z.string(),
  pdfSha256: z.string().nullable(),
  signer: z.string().nullable(),
  signedAt: z.string().nullable(),
  renderAttempts: z.number().int(),
  /** Why the last render attempt failed; shown to the centre and auditors, not to bidders. */
  error: z.string().nullable(),
  createdAt: z.string(),
});

/** A voucher as the record it attests lists it (`vouchers: [...]` on deposits, refunds,
 *  guarantees, rosters and reconciliations). */
export const voucherRefOut = z.object({
  id: z.string(),
  kind: voucherKindSchema,
  status: z.enum(voucherStatuses),
});
export const voucherRefsOut = z.array(voucherRefOut).meta({ description: 'The signed PDF vouchers of this record, oldest first (GET /v1/vouchers/:id/pdf).' });

/** A subject is a deposit, refund, guarantee, opening roster or reconciliation, by its id. */
export const subjectIdParam = z.string().regex(/^(dep|rfd|gty|rsn|rcn)_[0-9a-hjkmnp-tv-z]{26}$/, 'a dep_, rfd_, gty_, rsn_ or rcn_ id');

export const subjectVouchersQuery = listQuery.extend({
  subjectId: subjectIdParam,
  kind: voucherKindSchema.optional(),
});

export const subjectVouchersOut = listEnvelope(voucherRefOut).extend({
  subject: z.object({ type: z.enum(voucherSubjectKinds), id: z.string() }),
});

// ---- public: what a phone sees after scanning a voucher's QR code -------------------------

export const bilingual = z.object({ zh: z.string(), en: z.string() });

/** Any string: an id of the wrong form answers the same 404 as an unknown one. */
export const publicVoucherParams = z.strictObject({ id: z.string() });

export const publicVoucherOut = z.object({
  object: z.literal('public_voucher'),
  id: z.string(),
  kind: voucherKindSchema,
  kindLabel: bilingual,
  status: z.enum(voucherStatuses),
  issuedAt: z.string(),
  signedAt: z.string().nullable(),
  pdfSha256: z.string().nullable(),
  recordSha256: z.string(),
  centre: z.object({ name: z.string() }),
  section: z
    .object({ projectCode: z.string(), sectionCode: z.string(), name: z.string(), opened: z.boolean() })
    .nullable(),
  /** A few facts of the kind that R18 allows anyone to know: no bidder before the opening. */
  facts: z.array(z.object({ key: z.string(), label: bilingual, value: z.string() })),
});

export const voucherVerdicts = ['valid', 'changed', 'untrusted', 'unknown'] as const;

export const voucherCheckOut = z.object({
  /** valid: signed by us and byte-identical to the voucher on record; changed: the signature is
   *  broken or bytes were changed or added after signing; untrusted: intact, but signed by a key
   *  that is not ours; unknown: no signature, or no voucher of ours has these bytes. */
  verdict: z.enum(voucherVerdicts),
  message: bilingual,
  /** The voucher on record these bytes are, when the verdict is valid. */
  voucher: publicVoucherOut.nullable(),
  valid: z.boolean(),
  reason: z.string().optional(),
  signer: z.object({ subject: z.string(), fingerprint: z.string() }).nullable(),
  signedAt: z.string().nullable(),
  voucherId: z.string().nullable(),
  coversWholeFile: z.boolean(),
  trusted: z.boolean(),
  matchesRecord: z.boolean(),
});

export const publicVoucherCheckOut = voucherCheckOut.extend({
  /** The uploaded PDF is exactly the voucher of the URL (valid, and its id). */
  matchesVoucher: z.boolean(),
});
