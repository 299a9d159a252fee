// Incoming credit notifications from a deposit bank. The whole message is answered once per
// message id (a replay returns the first answer); within it each bank entry is recorded once
// per bank whatever message it arrives in, so a notification repeated in whole or in part
// never credits anything twice.
import type { Knex } from 'knex';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankMessageInvalid, type CreditNotification } from '../banks/types';
import { xmlBodyBytesMax } from '../banks/xmlLimits';
import { appendAudit } from '../audit/service';
import { BadRequest, NotFound } from '../errors';
import type { Calendar } from '../domain/calendar';
import type { WebhookSender } from '../http/webhookAuth';
import { onceForEvent } from '../http/webhookReplay';
import { findBank, type BankRow } from '../registry/repo';
import { recordCredit } from './matching';

/** The largest notification read: the XML reader's own bound, so a body it would refuse is
 *  refused before it is read into memory (413). */
export const notificationBodyBytesMax = xmlBodyBytesMax;
export const notificationContentTypes = ['application/xml', 'text/xml', 'application/json'] as const;

export interface NotificationAnswer {
  object: 'notification_receipt';
  messageId: string;
  accepted: number;
  duplicates: number;
  ignored: number;
  depositIds: string[];
}

export function parseBankNotification(bank: BankRow, rawBody: Buffer, contentType: string): CreditNotification {
  try {
    return createBankAdapter({ protocol: protocolOfAdapter(bank.adapter), endpoint: bank.endpoint }).parseNotification(rawBody, contentType);
  } catch (e) {
    if (e instanceof BankMessageInvalid) throw new BadRequest('bank_message_invalid', e.message);
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
  const bank = await findBank(tx, sender.id);
  if (!bank) throw new NotFound('bank', sender.id);
  const notification = parseBankNotification(bank, rawBody, contentType);
  return onceForEvent(tx, sender, notification.messageId, rawBody, async () => {
    const answer: NotificationAnswer = { object: 'notification_receipt', messageId: notification.messageId, accepted: 0, duplicates: 0, ignored: notification.ignored, depositIds: [] };
    for (const credit of notification.credits) {
      const outcome = await recordCredit(tx, calendar, bank, notification.messageId, credit);
      if (outcome.kind === 'duplicate') answer.duplicates += 1;
      else {
        answer.accepted += 1;
        answer.depositIds.push(outcome.depositId);
      }
    }
    await appendAudit(tx, {
      actor: { type: 'bank', id: bank.id },
      action: 'bank.notification_received',
      entityType: 'bank',
      entityId: bank.id,
      data: { messageId: notification.messageId, accepted: answer.accepted, duplicates: answer.duplicates, ignored: answer.ignored, bodyBytes: rawBody.length },
    });
    return { status: 200, body: answer };
  });
}
