// Group commit of credit notifications. In a deadline rush hundreds of bidders pay in the last
// minutes and the bank notifies every credit on its own: a transaction per notification pays
// BEGIN, a dozen statements and COMMIT (and the audit chain's lock) for a single credit. Here a
// notification that arrives while others of its bank are being committed waits for them and is
// then committed together with whatever else arrived meanwhile: one transaction, the credits of
// all of them recorded as one set (creditBatch.ts, each judged as if it had come alone, in
// arrival order), each notification keeping its own claim of its message id, its own answer and
// its own audit event (notifications.ts, receiveNotifications). A notification that finds
// nothing in progress is committed at once, so a quiet bank waits for nothing; the busier the
// bank, the larger the groups.
//
// A group is all or nothing, like any transaction. When one fails, each of its notifications is
// committed again alone, so that one notification's error is its own answer and no other's.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Calendar } from '../domain/calendar';
import { NotFound } from '../errors';
import { transactionRetried } from '../db/retry';
import type { AppDeps } from '../http/deps';
import type { Metrics } from '../http/metrics';
import type { WebhookSender } from '../http/webhookAuth';
import { recordedJobs, type Outbox } from '../queue/outbox';
import { findBank, type BankRow } from '../registry/repo';
import { readNotification, receiveNotifications, type NotificationAnswer, type NotificationResult, type ReceivedNotification } from './notifications';

/** Notifications committed in one transaction at most: bounds what one failure sends back to be
 *  committed alone, and (with at most `notificationInlineEntriesMax` entries each) keeps a
 *  group's credits within one set of creditBatch.ts. */
export const notificationGroupMembersMax = 16;
/** Groups of one process in their transactions at once. One: while it commits, the notices
 *  arriving gather into the next, which makes the groups of a rush larger (fewer statements per
 *  credit); two in flight measured no faster and mostly waited on the same sub-accounts' locks. */
export const notificationGroupsInFlightMax = 1;

export type ReceivedAnswer = { status: number; body: unknown; replayed: boolean };

/** A signed notification as it came, before its bank's adapter has read it. */
export interface SignedNotification {
  sender: WebhookSender;
  rawBody: Buffer;
  contentType: string;
  notifiedAt: Date;
}

interface Pending {
  signed: SignedNotification;
  /** Read once its group has the bank's row; kept if it waits for a later group. */
  received?: ReceivedNotification;
  calendar: Calendar;
  log: Logger;
  resolve: (answer: ReceivedAnswer) => void;
  reject: (err: unknown) => void;
}

interface GroupDeps {
  db: Knex;
  metrics: Metrics;
  outbox: Outbox;
}

export class NotificationGroups {
  private waiting: Pending[] = [];
  private inFlight = 0;

  /** `act` is the work of one group in its transaction (receiveNotifications). */
  constructor(
    private readonly deps: GroupDeps,
    private readonly act: typeof receiveNotifications = receiveNotifications,
  ) {}

  /** Commits `signed` with whatever else of its bank is waiting; resolves once committed. */
  submit(signed: SignedNotification, calendar: Calendar, log: Logger): Promise<ReceivedAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ signed, calendar, log, resolve, reject });
      this.startGroups();
    });
  }

  private startGroups(): void {
    while (this.inFlight < notificationGroupsInFlightMax && this.waiting.length > 0) {
      const group = this.takeGroup();
      this.inFlight += 1;
      void this.read(group)
        .then((readable) => this.commit(readable))
        .finally(() => {
          this.inFlight -= 1;
          this.startGroups();
        });
    }
  }

  /** The oldest waiting notification and those after it from the same bank, in arrival order. */
  private takeGroup(): Pending[] {
    const bankId = this.waiting[0].signed.sender.id;
    const group: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.waiting) {
      if (group.length < notificationGroupMembersMax && p.signed.sender.id === bankId) group.push(p);
      else rest.push(p);
    }
    this.waiting = rest;
    return group;
  }

  /** Reads each notification of a group with its bank's adapter (the bank's row read once for
   *  the group): one that is not a notification is answered with its error at once. A message id
   *  already in the group (the same message sent twice at once) waits for the next group, where
   *  it finds the first one's answer. */
  private async read(group: Pending[]): Promise<Pending[]> {
    const bankId = group[0].signed.sender.id;
    let bank: BankRow | undefined;
    try {
      bank = await findBank(this.deps.db, bankId);
    } catch (err) {
      for (const p of group) p.reject(err);
      return [];
    }
    const readable: Pending[] = [];
    const later: Pending[] = [];
    const messageIds = new Set<string>();
    for (const p of group) {
      if (!bank) {
        p.reject(new NotFound('bank', bankId));
        continue;
      }
      try {
        p.received ??= readNotification(p.signed.sender, bank, p.signed.rawBody, p.signed.contentType, p.signed.notifiedAt);
      } catch (err) {
        p.reject(err);
        continue;
      }
      const messageId = p.received.notification.messageId;
      if (messageIds.has(messageId)) later.push(p);
      else {
        messageIds.add(messageId);
        readable.push(p);
      }
    }
    this.waiting.unshift(...later);
    return readable;
  }

  private async commit(group: Pending[]): Promise<void> {
    if (group.length === 0) return;
    let results: NotificationResult[];
    let jobs = false;
    try {
      results = await transactionRetried(
        this.deps.db,
        async (tx) => {
          const r = await this.act(tx, group[group.length - 1].calendar, group.map((p) => p.received!));
          jobs = recordedJobs(tx);
          return r;
        },
        (err, attempt) => {
          this.deps.metrics.transactionsRetried.inc({ route: notificationRoute });
          group[0].log.warn({ err, attempt, notifications: group.length }, 'transaction aborted by the database; running it again');
        },
      );
    } catch (err) {
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      group[0].log.warn({ err, notifications: group.length }, 'a group of notifications failed; committing each alone');
      await Promise.all(group.map((p) => this.commit([p])));
      return;
    }
    if (jobs) this.deps.outbox.kick();
    this.deps.metrics.notificationGroupSize.observe(group.length);
    for (const [i, p] of group.entries()) {
      const result = results[i];
      if ('error' in result) {
        p.reject(result.error);
        continue;
      }
      // Counted once committed, as the transaction's other effects.
      const notOurs = (result.body as Partial<NotificationAnswer>).ignoredReasons?.notOurAccount ?? 0;
      if (notOurs > 0 && !result.replayed) this.deps.metrics.notificationEntriesIgnored.inc({ reason: 'not_our_account' }, notOurs);
      p.resolve(result);
    }
  }
}

const notificationRoute = '/v1/banks/:id/notifications';

// One committer per database handle, which is one per process (the runtime's).
const groupsByDb = new WeakMap<Knex, NotificationGroups>();

/** A signed notification from `sender`, answered once it is committed. */
export function receiveNotification(deps: AppDeps, sender: WebhookSender, rawBody: Buffer, contentType: string): Promise<ReceivedAnswer> {
  // R3 for a booking reported only as a date: the time the notice arrived bounds the booking.
  const notifiedAt = new Date();
  let groups = groupsByDb.get(deps.db);
  if (!groups) groupsByDb.set(deps.db, (groups = new NotificationGroups({ db: deps.db, metrics: deps.metrics, outbox: deps.outbox })));
  return groups.submit({ sender, rawBody, contentType, notifiedAt }, deps.tables.calendar, deps.log);
}
