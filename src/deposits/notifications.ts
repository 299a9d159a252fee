// Incoming credit notifications from a deposit bank. The whole message is answered once per
// message id (a replay returns the first answer); within it each bank entry is recorded once
// per bank whatever message it arrives in, so a notification repeated in whole or in part
// never credits anything twice. Each entry goes to what it is:
//   a reversal of a credit (冲正)              → reversals.ts
//   a refund of ours sent back (退汇, RtrInf)  → refunds/returns.ts
//   interest on the trust account (结息)       → refunds/interestIncome.ts
//   any other credit                          → a deposit (creditBatch.ts, a set at a time)
// Credits are recorded before reversals, so a reversal finds a credit notified with it. A
// notification of more than a few entries is kept as it came and acknowledged at once; the
// deposits queue works through it in batches (notificationJobs.ts).
import type { Knex } from 'knex';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from '../banks/types';
import { xmlBodyBytesMax } from '../banks/xmlLimits';
import { appendAudit } from '../audit/service';
import { assert, BadRequest, NotFound } from '../errors';
import type { Calendar } from '../domain/calendar';
import type { WebhookSender } from '../http/webhookAuth';
import { onceForEvent } from '../http/webhookReplay';
import { findBank, type BankRow } from '../registry/repo';
import { recordInterestCredit } from '../refunds/interestIncome';
import { recordRefundReturn } from '../refunds/returns';
import { creditBatchEntriesMax, recordCredits } from './creditBatch';
import { enqueueNotificationJob } from './notificationQueue';
import { insertStoredNotification } from './notificationsRepo';
import { recordReversal } from './reversals';

/** The largest notification read: the XML reader's own bound, so a body it would refuse is
 *  refused before it is read into memory (413). */
export const notificationBodyBytesMax = xmlBodyBytesMax;
export const notificationContentTypes = ['application/xml', 'text/xml', 'application/json'] as const;

/** A notification with more entries than this is acknowledged at once (202, its receipt) and
 *  worked through by the deposits queue (notificationJobs.ts); up to it, the bank's answer
 *  carries the outcome. Small, so that a bank waits for the usual single credit and never for
 *  a day's file. */
export const notificationInlineEntriesMax = 50;

export interface NotificationAnswer {
  object: 'notification_receipt';
  messageId: string;
  /** Credits recorded: deposits, returned refunds, interest. */
  accepted: number;
  /** Entries on record before, from this message or another. */
  duplicates: number;
  /** Entries read and not acted on (debits, pending bookings, reversals without a reference,
   *  entries for accounts that are not this bank's trust account or its sub-accounts). */
  ignored: number;
  /** Why entries were not acted on, where the service decided it (not the parser). */
  ignoredReasons: { notOurAccount: number };
  /** Reversals applied: the deposits they took back are reversed. */
  reversals: number;
  /** Bank exceptions opened for a person (a reversal not applied or after the opening, a
   *  return that matches no refund...). A reversal applied after the opening counts here too. */
  exceptions: number;
  depositIds: string[];
}

/** The receipt of a notification acknowledged before its entries are worked through: its
 *  outcome is at GET /v1/banks/:id/notifications/:messageId. */
export interface NotificationReceipt {
  object: 'notification_receipt';
  messageId: string;
  status: 'processing';
  entries: number;
}

/** What entries of one notification came to, as counted while they are acted on. */
export interface NotificationCounts {
  accepted: number;
  duplicates: number;
  ignored: number;
  ignoredReasons: { notOurAccount: number };
  reversals: number;
  exceptions: number;
  depositIds: string[];
}

export const noCounts = (ignored = 0): NotificationCounts => ({ accepted: 0, duplicates: 0, ignored, ignoredReasons: { notOurAccount: 0 }, reversals: 0, exceptions: 0, depositIds: [] });

/** One entry of a notification to act on: a credit, or a reversal of an earlier one. */
export type NotifiedEntry = { kind: 'credit'; entry: CreditEntry } | { kind: 'reversal'; entry: CreditEntry };

/** Interest the bank credits to the trust account (结息), as the bank transaction code says. */
export const interestTransactionCode = 'ACMT/MCOP/INTR';

