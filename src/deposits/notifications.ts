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
import { ApiError, assert, BadRequest } from '../errors';
import type { Calendar } from '../domain/calendar';
import { CertificateRetiredAtClaim, type WebhookSender } from '../http/webhookAuth';
import { claimEvents, firstAnswer, recordAnswersAndAudit, requestHashOf } from '../http/webhookReplay';
import type { BankRow } from '../registry/repo';
import { recordInterestCredit } from '../refunds/interestIncome';
import { recordRefundReturn } from '../refunds/returns';
import { creditBatchEntriesMax, recordCredits, type NotifiedCredit } from './creditBatch';
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

/** A notification read and checked, to be acted on in a transaction, alone or with others of
 *  its bank (notificationGroups.ts). */
export interface ReceivedNotification {
  sender: WebhookSender;
  bank: BankRow;
  notification: CreditNotification;
  rawBody: Buffer;
  contentType: string;
  requestHash: string;
  /** R3 for a booking reported only as a date: a bank books before it notifies, so the time
   *  the notice arrived bounds the booking. */
  notifiedAt: Date;
  /** Entries not acted on, as the parser counted them less the reversals it listed. */
  ignored: number;
}

/** Parses a signed notification of `bank` (400 bank_message_invalid when it is not one). */
export function readNotification(sender: WebhookSender, bank: BankRow, rawBody: Buffer, contentType: string, notifiedAt: Date): ReceivedNotification {
  const notification = parseBankNotification(bank, rawBody, contentType);
  // The parser counts the reversals it lists among the ignored too; they are acted on here.
  const ignored = notification.ignored - (notification.reversals ?? []).length;
  assert(ignored >= 0, `notification ${notification.messageId}: the reversals listed are among the entries not credited`);
  return { sender, bank, notification, rawBody, contentType, requestHash: requestHashOf(rawBody), notifiedAt, ignored };
}

/** What one notification came to: its answer (the first one again for a message received
 *  before), or the error to answer it with. */
export type NotificationResult = { value: { status: number; body: NotificationAnswer | NotificationReceipt | unknown; replayed: boolean } } | { error: ApiError };

/** Acts on notifications of one bank, each with a message id of its own, in `tx`: each message
 *  once (a replay gets its first answer), each bank entry once whatever message it came in, the
 *  credits of all of them recorded together (creditBatch.ts) and then their reversals. */
export async function receiveNotifications(tx: Knex.Transaction, calendar: Calendar, received: ReceivedNotification[]): Promise<NotificationResult[]> {
  if (received.length === 0) return [];
  const { sender, bank } = received[0];
  assert(received.every((r) => r.bank.id === bank.id && r.sender.id === sender.id), 'notifications acted on together are of one bank');
  assert(new Set(received.map((r) => r.notification.messageId)).size === received.length, 'notifications acted on together have distinct message ids');
  const { claimed, certificateRetired } = await claimEvents(
    tx,
    sender,
    received.map((r) => ({ eventId: r.notification.messageId, requestHash: r.requestHash, fingerprint: r.sender.fingerprint })),
  );
  const results: NotificationResult[] = new Array(received.length);
  const inline: { index: number; work: MessageEntries }[] = [];
  for (const [index, r] of received.entries()) {
    const { notification } = r;
    if (certificateRetired.has(notification.messageId)) {
      results[index] = { error: new CertificateRetiredAtClaim() };
      continue;
    }
    if (!claimed.has(notification.messageId)) {
      results[index] = await replayOf(tx, sender, notification.messageId, r.requestHash);
      continue;
    }
    const entries = notification.credits.length + (notification.reversals ?? []).length;
    if (entries > notificationInlineEntriesMax) {
      const receipt = await storeForProcessing(tx, { bank, messageId: notification.messageId, rawBody: r.rawBody, contentType: r.contentType, entries: inBookingOrder(notification), ignored: r.ignored, receivedAt: r.notifiedAt });
      results[index] = { value: { status: 202, body: receipt, replayed: false } };
      continue;
    }
    inline.push({ index, work: { messageId: notification.messageId, entries: inMessageOrder(notification), notifiedAt: r.notifiedAt, counts: noCounts(r.ignored) } });
  }
  await actOnMessages(tx, calendar, bank, inline.map((m) => m.work));
  for (const { index, work } of inline) {
    const answer: NotificationAnswer = { object: 'notification_receipt', messageId: work.messageId, ...work.counts };
    await appendAudit(tx, {
      actor: { type: 'bank', id: bank.id },
      action: 'bank.notification_received',
      entityType: 'bank',
      entityId: bank.id,
      data: {
        messageId: answer.messageId,
        accepted: answer.accepted,
        duplicates: answer.duplicates,
        ignored: answer.ignored,
        reversals: answer.reversals,
        exceptions: answer.exceptions,
        bodyBytes: received[index].rawBody.length,
      },
    });
    results[index] = { value: { status: 200, body: answer, replayed: false } };
  }
  const answered = received.flatMap((r, index) => {
    const result = results[index];
    return 'error' in result || result.value.replayed ? [] : [{ eventId: r.notification.messageId, status: result.value.status, body: result.value.body }];
  });
  await recordAnswersAndAudit(tx, sender, answered);
  return results;
}

