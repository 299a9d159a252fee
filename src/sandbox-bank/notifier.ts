// Notifications to the service. A booking into the trust account (or the bank's reversal of
// one) writes its notification to an outbox row in the booking's own transaction; this loop
// pushes due rows (signed) until the service answers 2xx, backing off exponentially up to a
// ceiling, and parks a row after the configured number of attempts. The outbox lives in PostgreSQL, so retries
// survive a restart and no credit is ever booked without its notification.
import { PollingLoop } from './loop';
import type { Knex } from 'knex';
import type { CreditEntry } from '../banks/types';
import { buildCamt054 } from '../banks/iso20022/camt054';
import { cnh2hBuildCreditNotice, cnh2hTransCodeCreditNotice, cnh2hTransCodeHeader } from '../banks/cnh2h/protocol';
import { signMessage } from '../pki/messageSignature';
import { table, type SandboxContext } from './context';
import { bankTransactionCodeOfEntry, type AccountRow, type Booking, type EntryRow } from './ledger';

/** Rows claimed per poll; also the number of deliveries in flight at once. */
export const notifyBatchMax = 16;
/** How often due rows are looked for when nothing woke the loop. */
export const notifyPollIntervalMs = 100;
/** The second copy of a duplicated notice goes this long after the first, so that the service
 *  usually sees it as a replay of something it has already answered. */
export const duplicateNoticeGapMs = 50;
/** A claimed row is not claimed again for this long beyond the request timeout: another
 *  simulator on the same schema (or this one after a crash) then picks it up. */
export const notifyLeaseMarginMs = 5_000;
/** Error text kept per row: enough to see what the service said. */
export const notifyErrorCharsMax = 500;

export interface OutboxRow {
  id: bigint;
  message_id: string;
  copy: number;
  entry_ref: string;
  protocol: string;
  content_type: string;
  body: string;
  status: 'pending' | 'delivered' | 'parked';
  attempts: number;
  next_attempt_at: Date;
  last_http_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** The entry of a trust-account booking as the service is told of it: a credit (a deposit, a
 *  returned payment, interest) or the reversal of one. */
export function notifiedEntryOf(e: EntryRow): { entry: CreditEntry; reversal: boolean } {
  const reversal = e.kind === 'reversal';
  // Only money into the trust account, and the bank taking such money back, is notified.
  if (reversal !== (e.direction === 'debit')) throw new Error(`assertion: entry ${e.ref} (${e.kind}, ${e.direction}) is not notified`);
  const entry: CreditEntry = {
    entryRef: e.ref,
    virtualAccount: e.addressed_account ?? e.account_number,
    amountFen: e.amount_fen,
    currency: 'CNY',
    bookedAt: e.booked_at.toISOString(),
    valueDate: e.value_date,
    debtor: { name: e.counterparty_name ?? '', accountNumber: e.counterparty_number ?? '' },
    bankTransactionCode: bankTransactionCodeOfEntry(e),
  };
  if (e.counterparty_bank_code) entry.debtor.bankCode = e.counterparty_bank_code;
  if (e.remittance) entry.remittance = e.remittance;
  if (e.end_to_end_id) entry.endToEndId = e.end_to_end_id;
  if (e.booking_date_only) entry.bookingDateOnly = true;
  if (reversal) {
    if (!e.reverses_ref) throw new Error(`assertion: reversal ${e.ref} names no original`);
    entry.reversal = true;
    entry.originalEntryRef = e.reverses_ref;
  }
  if (e.kind === 'return') {
    if (!e.return_reason) throw new Error(`assertion: return ${e.ref} has no reason`);
    entry.returnInfo = { reasonCode: e.return_reason };
    if (e.end_to_end_id) entry.returnInfo.originalEndToEndId = e.end_to_end_id;
  }
  return { entry, reversal };
}

function renderNotification(ctx: SandboxContext, messageId: string, e: EntryRow, account: AccountRow, createdAt: Date): { contentType: string; body: string } {
  const { entry, reversal } = notifiedEntryOf(e);
  const credits = reversal ? [] : [entry];
  const reversals = reversal ? [entry] : [];
  if (ctx.config.protocol === 'cn-h2h') {
    const notice = cnh2hBuildCreditNotice({ messageId, account: account.number, credits, reversals }, { now: createdAt });
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(notice) };
  }
  const xml = buildCamt054({ messageId, createdAt, account: account.number, accountName: account.name, credits, reversals });
  return { contentType: 'application/xml; charset=utf-8', body: xml };
}

/** "SBXN" + the 25-character transfer reference: unique, and within camt.054's MsgId (35) and
 *  the cn-h2h noticeNo (32). */
export function notificationMessageIdOf(transferRef: string): string {
  return `SBXN${transferRef}`;
}

/** Queues the notification of a trust-account entry (see notifiedEntryOf), in the booking's
 *  transaction. The duplicateNoticeRate and noticeDelayMs faults are decided here and stored
 *  with the row. */