export function parseBankNotification(bank: BankRow, rawBody: Buffer, contentType: string): CreditNotification {
  try {
    return createBankAdapter({ protocol: protocolOfAdapter(bank.adapter), endpoint: bank.endpoint }).parseNotification(rawBody, contentType);
  } catch (e) {
    if (e instanceof BankMessageInvalid) throw new BadRequest('bank_message_invalid', e.message, e.field);
    throw e;
  }
}

export async function receiveNotification(
  tx: Knex.Transaction,
  calendar: Calendar,
  sender: WebhookSender,
  rawBody: Buffer,
  contentType: string,
): Promise<{ status: number; body: unknown }> {
  // R3 for a booking reported only as a date: a bank books before it notifies, so the time the
  // notice arrived bounds the booking.
  const notifiedAt = new Date();
  const bank = await findBank(tx, sender.id);
  if (!bank) throw new NotFound('bank', sender.id);
  const notification = parseBankNotification(bank, rawBody, contentType);
  return onceForEvent(tx, sender, notification.messageId, rawBody, async () => {
    const reversals = notification.reversals ?? [];
    // The parser counts the reversals it lists among the ignored too; they are acted on here.
    const ignored = notification.ignored - reversals.length;
    assert(ignored >= 0, `notification ${notification.messageId}: the reversals listed are among the entries not credited`);
    const entries = notification.credits.length + reversals.length;
    if (entries > notificationInlineEntriesMax) {
      const receipt = await storeForProcessing(tx, { bank, messageId: notification.messageId, rawBody, contentType, entries: inBookingOrder(notification), ignored, receivedAt: notifiedAt });
      return { status: 202, body: receipt };
    }
    const counts = noCounts(ignored);
    await actOnEntries(tx, calendar, bank, notification.messageId, inMessageOrder(notification), notifiedAt, counts);
    const answer: NotificationAnswer = { object: 'notification_receipt', messageId: notification.messageId, ...counts };
    await appendAudit(tx, {
      actor: { type: 'bank', id: bank.id },
      action: 'bank.notification_received',
      entityType: 'bank',
      entityId: bank.id,
      data: {
        messageId: notification.messageId,
        accepted: answer.accepted,
        duplicates: answer.duplicates,
        ignored: answer.ignored,
        reversals: answer.reversals,
        exceptions: answer.exceptions,
        bodyBytes: rawBody.length,
      },
    });
    return { status: 200, body: answer };
  });
}

/** Keeps a large notification, its job in the outbox, and answers its receipt. */
async function storeForProcessing(
  tx: Knex.Transaction,
  n: { bank: BankRow; messageId: string; rawBody: Buffer; contentType: string; entries: NotifiedEntry[]; ignored: number; receivedAt: Date },
): Promise<NotificationReceipt> {
  await insertStoredNotification(tx, { bank_id: n.bank.id, message_id: n.messageId, content_type: n.contentType, body: n.rawBody, entries: writeEntries(n.entries), entries_total: n.entries.length, ignored: n.ignored, received_at: n.receivedAt });
  await enqueueNotificationJob(tx, n.bank.id, n.messageId);
  await appendAudit(tx, {
    actor: { type: 'bank', id: n.bank.id },
    action: 'bank.notification_received',
    entityType: 'bank',
    entityId: n.bank.id,
    data: { messageId: n.messageId, status: 'processing', entries: n.entries.length, bodyBytes: n.rawBody.length },
  });
  return { object: 'notification_receipt', messageId: n.messageId, status: 'processing', entries: n.entries.length };
}

/** Credits in booking order (the message's order among equal times), then reversals, so a
 *  reversal finds a credit notified with it: the order a kept notification is acted on in. */
export function inBookingOrder(n: CreditNotification): NotifiedEntry[] {
  const credits = n.credits.map((entry, i) => ({ entry, i, at: Date.parse(entry.bookedAt) }));
  credits.sort((a, b) => a.at - b.at || a.i - b.i);
  return [...credits.map(({ entry }) => ({ kind: 'credit' as const, entry })), ...(n.reversals ?? []).map((entry) => ({ kind: 'reversal' as const, entry }))];
}

/** Entries as kept (JSON, amounts as decimal strings of fen) and read back. */
export function writeEntries(entries: NotifiedEntry[]): string {
  return JSON.stringify(entries, (k, v: unknown) => (k === 'amountFen' && typeof v === 'bigint' ? v.toString() : v));
}