/** The first answer to a message received before, or 409 when it came with another body. */
async function replayOf(tx: Knex.Transaction, sender: WebhookSender, messageId: string, requestHash: string): Promise<NotificationResult> {
  try {
    return { value: await firstAnswer(tx, { sender, eventId: messageId }, requestHash) };
  } catch (e) {
    if (e instanceof ApiError) return { error: e };
    throw e;
  }
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

/** The entries of one message to act on, and what they have come to so far. */
export interface MessageEntries {
  messageId: string;
  entries: NotifiedEntry[];
  notifiedAt: Date;
  counts: NotificationCounts;
}

/** Acts on the entries of one message in order, adding what each came to to `counts`;
 *  `onClaimed` as in actOnMessages. */
export function actOnEntries(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, messageId: string, entries: NotifiedEntry[], notifiedAt: Date, counts: NotificationCounts, onClaimed?: () => void): Promise<void> {
  return actOnMessages(tx, calendar, bank, [{ messageId, entries, notifiedAt, counts }], onClaimed);
}

/** Acts on the entries of messages of one bank, each adding to its own counts: returns and
 *  interest one by one, the deposits of every message a set at a time (creditBatch.ts, each
 *  judged as if they had come one at a time in this order), then the reversals one by one.
 *  `onClaimed` is called once the first set of deposits is claimed and its sub-accounts locked,
 *  or, with no deposits, before the reversals. */
export async function actOnMessages(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, messages: MessageEntries[], onClaimed: () => void = () => {}): Promise<void> {
  const deposits: { credit: NotifiedCredit; counts: NotificationCounts }[] = [];
  for (const { messageId, entries, notifiedAt, counts } of messages) {
    for (const e of entries) {
      if (e.kind !== 'credit') continue;
      const credit = e.entry;
      const kind = creditKindOf(bank, credit);
      if (kind === 'not_ours') {
        counts.ignored += 1;
        counts.ignoredReasons.notOurAccount += 1;
      } else if (kind === 'deposit') {
        deposits.push({ credit: { entry: credit, messageId, notifiedAt }, counts });
      } else {
        const outcome = await recordReturnOrInterest(tx, bank, messageId, credit, kind);
        if (outcome.kind === 'duplicate') counts.duplicates += 1;
        else if (outcome.kind === 'exception') counts.exceptions += 1;
        else counts.accepted += 1;
      }
    }
  }
  // Money in another currency is held for the centre by recordCredits.
  for (let at = 0; at < deposits.length; at += creditBatchEntriesMax) {
    const batch = deposits.slice(at, at + creditBatchEntriesMax);
    const outcomes = await recordCredits(tx, calendar, bank, batch.map((d) => d.credit), at === 0 ? onClaimed : undefined);
    for (const [i, outcome] of outcomes.entries()) {
      const { counts } = batch[i];
      if (outcome.kind === 'duplicate') counts.duplicates += 1;
      else if (outcome.kind === 'exception') counts.exceptions += 1;
      else {
        counts.accepted += 1;
        counts.depositIds.push(outcome.depositId);
      }
    }
  }
  if (deposits.length === 0) onClaimed();
  for (const { messageId, entries, counts } of messages) {
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
