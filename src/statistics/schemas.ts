// Request and response schemas of the statistics; they also produce its OpenAPI document.
import { z } from 'zod';
import { isoDate } from '../http/schemas';

export const statisticsQuery = z.strictObject({
  /** First and last business day of the period (Asia/Shanghai), both included. */
  from: isoDate,
  to: isoDate,
  groupBy: z.enum(['month', 'tenderee', 'bank', 'issuer', 'regime']).optional(),
  format: z.enum(['json', 'xlsx']).default('json'),
});
export type StatisticsQuery = z.infer<typeof statisticsQuery>;

const countAmount = z.object({ count: z.number(), amount: z.string() });

export const figuresOut = z.object({
  sections: z.object({ created: z.number(), opened: z.number(), terminated: z.number() }),
  bids: z.object({
    secured: z.number(),
    cash: countAmount,
    guarantee: countAmount,
    /** 保函替代率: the share of secured bids (and of the amount securing them) held by guarantees. */
    guaranteeShare: z.object({ byCount: z.string().nullable(), byAmount: z.string().nullable() }),
  }),
  guarantees: z.object({ bank: countAmount, insurance: countAmount, guarantor: countAmount, rejected: z.number() }),
  deposits: z.object({ received: countAmount }),
  refunds: z.object({
    paid: countAmount,
    interestPaid: z.string(),
    lateFeesPaid: z.string(),
    onTime: z.number(),
    late: z.number(),
    r11: z.object({ onTime: z.number(), late: z.number() }),
    daysHeld: z.object({ mean: z.string().nullable(), p95: z.string().nullable() }),
  }),
  forfeitures: countAmount,
  claimsPaid: countAmount,
});

export const statisticsOut = z.object({
  object: z.literal('statistics'),
  from: z.string(),
  to: z.string(),
  groupBy: z.string().nullable(),
  currency: z.literal('CNY'),
  totals: figuresOut,
  groups: z.array(z.object({ key: z.string().nullable(), name: z.string().nullable() }).and(figuresOut)),
});

export const statisticsVoucherBody = z.strictObject({
  /** First and last business day of the period (Asia/Shanghai), both included. */
  from: isoDate,
  to: isoDate,
  groupBy: z.enum(['month', 'tenderee', 'bank', 'issuer', 'regime']).optional(),
});

export const statisticsVoucherOut = z.object({
  object: z.literal('statistics_voucher'),
  /** The voucher on record; its signed PDF is at `/v1/vouchers/{voucherId}/pdf` once `status`
   *  there is `signed`. */
  voucherId: z.string(),
  from: z.string(),
  to: z.string(),
  groupBy: z.string().nullable(),
  /** SHA-256 of the frozen figures, printed on the voucher and in its QR code. */
  recordSha256: z.string(),
  /** The figures the voucher shows: the answer of `GET /v1/statistics` for the same query. */
  statistics: statisticsOut,
});