export function readEntries(json: string): NotifiedEntry[] {
  return JSON.parse(json, (k, v: unknown) => (k === 'amountFen' && typeof v === 'string' ? BigInt(v) : v)) as NotifiedEntry[];
}

/** Credits before reversals, so a reversal finds a credit notified with it. */
export function inMessageOrder(n: CreditNotification): NotifiedEntry[] {
  return [...n.credits.map((entry) => ({ kind: 'credit' as const, entry })), ...(n.reversals ?? []).map((entry) => ({ kind: 'reversal' as const, entry }))];
}

/** Acts on `entries` in order, adding what each came to to `counts`: the credits a set at a
 *  time (creditBatch.ts), then the reversals one by one. */
export async function actOnEntries(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, messageId: string, entries: NotifiedEntry[], notifiedAt: Date, counts: NotificationCounts): Promise<void> {
  const deposits: CreditEntry[] = [];
  for (const e of entries) {
    if (e.kind !== 'credit') continue;
    const credit = e.entry;
    const kind = creditKindOf(bank, credit);
    if (kind === 'not_ours') {
      counts.ignored += 1;
      counts.ignoredReasons.notOurAccount += 1;
    } else if (kind === 'deposit') {
      deposits.push(credit);
    } else {
      const outcome = await recordReturnOrInterest(tx, bank, messageId, credit, kind);
      if (outcome.kind === 'duplicate') counts.duplicates += 1;
      else if (outcome.kind === 'exception') counts.exceptions += 1;
      else counts.accepted += 1;
    }
  }
  // Money in another currency is held for the centre by recordCredits.
  for (let at = 0; at < deposits.length; at += creditBatchEntriesMax) {
    for (const outcome of await recordCredits(tx, calendar, bank, messageId, deposits.slice(at, at + creditBatchEntriesMax), notifiedAt)) {
      if (outcome.kind === 'duplicate') counts.duplicates += 1;
      else if (outcome.kind === 'exception') counts.exceptions += 1;
      else {
        counts.accepted += 1;
        counts.depositIds.push(outcome.depositId);
      }
    }
  }
  for (const e of entries) {
    if (e.kind !== 'reversal') continue;
    const reversal = e.entry;
    if (!isOurAccount(bank, reversal.virtualAccount)) {
      counts.ignored += 1;
      counts.ignoredReasons.notOurAccount += 1;
      continue;
    }
    const outcome = await recordReversal(tx, calendar, bank, messageId, reversal);
    if (outcome.kind === 'duplicate') counts.duplicates += 1;
    else if (outcome.kind === 'exception') counts.exceptions += 1;
    else {
      counts.reversals += 1;
      counts.exceptions += outcome.exceptionIds.length;
    }
  }
}

/** What a credit entry is to the service, read alike from a notice and from a statement line
 *  whose notice was lost: money for an account not ours, a refund of ours sent back (退汇), the
 *  bank's interest on the trust account (结息), or a deposit. */
export type CreditKind = 'not_ours' | 'return' | 'interest' | 'deposit';

export function creditKindOf(bank: Pick<BankRow, 'trust_account_number' | 'virtual_account_prefix'>, credit: CreditEntry): CreditKind {
  if (!isOurAccount(bank, credit.virtualAccount)) return 'not_ours';
  if (credit.returnInfo) return 'return';
  if (credit.bankTransactionCode === interestTransactionCode) return 'interest';
  return 'deposit';
}

/** A refund sent back goes to its refund, interest to income (refunds/returns.ts,
 *  refunds/interestIncome.ts). */
export function recordReturnOrInterest(tx: Knex.Transaction, bank: BankRow, messageId: string, credit: CreditEntry, kind: 'return' | 'interest') {
  return kind === 'return' ? recordRefundReturn(tx, bank, messageId, credit) : recordInterestCredit(tx, bank, messageId, credit);
}

/** The account of the service's own trust money at this bank: the trust account itself or one
 *  of its virtual sub-accounts. A bank's notice may list other accounts of the same customer or
 *  of nobody we know; booking them would put money that is not ours into the ledger. */
export function isOurAccount(bank: Pick<BankRow, 'trust_account_number' | 'virtual_account_prefix'>, account: string): boolean {
  return account === bank.trust_account_number || (account.startsWith(bank.virtual_account_prefix) && account.length > bank.virtual_account_prefix.length);
}
