// Bank notifications committed in groups (db/groupCommit.ts): in a deadline rush the bank
// notifies every credit on its own, and the notices of one bank that arrive together are
// committed in one transaction, the credits of all of them recorded as one set (creditBatch.ts,
// each judged as if it had come alone, in arrival order), each notice keeping its own claim of
// its message id, its own answer and its own audit event (notifications.ts,
// receiveNotifications).
import type { Knex } from 'knex';
import type { Calendar } from '../domain/calendar';
import { NotFound } from '../errors';
import { groupCommitterOf, type GroupCommitSpec, type UnitOutcome } from '../db/groupCommit';
import type { AppDeps } from '../http/deps';
import type { Metrics } from '../http/metrics';
import type { WebhookSender } from '../http/webhookAuth';
import { findBank } from '../registry/repo';
import { readNotification, receiveNotifications, type NotificationAnswer, type ReceivedNotification } from './notifications';

/** Notices committed in one transaction at most; with at most `notificationInlineEntriesMax`
 *  entries each, a group's credits stay within one set of creditBatch.ts. */
export const notificationGroupUnitsMax = 16;

export type ReceivedAnswer = { status: number; body: unknown; replayed: boolean };

/** A signed notification as it came, and once its group has its bank's row, as read. */
export interface NotificationUnit {
  sender: WebhookSender;
  rawBody: Buffer;
  contentType: string;
  /** R3 for a booking reported only as a date: a bank books before it notifies, so the time the
   *  notice arrived bounds the booking. */
  notifiedAt: Date;
  calendar: Calendar;
  received?: ReceivedNotification;
}

/** How notices are grouped and committed; `act` is replaceable for tests of failures. */
export function notificationWork(metrics: Pick<Metrics, 'notificationEntriesIgnored'>): GroupCommitSpec<NotificationUnit, ReceivedAnswer> {
  return {
    work: 'notifications',
    unitsMax: notificationGroupUnitsMax,
    groupKey: (u) => u.sender.id,
    prepare: readWithBank,
    unitKey: (u) => u.received!.notification.messageId,
    act: (tx, units) => receiveNotifications(tx, units[units.length - 1].calendar, units.map((u) => u.received!)),
    committed: (_, answer) => {
      // Counted once committed, as the transaction's other effects.
      const notOurs = (answer.body as Partial<NotificationAnswer>).ignoredReasons?.notOurAccount ?? 0;
      if (notOurs > 0 && !answer.replayed) metrics.notificationEntriesIgnored.inc({ reason: 'not_our_account' }, notOurs);
    },
  };
}

/** Each notice read with its bank's adapter, against the bank's row as last read with a sender's
 *  certificate (or read now, for a sender that came without it); one that is not a notification
 *  is answered with its error. */
async function readWithBank(db: Knex, units: NotificationUnit[]): Promise<UnitOutcome<NotificationUnit>[]> {
  const bankId = units[0].sender.id;
  const bank = [...units].reverse().find((u) => u.sender.bank !== undefined)?.sender.bank ?? (await findBank(db, bankId));
  return units.map((u) => {
    if (!bank) return { error: new NotFound('bank', bankId) };
    try {
      return { value: { ...u, received: readNotification(u.sender, bank, u.rawBody, u.contentType, u.notifiedAt) } };
    } catch (error) {
      return { error };
    }
  });
}

/** A signed notification from `sender`, answered once it is committed. */
export function receiveNotification(deps: AppDeps, sender: WebhookSender, rawBody: Buffer, contentType: string): Promise<ReceivedAnswer> {
  const unit: NotificationUnit = { sender, rawBody, contentType, notifiedAt: new Date(), calendar: deps.tables.calendar };
  const committer = groupCommitterOf(
    deps,
    'notifications',
    () => notificationWork(deps.metrics),
  );
  return committer.submit(unit, deps);
}
