// Request and response schemas of the guarantee API; they also produce its OpenAPI document.
import { z } from 'zod';
import { eventIdLengthMax } from '../http/webhookReplay';
import { amountString, currencySchema, idParam, isoDate, isoDateTime, listQuery, text } from '../http/schemas';
import { bankCodeSchema, issuerKinds, usccSchema } from '../registry/schemas';
import { voucherRefsOut } from '../vouchers/schemas';
import { claimReasons, guaranteeStatuses } from './rules';

/** Issuance and event bodies are small JSON documents; anything larger is not one of ours. */
export const guaranteeWebhookBytesMax = 32 * 1024;
export const guaranteeNumberLengthMax = 64;
export const declineReasonLengthMax = 500;

const eventId = z.string().min(1).max(eventIdLengthMax).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const party = z.strictObject({ uscc: usccSchema, name: text(200) });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
export const guaranteeNumber = z.string().min(1).max(guaranteeNumberLengthMax).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -');
const sectionCode = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);

export const issuanceBody = z.strictObject({
  eventId,
  applicationId: idParam('app').optional(),
  number: guaranteeNumber,
  kind: z.enum(issuerKinds),
  applicant: party,
  beneficiary: party,
  projectCode: sectionCode,
  sectionCode,
  amount: amountString,
  currency: currencySchema,
  validFrom: isoDate,
  validTo: isoDate,
  issuingBankCode: bankCodeSchema.optional(),
  issuedAt: isoDateTime,
  documentSha256: sha256Hex,
});
export type IssuanceBody = z.infer<typeof issuanceBody>;

export const guaranteeEventBody = z.discriminatedUnion('type', [
  z.strictObject({
    eventId,
    type: z.literal('amended'),
    amount: amountString.optional(),
    validFrom: isoDate.optional(),
    validTo: isoDate.optional(),
    documentSha256: sha256Hex.optional(),
  }),
  z.strictObject({ eventId, type: z.literal('cancelled'), reason: text(declineReasonLengthMax).optional() }),
  z.strictObject({ eventId, type: z.literal('claim_paid'), amount: amountString.optional(), paidAt: isoDateTime.optional() }),
  z.strictObject({ eventId, type: z.literal('claim_refused'), reason: text(declineReasonLengthMax).optional() }),
]);
export type GuaranteeEventBody = z.infer<typeof guaranteeEventBody>;

export const applicationEventBody = z.strictObject({ eventId, type: z.literal('declined'), reason: text(declineReasonLengthMax) });
export type ApplicationEventBody = z.infer<typeof applicationEventBody>;

export const issuerParams = z.strictObject({ id: idParam('iss') });
export const issuerGuaranteeParams = z.strictObject({ id: idParam('iss'), number: guaranteeNumber });
export const issuerApplicationParams = z.strictObject({ id: idParam('iss'), applicationId: idParam('app') });
export const guaranteeIdParams = z.strictObject({ id: idParam('gty') });
export const applicationIdParams = z.strictObject({ id: idParam('app') });

const check = z.object({ rule: z.string(), ok: z.boolean(), detail: z.string() });

export const guaranteeOut = z.object({
  id: z.string(),
  object: z.literal('guarantee'),
  status: z.enum(guaranteeStatuses as [string, ...string[]]),
  issuerId: z.string(),
  number: z.string(),
  kind: z.enum(issuerKinds),
  applicationId: z.string().nullable(),
  sectionId: z.string(),
  bidderId: z.string(),
  applicant: z.object({ uscc: z.string(), name: z.string() }),
  beneficiary: z.object({ uscc: z.string(), name: z.string() }),
  projectCode: z.string(),
  sectionCode: z.string(),
  amount: z.string(),
  currency: z.literal('CNY'),
  validFrom: z.string(),
  validTo: z.string(),
  issuingBankCode: z.string().nullable(),
  issuedAt: z.string(),
  documentSha256: z.string(),
  checks: z.array(check),
  claim: z.object({ reason: z.string(), amount: z.string(), claimedAt: z.string().nullable() }).nullable(),
  release: z.object({ reason: z.string().nullable(), releasedAt: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Its verification reports and claim notice, oldest first. */
  vouchers: voucherRefsOut,
});

export const guaranteeListQuery = listQuery.extend({
  sectionId: idParam('sec').optional(),
  bidderId: idParam('bdr').optional(),
  status: z.enum(guaranteeStatuses as [string, ...string[]]).optional(),
});

export const verifyQuery = z.strictObject({
  issuerId: idParam('iss'),
  number: guaranteeNumber,
  documentSha256: sha256Hex.optional(),
});
export const verifyOut = z.object({
  authentic: z.boolean(),
  status: z.string(),
  guarantee: guaranteeOut.nullable(),
  checks: z.array(check),
  voucherId: z.string().nullable(),
});

/** The public 验真 page: the issuer by id or by its 12-digit bank code, the number printed on
 *  the guarantee, and the SHA-256 of the document file (either case). */
export const publicVerifyQuery = z.strictObject({
  issuer: z.string().regex(/^(iss_[0-9a-hjkmnp-tv-z]{26}|\d{12})$/, 'an iss_ id or a 12-digit bank code'),
  number: guaranteeNumber,
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the SHA-256 of the document, 64 hex digits').transform((h) => h.toLowerCase()),
});
const bilingual = z.object({ zh: z.string(), en: z.string() });
export const publicVerifyOut = z.object({
  object: z.literal('public_guarantee_verification'),
  /** `not_found` both for an unknown number and for a document whose hash differs. */
  verdict: z.enum(['authentic', 'not_found']),
  message: bilingual,
  guarantee: z
    .object({
      number: z.string(),
      status: z.enum(guaranteeStatuses as [string, ...string[]]),
      /** In a status that secures (issued, amended, secured) and not past its validTo today. */
      inForce: z.boolean(),
      issuer: z.object({ name: z.string(), kind: z.enum(issuerKinds) }),
      amount: z.string(),
      currency: z.literal('CNY'),
      validFrom: z.string(),
      validTo: z.string(),
      section: z.object({ projectCode: z.string(), sectionCode: z.string(), name: z.string(), opened: z.boolean() }),
      /** The bidder, only once the section has opened (R18). */
      applicant: z.object({ name: z.string() }).nullable(),
    })
    .nullable(),
});

export const applicationCreate = z.strictObject({
  sectionId: idParam('sec'),
  issuerId: idParam('iss'),
  kind: z.enum(issuerKinds),
  bidderId: idParam('bdr').optional(),
});
export const applicationOut = z.object({
  id: z.string(),
  object: z.literal('guarantee_application'),
  status: z.enum(['submitted', 'sent', 'issued', 'declined', 'refused']),
  sectionId: z.string(),
  bidderId: z.string(),
  issuerId: z.string(),
  kind: z.enum(issuerKinds),
  guaranteeId: z.string().nullable(),
  declineReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const applicationListQuery = listQuery.extend({
  sectionId: idParam('sec').optional(),
  bidderId: idParam('bdr').optional(),
  status: z.enum(['submitted', 'sent', 'issued', 'declined', 'refused']).optional(),
});

export const claimCreate = z.strictObject({ reason: z.enum(claimReasons), amount: amountString });
export const claimOut = guaranteeOut.extend({ voucherId: z.string() });
