// Request and response schemas of deposits; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';
import { idParam, listQuery, text } from '../http/schemas';
import { refundOut } from '../refunds/schemas';
import { forfeitReasons } from './rules';

export const depositStatuses = ['received', 'valid', 'invalid', 'suspense', 'forfeited', 'refunded'] as const;

export const sectionParams = z.strictObject({ id: idParam('sec') });
export const depositParams = z.strictObject({ id: idParam('dep') });
export const bankParams = z.strictObject({ id: idParam('bnk') });

/** Why the centre returns a credit held in suspense (R15, R17): kept with the refund. */
export const suspenseReturnBody = z.strictObject({ decision: text(1000) });
export const depositAccountCreate = z.strictObject({ bidderId: idParam('bdr') });
export const withdrawalCreate = z.strictObject({ bidderId: idParam('bdr') });
export const forfeitureCreate = z.strictObject({ bidderId: idParam('bdr'), reason: z.enum(forfeitReasons) });
export const depositListQuery = listQuery.extend({
  sectionId: idParam('sec').optional(),
  bidderId: idParam('bdr').optional(),
  status: z.enum(depositStatuses).optional(),
});

const amount = z.string().meta({ example: '50000.00' });
const party = z.object({ name: z.string(), accountNumber: z.string(), bankCode: z.string().nullable() });

export const depositAccountOut = z.object({
  object: z.literal('deposit_account'),
  sectionId: z.string(),
  bidderId: z.string(),
  bankId: z.string(),
  virtualAccount: z.string(),
  createdAt: z.string(),
});

export const creditOut = z.object({
  id: z.string(),
  object: z.literal('credit'),
  bankId: z.string(),
  entryRef: z.string(),
  messageId: z.string(),
  virtualAccount: z.string(),
  amount,
  currency: z.string(),
  bookedAt: z.string(),
  valueDate: z.string(),
  debtor: party,
  remittance: z.string().nullable(),
  endToEndId: z.string().nullable(),
  receivedAt: z.string(),
});

export const depositOut = z.object({
  id: z.string(),
  object: z.literal('deposit'),
  status: z.enum(depositStatuses),
  sectionId: z.string().nullable(),
  bidderId: z.string().nullable(),
  bankId: z.string(),
  virtualAccount: z.string(),
  amount,
  excess: amount,
  secured: amount,
  currency: z.string(),
  rules: z.array(z.string()),
  checks: z.array(z.object({ rule: z.string(), ok: z.boolean(), detail: z.string() })),
  credit: creditOut,
  forfeiture: z.object({ reason: z.string(), decidedBy: z.string().nullable(), decidedAt: z.string() }).nullable(),
  validAt: z.string().nullable(),
  createdAt: z.string(),
});

export const depositDetailOut = depositOut.extend({
  refunds: z.array(refundOut),
  ledger: z.array(
    z.object({
      journalId: z.string(),
      kind: z.string(),
      memo: z.string(),
      postedAt: z.string(),
      postings: z.array(z.object({ account: z.string(), amount, side: z.enum(['debit', 'credit']) })),
    }),
  ),
});

export const notificationOut = z.object({
  object: z.literal('notification_receipt'),
  messageId: z.string(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  ignored: z.number().int(),
  depositIds: z.array(z.string()),
});

export const withdrawalOut = z.object({
  object: z.literal('withdrawal'),
  sectionId: z.string(),
  bidderId: z.string(),
  withdrawnAt: z.string(),
  afterDeadline: z.boolean(),
  rule: z.string(),
  refunds: z.array(refundOut),
});

export const forfeitureOut = z.object({
  object: z.literal('forfeiture'),
  sectionId: z.string(),
  bidderId: z.string(),
  reason: z.enum(forfeitReasons),
  decidedBy: z.string(),
  decidedAt: z.string(),
  rule: z.literal('R12'),
  deposits: z.array(z.object({ depositId: z.string(), amount })),
});
