// Request and response schemas of refunds; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';

export const refundStatuses = ['scheduled', 'submitted', 'settled', 'rejected', 'manual'] as const;

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
  manualReason: z.string().nullable(),
  settledAt: z.string().nullable(),
  bankReference: z.string().nullable(),
  createdAt: z.string(),
  attempts: z.array(attemptOut).optional(),
  decisions: z.array(z.object({ decision: z.string(), account: z.object({ number: z.string(), name: z.string(), bankCode: z.string().nullable() }).nullable(), decidedBy: z.string(), decidedAt: z.string() })).optional(),
});

