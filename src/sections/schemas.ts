import { z } from 'zod';
import { voucherRefsOut } from '../vouchers/schemas';
import { idParam, isoDateTime, text } from '../http/schemas';
import { sectionOut } from '../registry/schemas';

export const awardBody = z.strictObject({ winnerBidderId: idParam('bdr'), evaluationReportAt: isoDateTime, noticeAt: isoDateTime });
export const contractBody = z.strictObject({ signedAt: isoDateTime });
export const terminationBody = z.strictObject({ reason: text(500) });
/** 延期开标: a later deadline, before the current one passes, with the reason on record. */
export const postponementBody = z.strictObject({ bidDeadline: isoDateTime, reason: text(500) });

export const rosterEntryOut = z.object({
  bidderId: z.string(),
  name: z.string(),
  uscc: z.string(),
  /** `exemption`: secured by the credit grade it held at the bid deadline (信用免缴), which the
   *  section waives the whole security for (R4); then `amount` is null. */
  security: z.enum(['cash', 'guarantee', 'exemption']).nullable(),
  status: z.enum(['secured', 'insufficient', 'invalid', 'missing']),
  rules: z.array(z.string()),
  amount: z.string().nullable(),
  depositIds: z.array(z.string()),
  guaranteeId: z.string().nullable(),
  /** The finding that exempted the bidder: its grade at the deadline and whose finding it is. */
  creditExemption: z.object({ grade: z.string(), source: z.string(), validFrom: z.string(), validTo: z.string() }).nullable(),
});
export const rosterOut = z.object({
  id: z.string(),
  object: z.literal('roster'),
  sectionId: z.string(),
  openedAt: z.string(),
  requiredDeposit: z.string(),
  currency: z.literal('CNY'),
  voucherId: z.string().nullable(),
  /** The signed roster (opening_roster). */
  vouchers: voucherRefsOut,
  entries: z.array(rosterEntryOut),
});
export const lifecycleOut = sectionOut.extend({
  winnerBidderId: z.string().nullable(),
  openedAt: z.string().nullable(),
  awardNoticeAt: z.string().nullable(),
  contractSignedAt: z.string().nullable(),
  terminatedAt: z.string().nullable(),
  refundIds: z.array(z.string()).optional(),
  releasedGuaranteeIds: z.array(z.string()).optional(),
  /** A postponement's: the guarantees whose issuers were asked to extend them (R2). */
  extensionRequestedGuaranteeIds: z.array(z.string()).optional(),
});
