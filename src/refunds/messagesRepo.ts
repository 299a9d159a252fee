// Queries on payment messages and on the attempts they carry, set-based: a message holds up to
// refundsPerMessageMax attempts, and each state change below is one guarded statement over
// them. Every write to refund_messages is here.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { inFlightAttemptStatuses, type AttemptRow, type NewAttempt, type RefundRow } from './repo';

export type MessageStatus = 'sending' | 'sent' | 'sent_unknown' | 'finished';
export const inFlightMessageStatuses: readonly MessageStatus[] = ['sending', 'sent', 'sent_unknown'];

export interface MessageRow {
  id: string;
  bank_id: string;
  status: MessageStatus;
  transfers: number;
  bank_status: string | null;
  last_error: string | null;
  polls: number;
  sent_at: Date | null;
  unknown_since: Date | null;
  next_poll_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Rows per statement: PostgreSQL takes at most 65,535 bind parameters per statement. */
const rowsPerStatementMax = 2_000;
const inFlight = inFlightAttemptStatuses as string[];

/** An array bound as one PostgreSQL array parameter (nulls included, for unnest). */
const pgArray = (values: (string | null)[]) => values as unknown as Knex.Value;

function chunks<T>(items: T[], size = rowsPerStatementMax): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const findMessage = (tx: Tx, id: string) => tx<MessageRow>('refund_messages').where({ id }).first() as Promise<MessageRow | undefined>;

// The rows a claim locks are picked once, in a materialized CTE, and exactly those are updated.
// Written as `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` the planner may run the
// subquery again for every row of the outer scan (a nested-loop semi join); a run after another
// worker committed its claim passes over the rows that worker took and locks the next ones, which
// the outer scan has already gone by. Those stay locked to the end of the transaction without
// being claimed, every other worker skips them, and they wait for the next claim.

/** Up to `limit` refunds of a bank that may go now, scheduled → submitted, each attempt counted;
 *  `first` (when due) is among them. SKIP LOCKED: two workers claiming at once take disjoint
 *  sets, and the outer guard makes a refund claimed once whatever the interleaving. */
export async function claimDueRefunds(tx: Knex.Transaction, bankId: string, f: { limit: number; attemptsMax: number; first?: string; now: Date }): Promise<RefundRow[]> {
  const { rows } = await tx.raw(
    `WITH picked AS MATERIALIZED (
       SELECT id FROM refunds
        WHERE bank_id = ? AND status = 'scheduled' AND attempts_count < ? AND (not_before IS NULL OR not_before <= now())
        ORDER BY (id = ?) DESC, due_by, id
        LIMIT ? FOR UPDATE SKIP LOCKED)
     UPDATE refunds r SET status = 'submitted', attempts_count = r.attempts_count + 1, updated_at = ?
       FROM picked WHERE r.id = picked.id AND r.status = 'scheduled'
     RETURNING r.*`,
    [bankId, f.attemptsMax, f.first ?? '', f.limit, f.now],
  );
  return rows as RefundRow[];
}

/** Scheduled refunds of a bank whose attempts are spent go to a person. */
export async function parkExhaustedAt(tx: Knex.Transaction, bankId: string, f: { attemptsMax: number; manualReason: string; limit: number; now: Date }): Promise<number> {
  const { rowCount } = await tx.raw(
    `WITH picked AS MATERIALIZED (
       SELECT id FROM refunds WHERE bank_id = ? AND status = 'scheduled' AND attempts_count >= ? LIMIT ? FOR UPDATE SKIP LOCKED)
     UPDATE refunds r SET status = 'manual', manual_code = 'attempts_exhausted', manual_reason = ?, updated_at = ?
       FROM picked WHERE r.id = picked.id AND r.status = 'scheduled'`,
    [bankId, f.attemptsMax, f.limit, f.manualReason, f.now],
  );
  return rowCount ?? 0;
}

/** Every earlier attempt of these refunds (rare: a first attempt has none). */
export async function attemptsOfRefunds(tx: Tx, refundIds: string[]): Promise<AttemptRow[]> {
  const out: AttemptRow[] = [];
  for (const ids of chunks(refundIds)) out.push(...((await tx('refund_attempts').whereIn('refund_id', ids).orderBy(['refund_id', 'seq'])) as AttemptRow[]));
  return out;
}

/** The account each refund's latest recorded decision sends it to, where there is one (R17). */
export async function latestAccountDecisions(tx: Tx, refundIds: string[]): Promise<Map<string, { account_number: string; account_name: string; account_bank_code: string | null }>> {
  const out = new Map();
  for (const ids of chunks(refundIds)) {
    const rows = await tx('refund_decisions')
      .distinctOn('refund_id')
      .whereIn('refund_id', ids)
      .whereNotNull('account_number')
      .orderBy([{ column: 'refund_id' }, { column: 'seq', order: 'desc' }])
      .select('refund_id', 'account_number', 'account_name', 'account_bank_code');
    for (const r of rows) out.set(r.refund_id, r);
  }
  return out;
}

export async function insertMessage(tx: Knex.Transaction, row: { id: string; bank_id: string; transfers: number; next_poll_at: Date }): Promise<void> {
  await tx('refund_messages').insert({ ...row, status: 'sending' });
}

export async function insertAttempts(tx: Knex.Transaction, rows: NewAttempt[]): Promise<AttemptRow[]> {
  const out: AttemptRow[] = [];
  for (const part of chunks(rows, 500)) out.push(...((await tx('refund_attempts').insert(part.map((r) => ({ ...r, status: 'sending' }))).returning('*')) as AttemptRow[]));
  return out;
}

/** The message's attempts still in flight, with their ages on the database's clock. */
export async function inFlightAttemptsOf(tx: Tx, messageId: string): Promise<(AttemptRow & { since_created_ms: number; since_unknown_ms: number })[]> {
  const { rows } = await tx.raw(
    `SELECT a.*, (extract(epoch FROM now() - a.created_at) * 1000)::float8 AS since_created_ms,
            (extract(epoch FROM now() - coalesce(a.unknown_since, a.created_at)) * 1000)::float8 AS since_unknown_ms
       FROM refund_attempts a WHERE a.message_id = ? AND a.status = ANY(?) ORDER BY a.id`,
    [messageId, inFlight],
  );
  return rows.map((r: AttemptRow & { since_created_ms: number; since_unknown_ms: number }) => ({ ...r, since_created_ms: Number(r.since_created_ms), since_unknown_ms: Number(r.since_unknown_ms) }));
}

/** sending → sent for the attempts the bank acknowledged, with the status it gave each;
 *  returns those that moved (an attempt given up meanwhile does not). */
export async function markAttemptsSent(tx: Knex.Transaction, items: { id: string; bankStatus: string | null }[], now: Date): Promise<Set<string>> {
  const moved = new Set<string>();
  for (const part of chunks(items)) {
    const { rows } = await tx.raw(
      `UPDATE refund_attempts a SET status = 'sent', sent_at = ?, bank_status = v.bank_status, updated_at = ?
         FROM unnest(?::text[], ?::text[]) AS v(id, bank_status)
        WHERE a.id = v.id AND a.status = 'sending' RETURNING a.id`,
      [now, now, pgArray(part.map((i) => i.id)), pgArray(part.map((i) => i.bankStatus))],
    );
    for (const r of rows) moved.add(r.id);
  }
  return moved;
}

/** sending → sent_unknown: the bank may or may not have these instructions. */
export async function markAttemptsUnknown(tx: Knex.Transaction, ids: string[], f: { lastError: string; now: Date }): Promise<number> {
  let n = 0;
  for (const part of chunks(ids)) {
    n += await tx('refund_attempts').whereIn('id', part).where({ status: 'sending' }).update({ status: 'sent_unknown', unknown_since: tx.fn.now(), last_error: f.lastError, updated_at: f.now });
  }
  return n;
}

export async function markMessageSent(tx: Knex.Transaction, id: string, f: { bankStatus: string | null; nextPollAt: Date; now: Date }): Promise<number> {
  return tx('refund_messages').where({ id, status: 'sending' }).update({ status: 'sent', sent_at: f.now, bank_status: f.bankStatus, next_poll_at: f.nextPollAt, updated_at: f.now });
}

export async function markMessageUnknown(tx: Knex.Transaction, id: string, f: { lastError: string; nextPollAt: Date; now: Date }): Promise<number> {
  return tx('refund_messages').where({ id, status: 'sending' }).update({ status: 'sent_unknown', unknown_since: tx.fn.now(), last_error: f.lastError, next_poll_at: f.nextPollAt, updated_at: f.now });
}

/** Counts a poll of a message still in flight, once: guarded by the poll count it was read with. */
export async function countMessagePoll(tx: Knex.Transaction, m: MessageRow, f: { nextPollAt: Date; bankStatus?: string | null; lastError: string | null; now: Date }): Promise<number> {
  // The attempts first, in id order, then the message: the order in which a status applied at
  // the same time locks them (lockInFlight, then finishMessageIfDone). Message first deadlocked
  // against it.
  await tx('refund_attempts').where({ message_id: m.id }).whereIn('status', inFlight).orderBy('id').forUpdate().select('id');
  const n = await tx('refund_messages')
    .where({ id: m.id, polls: m.polls })
    .whereIn('status', inFlightMessageStatuses as string[])
    .update({
      polls: m.polls + 1,
      next_poll_at: f.nextPollAt,
      updated_at: f.now,
      ...(f.bankStatus !== undefined ? { bank_status: f.bankStatus } : {}),
      ...(f.lastError !== null ? { last_error: f.lastError } : {}),
    });
  if (n === 1) await tx('refund_attempts').where({ message_id: m.id }).whereIn('status', inFlight).update({ polls: m.polls + 1, next_poll_at: f.nextPollAt, updated_at: f.now });
  return n;
}

/** A message with nothing left in flight is finished: no more polls. */
export async function finishMessageIfDone(tx: Knex.Transaction, id: string, now: Date): Promise<void> {
  await tx.raw(
    `UPDATE refund_messages SET status = 'finished', finished_at = ?, next_poll_at = NULL, updated_at = ?
      WHERE id = ? AND status <> 'finished' AND NOT EXISTS (SELECT 1 FROM refund_attempts a WHERE a.message_id = ? AND a.status = ANY(?))`,
    [now, now, id, id, inFlight],
  );
}

export async function messageIdsDueForPoll(tx: Tx, now: Date, limit: number): Promise<string[]> {
  return (await tx('refund_messages')
    .whereIn('status', inFlightMessageStatuses as string[])
    .where('next_poll_at', '<=', now)
    .orderBy('next_poll_at')
    .limit(limit)
    .pluck('id')) as string[];
}

/** For attempts sent before under the same end-to-end id: the earlier messages each refund's id
 *  went in, newest first, at most `perRefundMax` each. */
export async function earlierMessagesOf(tx: Tx, attempts: Pick<AttemptRow, 'refund_id' | 'end_to_end_id' | 'message_id'>[], perRefundMax: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (attempts.length === 0) return out;
  for (const part of chunks(attempts)) {
    const { rows } = await tx.raw(
      `SELECT a.refund_id, a.message_id FROM refund_attempts a
         JOIN unnest(?::text[], ?::text[], ?::text[]) AS v(refund_id, end_to_end_id, message_id)
           ON a.refund_id = v.refund_id AND a.end_to_end_id = v.end_to_end_id AND a.message_id <> v.message_id
        ORDER BY a.refund_id, a.seq DESC`,
      [part.map((a) => a.refund_id), part.map((a) => a.end_to_end_id), part.map((a) => a.message_id)],
    );
    for (const r of rows as { refund_id: string; message_id: string }[]) {
      const list = out.get(r.refund_id) ?? [];
      if (list.length < perRefundMax) list.push(r.message_id);
      out.set(r.refund_id, list);
    }
  }
  return out;
}

/** Attempts and their refunds locked in id order (two workers applying overlapping reports
 *  cannot deadlock), those still in flight only. */
export async function lockInFlight(tx: Knex.Transaction, attemptIds: string[]): Promise<{ attempts: AttemptRow[]; refunds: Map<string, RefundRow> }> {
  const attempts: AttemptRow[] = [];
  for (const part of chunks([...attemptIds].sort())) {
    attempts.push(...((await tx('refund_attempts').whereIn('id', part).whereIn('status', inFlight).orderBy('id').forUpdate()) as AttemptRow[]));
  }
  const refunds = new Map<string, RefundRow>();
  for (const part of chunks(attempts.map((a) => a.refund_id).sort())) {
    for (const r of (await tx('refunds').whereIn('id', part).orderBy('id').forUpdate()) as RefundRow[]) refunds.set(r.id, r);
  }
  return { attempts, refunds };
}

/** in flight → settled, with what the bank said of each. */
export async function markAttemptsSettled(tx: Knex.Transaction, items: { id: string; bankStatus: string; bankReference: string | null }[], now: Date): Promise<void> {
  for (const part of chunks(items)) {
    await tx.raw(
      `UPDATE refund_attempts a SET status = 'settled', bank_status = v.bank_status, bank_reference = v.bank_reference, finished_at = ?, next_poll_at = NULL, updated_at = ?
         FROM unnest(?::text[], ?::text[], ?::text[]) AS v(id, bank_status, bank_reference) WHERE a.id = v.id`,
      [now, now, pgArray(part.map((i) => i.id)), pgArray(part.map((i) => i.bankStatus)), pgArray(part.map((i) => i.bankReference))],
    );
  }
}

/** submitted → settled, each with the amounts its settling attempt carried; returns how many. */
export async function markRefundsSettled(tx: Knex.Transaction, items: { refundId: string; attemptId: string; bankReference: string | null }[], now: Date): Promise<number> {
  let n = 0;
  for (const part of chunks(items)) {
    const { rowCount } = await tx.raw(
      `UPDATE refunds r SET status = 'settled', interest_fen = a.interest_fen, late_fee_fen = a.late_fee_fen, value_date = a.value_date,
              settled_at = ?, bank_reference = v.bank_reference, updated_at = ?
         FROM unnest(?::text[], ?::text[], ?::text[]) AS v(refund_id, attempt_id, bank_reference)
         JOIN refund_attempts a ON a.id = v.attempt_id
        WHERE r.id = v.refund_id AND r.status = 'submitted'`,
      [now, now, pgArray(part.map((i) => i.refundId)), pgArray(part.map((i) => i.attemptId)), pgArray(part.map((i) => i.bankReference))],
    );
    n += rowCount ?? 0;
  }
  return n;
}
