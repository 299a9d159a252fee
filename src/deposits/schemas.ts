// Request and response schemas of deposits; they validate requests and produce the OpenAPI
// document.
import { z } from 'zod';
import { idParam, listQuery, text } from '../http/schemas';
import { refundOut } from '../refunds/schemas';
import { voucherRefsOut } from '../vouchers/schemas';
import { forfeitReasons } from './rules';

export const depositStatuses = ['received', 'valid', 'invalid', 'suspense', 'forfeited', 'refunded', 'held'] as const;

export const sectionParams = z.strictObject({ id: idParam('sec') });
export const depositParams = z.strictObject({ id: idParam('dep') });
export const bankParams = z.strictObject({ id: idParam('bnk') });

/** Why the centre returns a credit held in suspense (R15, R17): kept with the refund. */
export const suspenseReturnBody = z.strictObject({ decision: text(1000) });
export const depositAccountCreate = z.strictObject({ bidderId: idParam('bdr') });
export const withdrawalCreate = z.strictObject({ bidderId: idParam('bdr') });
export const forfeitureCreate = z.strictObject({ bidderId: idParam('bdr'), reason: z.enum(forfeitReasons) });
/** The centre's decision on a deposit held because R3 could not be decided, and why (the bank's
 *  receipt, an inquiry): kept in the R3 check and the audit log with the person's key. */
export const heldDecisionBody = z.strictObject({ decision: z.enum(['on_time', 'late']), note: text(1000) });
export const depositListQuery = listQuery.extend({
  sectionId: idParam('sec').optional(),
  bidderId: idParam('bdr').optional(),
  status: z.enum(depositStatuses).optional(),
});

/** Message ids: ISO 20022's Max35Text, the service JSON's eventId (100), with room. */
export const notificationMessageIdCharsMax = 128;
export const notificationDepositIdsPageMax = 1000;

const amount = z.string().meta({ example: '50000.00' });
const party = z.object({ name: z.string(), accountNumber: z.string(), bankCode: z.string().nullable() });

export const depositAccountOut = z.object({
  object: z.literal('deposit_account'),
  sectionId: z.string(),
  bidderId: z.string(),
  bankId: z.string(),
  virtualAccount: z.string(),
  /** The payee's name and bank as a transfer form asks for them: the trust account's name (the
   *  sub-account is a number under it) and the deposit bank. */
  accountName: z.string(),
  bank: z.object({ name: z.string(), bankCode: z.string() }),
  /** What this bidder must pay in (R4): the section's security, less its credit reduction. */
  requiredAmount: z.string(),
  currency: z.literal('CNY'),
  /** The reduction for the credit grade the bidder holds at the current bid deadline, and the
   *  finding behind it; null when none applies. */
  creditReduction: z
    .object({ grade: z.string(), percent: z.number(), source: z.string(), validFrom: z.string(), validTo: z.string(), fullAmount: z.string() })
    .nullable(),
  /** The grade exempts the bidder (信用免缴, a 100% reduction): `requiredAmount` is 0.00 and
   *  anything paid in is excess, returned to its source (R4). */
  exempt: z.boolean(),
  /** For an exempt bidder, the exemption in words (Chinese, then English) with its grade and
   *  source; null otherwise. */
  exemptionNotice: z.string().nullable(),
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
  /** The bank gave the booking date without a time (bookedAt is then the start of that day in
   *  Beijing). */
  bookingDateOnly: z.boolean(),
  /** When the bank's notice reached the service; null when recovered from a statement. */
  notifiedAt: z.string().nullable(),
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
  /** Why the deposit was held (kept after the decision that ended it): for R3, the booking date
   *  the bank gave and when its notice came (null: recovered from a statement); the reason also
   *  says when it was held for another cause (a refund that came back). */
  held: z.object({ reason: z.string(), bookingDate: z.string(), bookingDateOnly: z.boolean(), notifiedAt: z.string().nullable() }).nullable(),
  validAt: z.string().nullable(),
  createdAt: z.string(),
  /** Its receipt and, if the bank took the credit back, the reversal voucher. */
  vouchers: voucherRefsOut,
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
  /** Credits recorded: deposits, returned refunds (退汇), interest (结息). */
  accepted: z.number().int(),
  /** Entries on record before, from this message or another: nothing was done again. */
  duplicates: z.number().int(),
  /** Entries read and not acted on (debits, pending bookings, accounts that are not ours). */
  ignored: z.number().int(),
  ignoredReasons: z.object({ notOurAccount: z.number().int() }),
  /** Reversals (冲正) applied: each reversed the deposit whose credit the bank took back. */
  reversals: z.number().int(),
  /** Bank exceptions opened for a person (GET /v1/bank-exceptions): a reversal not applied or
   *  applied after the opening, a return that matches no refund... */
  exceptions: z.number().int(),
  depositIds: z.array(z.string()),
});

/** A notification of many entries, acknowledged before its entries are acted on (202). */
export const notificationAcceptedOut = z.object({
  object: z.literal('notification_receipt'),
  messageId: z.string(),
  status: z.literal('processing'),
  /** Entries to act on: credits and reversals. */
  entries: z.number().int(),
});

export const notificationAnswerOut = z.union([notificationOut, notificationAcceptedOut]);

export const notificationParams = z.strictObject({ id: idParam('bnk'), messageId: z.string().min(1).max(notificationMessageIdCharsMax) });
/** The deposits a message made, a page at a time (`cursor`: the last id of the page before). */
export const notificationOutcomeQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(notificationDepositIdsPageMax).default(notificationDepositIdsPageMax),
  cursor: idParam('dep').optional(),
});

export const notificationOutcomeOut = z.object({
  object: z.literal('notification_outcome'),
  bankId: z.string(),
  messageId: z.string(),
  /** `processing` while the deposits queue works through its entries. */
  status: z.enum(['processing', 'done']),
  /** Entries to act on (credits and reversals), and how many are done. */
  entries: z.number().int(),
  entriesDone: z.number().int(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  ignored: z.number().int(),
  ignoredReasons: z.object({ notOurAccount: z.number().int() }),
  reversals: z.number().int(),
  exceptions: z.number().int(),
  /** The deposits the message made so far, in id order, a page at a time. */
  depositIds: z.array(z.string()),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable(),
  receivedAt: z.string(),
  completedAt: z.string().nullable(),
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
