// Request and response schemas of refunds; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';
import { voucherRefsOut } from '../vouchers/schemas';
import { idParam, listQuery, text } from '../http/schemas';
import { accountNumberSchema, bankCodeSchema } from '../registry/schemas';
import type { RefundStatus } from './repo';

/** A rejected attempt sends its refund back to `scheduled` or on to `manual`: no refund rests
 *  in a rejected state, so there is none to filter by. `returned`: settled, then sent back by
 *  the payee's bank (退汇); like `manual` it waits for a person's decision. */
export const refundStatuses = ['scheduled', 'submitted', 'settled', 'returned', 'manual'] as const satisfies readonly RefundStatus[];

export const refundParams = z.strictObject({ id: idParam('rfd') });

export const refundListQuery = listQuery.extend({
  sectionId: idParam('sec').optional(),
  bidderId: idParam('bdr').optional(),
  status: z.enum(refundStatuses).optional(),
  overdue: z.enum(['true', 'false']).optional(),
});

export const retryBody = z.strictObject({
  /** What the person decided and why (R17): it is kept with the refund. */
  decision: text(1000),
  /** Only with a recorded decision may a refund go to an account other than its source (R17). */
  account: z.strictObject({ number: accountNumberSchema, name: text(200), bankCode: bankCodeSchema }).optional(),
});

export const attemptOut = z.object({
  id: z.string(),
  seq: z.number(),
  status: z.string(),
  endToEndId: z.string(),
  messageId: z.string(),
  amount: z.string(),
  principal: z.string(),
  interest: z.string(),
  lateFee: z.string(),
  valueDate: z.string(),
  creditor: z.object({ number: z.string(), name: z.string(), bankCode: z.string().nullable() }),
  bankStatus: z.string().nullable(),
  reasonCode: z.string().nullable(),
  reasonText: z.string().nullable(),
  bankReference: z.string().nullable(),
  sentAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  createdAt: z.string(),
});
export const refundOut = z.object({
  id: z.string(),
  object: z.literal('refund'),
  depositId: z.string(),
  sectionId: z.string().nullable(),
  bidderId: z.string().nullable(),
  bankId: z.string(),
  reason: z.string(),
  status: z.enum(refundStatuses),
  dueBy: z.string(),
  /** Counted past the years the R19 calendar knows (weekends only there); recomputed when the
   *  next year is loaded. */
  dueByProvisional: z.boolean(),
  overdue: z.boolean(),
  currency: z.literal('CNY'),
  principal: z.string(),
  interest: z.string().nullable(),
  lateFee: z.string().nullable(),
  total: z.string().nullable(),
  valueDate: z.string().nullable(),
  creditor: z.object({ number: z.string(), name: z.string(), bankCode: z.string().nullable() }),
  attemptsCount: z.number(),
  lastReasonCode: z.string().nullable(),
  manualCode: z.enum(['account_rejected', 'attempts_exhausted', 'status_unknown', 'returned']).nullable(),
  manualReason: z.string().nullable(),
  /** The one end-to-end id every attempt of this refund carries. */
  endToEndId: z.string(),
  /** No new attempt before this time (after a bank said it had no record of one). */
  notBefore: z.string().nullable(),
  settledAt: z.string().nullable(),
  /** When the payee's bank booked the return of the last payment (退汇), and its ISO 20022
   *  return reason (AC04 closed account, AC01 no such account, BE01 name mismatch...). */
  returnedAt: z.string().nullable(),
  returnReasonCode: z.string().nullable(),
  bankReference: z.string().nullable(),
  createdAt: z.string(),
  attempts: z.array(attemptOut).optional(),
  decisions: z.array(z.object({ decision: z.string(), account: z.object({ number: z.string(), name: z.string(), bankCode: z.string().nullable() }).nullable(), decidedBy: z.string(), decidedAt: z.string() })).optional(),
  /** Refund vouchers of each payment and return vouchers of each payment the payee's bank sent
   *  back. */
  vouchers: voucherRefsOut,
});

