// Schemas shared by every domain's routes: money strings, ids, list envelopes.
import { z } from 'zod';
import { amountIntegerDigitsMax } from '../domain/money';

/** A positive amount in yuan with at most two decimals, as a string: "50000.00". */
export const amountString = z
  .string()
  .max(amountIntegerDigitsMax + 3)
  .regex(/^\d{1,15}(\.\d{1,2})?$/, 'a decimal string with at most two decimals, e.g. "50000.00"')
  .meta({ example: '50000.00' });

export const currencySchema = z.literal('CNY');

export const idParam = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`), `a ${prefix}_ id`);

export const isoDateTime = z.iso.datetime({ offset: true });
export const isoDate = z.iso.date();

/** Half of a surrogate pair: valid in JSON ("\ud800") but not Unicode. UTF-8 cannot carry it
 *  and PostgreSQL's jsonb refuses its escape, so it would fail at an insert, as a 500. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Free text that ends up on vouchers and in logs: bounded, no control characters, Unicode. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
    .refine((v) => !loneSurrogate.test(v), 'must not contain half of a surrogate pair');

export const pageLimitMax = 100;
export const pageLimitDefault = 20;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
  cursor: z.string().max(200).optional(),
});

export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ object: z.literal('list'), data: z.array(item), hasMore: z.boolean(), nextCursor: z.string().nullable() });
}

export const errorSchema = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    rule: z.string().optional(),
    param: z.string().optional(),
    requestId: z.string(),
  }),
});