export async function enqueueNotification(tx: Knex.Transaction, ctx: SandboxContext, entry: EntryRow, account: AccountRow): Promise<string> {
  if (entry.account_number !== account.number || account.kind !== 'trust') throw new Error('assertion: only the trust account\'s entries are notified');
  const messageId = notificationMessageIdOf(entry.transfer_ref);
  const { contentType, body } = renderNotification(ctx, messageId, entry, account, entry.booked_at);
  const firstAt = new Date(entry.booked_at.getTime() + ctx.faults.noticeDelayMs);
  const copies = ctx.faults.roll('duplicateNotice') ? 2 : 1;
  const rows = [];
  for (let copy = 1; copy <= copies; copy++) {
    rows.push({
      message_id: messageId,
      copy,
      entry_ref: entry.ref,
      protocol: ctx.config.protocol,
      content_type: contentType,
      body,
      status: 'pending',
      next_attempt_at: new Date(firstAt.getTime() + (copy - 1) * duplicateNoticeGapMs),
    });
  }
  await tx(table(ctx, 'notification_outbox')).insert(rows);
  return messageId;
}

/** A credit into the trust account (a deposit) booked by a transfer. */
export async function enqueueCreditNotification(tx: Knex.Transaction, ctx: SandboxContext, booking: Booking): Promise<string> {
  if (!booking.credit || !booking.creditor) throw new Error('assertion: only a booking with a credit is notified');
  return enqueueNotification(tx, ctx, booking.credit, booking.creditor);
}

/** Exponential backoff with equal jitter, capped at backoffMaxMs (the named ceiling). */
export function retryDelayMs(attempts: number, policy: { backoffBaseMs: number; backoffMaxMs: number }): number {
  const exponent = Math.min(attempts - 1, 30);
  const delay = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** exponent);
  return Math.round(delay / 2 + (Math.random() * delay) / 2);
}

export class Notifier extends PollingLoop {
  private warnedNoUrl = false;

  constructor(private readonly ctx: SandboxContext) {
    super('notification', notifyPollIntervalMs, (m, e) => ctx.config.logger.error(m, e));
  }

  wake(): void {
    this.wakeAfter(0);
  }

  protected override async tick(): Promise<void> {
    const url = this.ctx.config.notifyUrl;
    if (!url) {
      if (!this.warnedNoUrl) this.ctx.config.logger.warn('sandbox bank: SANDBOX_NOTIFY_URL is not set; credit notifications wait in the outbox');
      this.warnedNoUrl = true;
      return;
    }
    const claimed = await this.claimDue();
    await Promise.all(claimed.map((row) => this.deliver(url, row)));
    if (claimed.length === notifyBatchMax) this.again = true;
  }

  private async claimDue(): Promise<OutboxRow[]> {
    const outbox = table(this.ctx, 'notification_outbox');
    const leaseMs = this.ctx.config.notify.requestTimeoutMs + notifyLeaseMarginMs;
    const { rows } = await this.ctx.db.raw(
      // Picked once (refunds/messagesRepo.ts says why not `IN (SELECT … SKIP LOCKED)`).
      `WITH picked AS MATERIALIZED (SELECT id FROM ?? WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
       UPDATE ?? AS o SET next_attempt_at = now() + make_interval(secs => ?::double precision / 1000)
       FROM picked WHERE o.id = picked.id
       RETURNING o.*`,
      [outbox, notifyBatchMax, outbox, leaseMs],
    );
    return rows as OutboxRow[];
  }

  private async deliver(url: string, row: OutboxRow): Promise<void> {
    const body = Buffer.from(row.body, 'utf8');
    const headers: Record<string, string> = {
      'Content-Type': row.content_type,
      ...signMessage(body, { keyPem: this.ctx.signer.keyPem, fingerprint: this.ctx.signer.fingerprint }),
    };
    if (row.protocol === 'cn-h2h') headers[cnh2hTransCodeHeader] = cnh2hTransCodeCreditNotice;
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.ctx.config.notify.requestTimeoutMs) });
      httpStatus = res.status;
      const text = await res.text().catch(() => '');
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}: ${text.slice(0, notifyErrorCharsMax)}`;
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`.slice(0, notifyErrorCharsMax);
    }
    const outbox = table(this.ctx, 'notification_outbox');
    const attempts = row.attempts + 1;
    if (error === null) {
      await this.ctx.db(outbox).where({ id: row.id }).update({ status: 'delivered', attempts, last_http_status: httpStatus, last_error: null, delivered_at: this.ctx.db.fn.now() });
      return;
    }
    const policy = this.ctx.config.notify;
    if (attempts >= policy.attemptsMax) {
      await this.ctx.db(outbox).where({ id: row.id }).update({ status: 'parked', attempts, last_http_status: httpStatus, last_error: error });
      this.ctx.config.logger.warn(`sandbox bank: notification ${row.message_id} parked after ${attempts} attempts: ${error}`);
      return;
    }
    await this.ctx.db(outbox)
      .where({ id: row.id })
      .update({ attempts, last_http_status: httpStatus, last_error: error, next_attempt_at: new Date(Date.now() + retryDelayMs(attempts, policy)) });
  }
}

export function outboxJson(row: OutboxRow) {
  return {
    id: row.id.toString(),
    messageId: row.message_id,
    copy: row.copy,
    entryRef: row.entry_ref,
    protocol: row.protocol,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastHttpStatus: row.last_http_status,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at ? row.delivered_at.toISOString() : null,
  };
}
