// Request and response schemas of events out; they also produce its OpenAPI document.
import { z } from 'zod';
import { listEnvelope, pageLimitDefault, pageLimitMax, text } from '../http/schemas';
import { normalizeHttpUrl, urlCharsMax } from '../registry/schemas';
import { eventTypes } from './rules';

/** Types one endpoint subscribes to, at most: every type there is, and a little room. */
export const endpointEventTypesMax = 100;

const eventType = z.string().max(80).refine((t) => eventTypes.includes(t), { message: `one of ${eventTypes.join(', ')}` });

export const eventListQuery = z.strictObject({
  /** One type or several, comma-separated. */
  type: z
    .string()
    .max(2000)
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(eventType).max(endpointEventTypesMax))
    .optional(),
  /** The `nextCursor` of the previous page: events are paged in the order they were recorded. */
  cursor: z.string().regex(/^\d{1,19}$/, 'a cursor this API returned').optional(),
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
});
export type EventListQuery = z.infer<typeof eventListQuery>;

const endpointUrl = z
  .string()
  .max(urlCharsMax)
  .transform((v, ctx) => {
    const r = normalizeHttpUrl(v);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }
    return r.url;
  })
  .meta({ format: 'uri', example: 'https://erp.centre.example.cn/bidbond-events' });

export const endpointCreate = z.strictObject({
  url: endpointUrl,
  /** Event types, or ["*"] for every type (including types added later). */
  events: z
    .array(z.union([z.literal('*'), eventType]))
    .min(1)
    .max(endpointEventTypesMax)
    .refine((a) => new Set(a).size === a.length, { message: 'lists a type twice' }),
  description: text(200).optional(),
});
export type EndpointCreate = z.infer<typeof endpointCreate>;

export const endpointIdParams = z.strictObject({ id: z.string().regex(/^whk_[0-9a-hjkmnp-tv-z]{26}$/) });
export const deliveryIdParams = z.strictObject({ id: z.string().regex(/^whk_[0-9a-hjkmnp-tv-z]{26}$/), deliveryId: z.string().regex(/^dlv_[0-9a-hjkmnp-tv-z]{26}$/) });

export const endpointListQuery = z.strictObject({
  cursor: z.string().regex(/^whk_[0-9a-hjkmnp-tv-z]{26}$/, 'a cursor this API returned').optional(),
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
});

export const deliveryListQuery = z.strictObject({
  cursor: z.string().regex(/^dlv_[0-9a-hjkmnp-tv-z]{26}$/, 'a cursor this API returned').optional(),
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']).optional(),
});

export const eventOut = z.object({
  object: z.literal('event'),
  id: z.string(),
  type: z.string(),
  occurredAt: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }).nullable(),
  sectionId: z.string().nullable(),
  tendereeId: z.string().nullable(),
  bidderId: z.string().nullable(),
  issuerId: z.string().nullable(),
  bankId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

export const endpointOut = z.object({
  object: z.literal('webhook_endpoint'),
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  status: z.enum(['enabled', 'disabled', 'deleted']),
  description: z.string().nullable(),
  createdAt: z.string(),
  failingSince: z.string().nullable(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
});

export const deliveryOut = z.object({
  object: z.literal('webhook_delivery'),
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  eventType: z.string().nullable(),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']),
  attemptCount: z.number(),
  createdAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  lastError: z.string().nullable(),
  attempts: z.array(z.object({ attempt: z.number(), startedAt: z.string(), durationMs: z.number(), httpStatus: z.number().nullable(), error: z.string().nullable(), redelivery: z.boolean() })),
});

export const eventList = listEnvelope(eventOut);
export const endpointList = listEnvelope(endpointOut);
export const deliveryList = listEnvelope(deliveryOut);
