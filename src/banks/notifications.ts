// Pushed credit notifications, in whichever form the bank sends them: camt.054 (XML), the cn-h2h
// credit notice, or the service's own JSON shape (DESIGN's `{eventId, entries}`).
import { z } from 'zod';
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from './types';
import { InvalidAmount, amountIntegerDigitsMax, parseAmount } from '../domain/money';
import { notificationEntriesMax, xmlBodyBytesMax } from './xmlLimits';
import { parseCamt054 } from './iso20022/camt054';
import { oneEntryPerReference } from './uniqueEntries';
import { normalizeBankDate, normalizeBankDateTime } from './iso20022/time';
import { isoAccountCharsMax, isoIdCharsMax } from './iso20022/common';
import { cnh2hParseCreditNotice, cnh2hReadJson, cnh2hTransCodeCreditNotice } from './cnh2h/protocol';

/** Service JSON notifications: field bounds. */
export const notificationEventIdCharsMax = 100;
export const notificationTextCharsMax = 200;
/** "999999999999999.99": the longest amount string (15 integer digits, two decimals). */
export const notificationAmountCharsMax = amountIntegerDigitsMax + 3;
/** "2025-02-28T14:03:20.123456789+08:00" with room: a longer date-time is not one. */
export const notificationDateTimeCharsMax = 40;

const controlCharacters = /[\u0000-\u001f\u007f]/;
/** Not Unicode: UTF-8 cannot carry it and PostgreSQL's jsonb refuses its escape. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The error of a field that is absent or of the wrong JSON type. */
const expected = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : `must be ${what}`) });

/** A string field: the type, emptiness, length (in characters) and control characters each
 *  named in the error. */
function textField(charsMax: number, opts: { pattern?: RegExp; patternMessage?: string } = {}) {
  let schema = z
    .string(expected('a string'))
    .refine((v) => v.trim() !== '', 'must not be empty')
    .refine((v) => Array.from(v).length <= charsMax, `longer than ${charsMax} characters`)
    .refine((v) => !controlCharacters.test(v), 'must not contain control characters')
    .refine((v) => !loneSurrogate.test(v), 'must not contain half of a surrogate pair');
  if (opts.pattern) schema = schema.refine((v) => opts.pattern!.test(v), opts.patternMessage ?? 'not in the expected form');
  return schema;
}

/** An absent optional field may also be written null, as many JSON writers do. */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

/** An amount as the API writes them: a decimal string with at most two places, above zero
 *  (parseAmount says which of those it is not). Never a JSON number: a double cannot carry
 *  every fen. */
const amountField = z
  .string(expected('a string'))
  .max(notificationAmountCharsMax, `longer than ${notificationAmountCharsMax} characters`)
  .transform((v, ctx) => {
    try {
      return parseAmount(v);
    } catch (err) {
      if (!(err instanceof InvalidAmount)) throw err;
      ctx.addIssue({ code: 'custom', message: err.reason });
      return z.NEVER;
    }
  });

/** An instant must say which instant: without an offset "10:00" is ambiguous by 8 hours. Zod's
 *  datetime checks the calendar (2026-02-30 is refused, never rolled to 2 March). */
const bookedAtField = textField(notificationDateTimeCharsMax)
  .refine((v) => /(Z|[+-]\d{2}:\d{2})$/.test(v), 'must carry a UTC offset ("Z" or "+08:00")')
  .pipe(z.iso.datetime({ offset: true, error: 'not a date and time like "2025-02-28T14:03:20+08:00"' }));

const valueDateField = z
  .string(expected('a string'))
  .pipe(z.iso.date({ error: 'not a calendar date like "2025-02-28"' }));

const accountField = textField(isoAccountCharsMax, { pattern: /^[0-9A-Za-z]+$/, patternMessage: 'an account number: letters and digits only' });

/** The service's own JSON notification (DESIGN.md), as strict as every request body: a field
 *  it does not name is refused (a misspelt `remitance` silently dropped is information lost; an
 *  `isAdmin` or `__proto__` is someone probing), because a credit read wrongly is money
 *  attributed to the wrong bidder. */
