// Incoming credit notifications from a deposit bank. The whole message is answered once per
// message id (a replay returns the first answer); within it each bank entry is recorded once
// per bank whatever message it arrives in, so a notification repeated in whole or in part
// never credits anything twice. Each entry goes to what it is:
//   a reversal of a credit (冲正)              → reversals.ts
//   a refund of ours sent back (退汇, RtrInf)  → refunds/returns.ts
//   interest on the trust account (结息)       → refunds/interestIncome.ts
//   any other credit                          → a deposit (matching.ts)
// Credits are recorded before reversals, so a reversal finds a credit notified with it.
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
import { recordCredit } from './matching';
import { recordReversal } from './reversals';

/** The largest notification read: the XML reader's own bound, so a body it would refuse is
 *  refused before it is read into memory (413). */
export const notificationBodyBytesMax = xmlBodyBytesMax;
export const notificationContentTypes = ['application/xml', 'text/xml', 'application/json'] as const;

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
    const answer: NotificationAnswer = { object: 'notification_receipt', messageId: notification.messageId, accepted: 0, duplicates: 0, ignored, ignoredReasons: { notOurAccount: 0 }, reversals: 0, exceptions: 0, depositIds: [] };
    for (const credit of notification.credits) await dispatchCredit(tx, calendar, bank, notification.messageId, credit, notifiedAt, answer);
    for (const reversal of reversals) {
      if (!isOurAccount(bank, reversal.virtualAccount)) {
        answer.ignored += 1;
        answer.ignoredReasons.notOurAccount += 1;
        continue;
      }
      const outcome = await recordReversal(tx, calendar, bank, notification.messageId, reversal);
      if (outcome.kind === 'duplicate') answer.duplicates += 1;
      else if (outcome.kind === 'exception') answer.exceptions += 1;
      else {
        answer.reversals += 1;
        answer.exceptions += outcome.exceptionIds.length;
      }
    }
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

/** The account of the service's own trust money at this bank: the trust account itself or one
 *  of its virtual sub-accounts. A bank's notice may list other accounts of the same customer or
 *  of nobody we know; booking them would put money that is not ours into the ledger. */
export function isOurAccount(bank: Pick<BankRow, 'trust_account_number' | 'virtual_account_prefix'>, account: string): boolean {
  return account === bank.trust_account_number || (account.startsWith(bank.virtual_account_prefix) && account.length > bank.virtual_account_prefix.length);
}

/** One credit to what it is: not ours, a returned refund, interest, or a deposit (recordCredit
 *  holds money in another currency for the centre). */
async function dispatchCredit(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, messageId: string, credit: CreditEntry, notifiedAt: Date, answer: NotificationAnswer): Promise<void> {
  if (!isOurAccount(bank, credit.virtualAccount)) {
    answer.ignored += 1;
    answer.ignoredReasons.notOurAccount += 1;
    return;
  }
  if (credit.returnInfo || credit.bankTransactionCode === interestTransactionCode) {
    const outcome = credit.returnInfo ? await recordRefundReturn(tx, bank, messageId, credit) : await recordInterestCredit(tx, bank, messageId, credit);
    if (outcome.kind === 'duplicate') answer.duplicates += 1;
    else if (outcome.kind === 'exception') answer.exceptions += 1;
    else answer.accepted += 1;
    return;
  }
  const outcome = await recordCredit(tx, calendar, bank, messageId, credit, notifiedAt);
  if (outcome.kind === 'duplicate') answer.duplicates += 1;
  else if (outcome.kind === 'exception') answer.exceptions += 1;
  else {
    answer.accepted += 1;
    answer.depositIds.push(outcome.depositId);
  }
}
