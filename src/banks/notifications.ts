// Pushed credit notifications, in whichever form the bank sends them: camt.054 (XML), the cn-h2h
// credit notice, or the service's own JSON shape (DESIGN's `{eventId, entries}`).
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from './types';
import { parseAmount } from '../domain/money';
import { notificationEntriesMax, xmlBodyBytesMax } from './xmlLimits';
import { parseCamt054 } from './iso20022/camt054';
import { normalizeBankDate, normalizeBankDateTime } from './iso20022/time';
import { cnh2hParseCreditNotice, cnh2hReadJson, cnh2hTransCodeCreditNotice } from './cnh2h/protocol';

/** Service JSON notifications: field bounds. */
export const notificationEventIdCharsMax = 100;
export const notificationTextCharsMax = 200;

function fieldStr(o: Record<string, unknown>, key: string, path: string, charsMax: number, opts: { optional?: boolean } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new BankMessageInvalid(`${path}.${key}: required`);
  }
  if (typeof v !== 'string') throw new BankMessageInvalid(`${path}.${key}: must be a string`);
  if (!opts.optional && v.trim() === '') throw new BankMessageInvalid(`${path}.${key}: must not be empty`);
  if (Array.from(v).length > charsMax) throw new BankMessageInvalid(`${path}.${key}: longer than ${charsMax} characters`);
  return v;
}

/** The service's own JSON notification (DESIGN.md): `{eventId, entries: [{entryRef,
 *  virtualAccount, amount: "50000.00", currency, bookedAt, valueDate, debtor: {name,
 *  accountNumber, bankCode}, remittance}]}`. Validated field by field, each error naming its
 *  field, because a credit read wrongly is money attributed to the wrong bidder. */
export function parseServiceNotification(input: unknown): CreditNotification {
  const msg = cnh2hReadJson(input, 'notification');
  const eventId = fieldStr(msg, 'eventId', '$', notificationEventIdCharsMax)!;
  const entries = msg.entries;
  if (!Array.isArray(entries)) throw new BankMessageInvalid('$.entries: must be an array');
  if (entries.length > notificationEntriesMax) throw new BankMessageInvalid(`$.entries: more than ${notificationEntriesMax}`);
  const credits = entries.map((raw, i): CreditEntry => {
    const path = `$.entries[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BankMessageInvalid(`${path}: must be an object`);
    const e = raw as Record<string, unknown>;
    const amountText = fieldStr(e, 'amount', path, 40)!;
    let amountFen: bigint;
    try {
      amountFen = parseAmount(amountText);
    } catch (err) {
      throw new BankMessageInvalid(`${path}.amount: ${(err as Error).message}`);
    }
    const currency = fieldStr(e, 'currency', path, 3)!;
    if (!/^[A-Z]{3}$/.test(currency)) throw new BankMessageInvalid(`${path}.currency: must be an ISO 4217 code like "CNY"`);
    const bookedAtText = fieldStr(e, 'bookedAt', path, 40)!;
    // An instant must say which instant: without an offset "10:00" is ambiguous by 8 hours.
    if (!/(Z|[+-]\d{2}:\d{2})$/.test(bookedAtText)) throw new BankMessageInvalid(`${path}.bookedAt: must carry a UTC offset`);
    const bookedAt = normalizeBankDateTime(bookedAtText, `${path}.bookedAt`);
    const valueDate = normalizeBankDate(fieldStr(e, 'valueDate', path, 10)!, `${path}.valueDate`);
    const d = e.debtor;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new BankMessageInvalid(`${path}.debtor: must be an object`);
    const debtor = d as Record<string, unknown>;
    const bankCode = fieldStr(debtor, 'bankCode', `${path}.debtor`, 12, { optional: true });
    if (bankCode !== undefined && !/^\d{12}$/.test(bankCode)) throw new BankMessageInvalid(`${path}.debtor.bankCode: must be a 12-digit CNAPS code`);
    const accountNumber = fieldStr(debtor, 'accountNumber', `${path}.debtor`, 34)!;
    const virtualAccount = fieldStr(e, 'virtualAccount', path, 34)!;
    const credit: CreditEntry = {
      entryRef: fieldStr(e, 'entryRef', path, 35)!,
      virtualAccount,
      amountFen,
      currency,
      bookedAt,
      valueDate,
      debtor: { name: fieldStr(debtor, 'name', `${path}.debtor`, notificationTextCharsMax)!, accountNumber, ...(bankCode ? { bankCode } : {}) },
    };
    const remittance = fieldStr(e, 'remittance', path, notificationTextCharsMax, { optional: true });
    if (remittance) credit.remittance = remittance;
    const endToEndId = fieldStr(e, 'endToEndId', path, 35, { optional: true });
    if (endToEndId) credit.endToEndId = endToEndId;
    return credit;
  });
  return { messageId: eventId, credits, ignored: 0 };
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

