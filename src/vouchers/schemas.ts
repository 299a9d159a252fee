// Request and response schemas of vouchers; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';
import { idParam } from '../http/schemas';

export const voucherStatuses = ['pending', 'signed', 'failed'] as const;

export const voucherParams = z.strictObject({ id: idParam('vch') });

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

export const voucherCheckOut = z.object({
  valid: z.boolean(),
  reason: z.string().optional(),
  signer: z.object({ subject: z.string(), fingerprint: z.string() }).nullable(),
  signedAt: z.string().nullable(),
  voucherId: z.string().nullable(),
  coversWholeFile: z.boolean(),
  trusted: z.boolean(),
  matchesRecord: z.boolean(),
});