export const serviceNotificationSchema = z.strictObject({
  eventId: textField(notificationEventIdCharsMax),
  entries: z
    .array(
      z.strictObject({
        entryRef: textField(isoIdCharsMax),
        virtualAccount: accountField,
        amount: amountField,
        currency: textField(3, { pattern: /^[A-Z]{3}$/, patternMessage: 'must be an ISO 4217 code like "CNY"' }),
        bookedAt: bookedAtField,
        valueDate: valueDateField,
        debtor: z.strictObject(
          {
            name: textField(notificationTextCharsMax),
            accountNumber: accountField,
            bankCode: optional(textField(12, { pattern: /^\d{12}$/, patternMessage: 'must be a 12-digit CNAPS code' })),
          },
          expected('an object'),
        ),
        remittance: optional(textField(notificationTextCharsMax)),
        endToEndId: optional(textField(isoIdCharsMax)),
      }, expected('an object')),
      expected('an array'),
    )
    .max(notificationEntriesMax, `more than ${notificationEntriesMax}`),
}, { error: 'expected a JSON object' });

/** "$.entries[0].debtor.name" */
function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : `${out}.${String(k)}`), '$');
}

/** The first problem, naming its field: `$.entries[0].amount: must not be negative`. */
function refusal(error: z.ZodError): BankMessageInvalid {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const field = jsonPath([...issue.path, issue.keys[0]]);
    return new BankMessageInvalid(`${field}: unknown field (${jsonPath(issue.path)} takes only the fields of the notification format)`, field);
  }
  const field = jsonPath(issue.path);
  return new BankMessageInvalid(`${field}: ${issue.message}`, field);
}

export function parseServiceNotification(input: unknown): CreditNotification {
  const parsed = serviceNotificationSchema.safeParse(cnh2hReadJson(input, 'notification'));
  if (!parsed.success) throw refusal(parsed.error);
  const msg = parsed.data;
  const credits = msg.entries.map((e, i): CreditEntry => {
    const path = `$.entries[${i}]`;
    const credit: CreditEntry = {
      entryRef: e.entryRef,
      virtualAccount: e.virtualAccount,
      amountFen: e.amount,
      currency: e.currency,
      // Both already checked; these are the one reading of bank times and dates.
      bookedAt: normalizeBankDateTime(e.bookedAt, `${path}.bookedAt`),
      valueDate: normalizeBankDate(e.valueDate, `${path}.valueDate`),
      debtor: { name: e.debtor.name, accountNumber: e.debtor.accountNumber, ...(e.debtor.bankCode ? { bankCode: e.debtor.bankCode } : {}) },
    };
    if (e.remittance) credit.remittance = e.remittance;
    if (e.endToEndId) credit.endToEndId = e.endToEndId;
    return credit;
  });
  return oneEntryPerReference({ messageId: msg.eventId, credits, ignored: 0 }, 'notification');
}

/** Reads a pushed credit notification: XML is camt.054; JSON is a cn-h2h credit notice when its
 *  head carries that trade code, else the service's own JSON shape. The content type decides
 *  when it is clear; a mislabelled body is recognised by its first character. */
export function parseNotification(body: Buffer, contentType: string): CreditNotification {
  if (body.length > xmlBodyBytesMax) throw new BankMessageInvalid(`notification of ${body.length} bytes exceeds ${xmlBodyBytesMax}`);
  const type = contentType.toLowerCase();
  const first = body.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart()[0];
  const isXml = /xml/.test(type) || (!/json/.test(type) && first === '<');
  if (isXml) return parseCamt054(body);
  if (!/json/.test(type) && first !== '{') throw new BankMessageInvalid(`notification content type ${JSON.stringify(contentType)} is neither XML nor JSON`);
  const json = cnh2hReadJson(body, 'notification');
  const head = json.head;
  if (head && typeof head === 'object' && (head as Record<string, unknown>).transCode !== undefined) {
    const code = (head as Record<string, unknown>).transCode;
    if (code !== cnh2hTransCodeCreditNotice) throw new BankMessageInvalid(`notification: cn-h2h trade code ${JSON.stringify(code)} is not a credit notice`);
    return cnh2hParseCreditNotice(json);
  }
  return parseServiceNotification(json);
}

