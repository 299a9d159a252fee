// End-of-day statements (camt.053 or the cn-h2h NDJSON detail query) for an account and an
// Asia/Shanghai business day. The header and every entry are read in one REPEATABLE READ
// snapshot, so a booking made while a statement streams can never make its balances disagree:
// opening + credits - debits = closing, exactly, always.
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import type { StatementEntry, StatementHeader } from '../banks/types';
import { shanghaiParts } from '../banks/iso20022/time';
import { table, type SandboxContext } from './context';
import { SandboxError } from './errors';
import { bankTransactionCodeOfEntry, type AccountRow, type EntryRow } from './ledger';
import { newReportMessageId } from './payments';

/** Entries read from the database at a time while streaming: memory stays bounded however
 *  busy the day was. */
export const statementPageRows = 1_000;
const dayMs = 86_400_000;

/** Waits for the client to take more, or fails when it has gone away (never hangs). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) return reject(new Error('statement client went away'));
    const onDrain = () => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      out.off('drain', onDrain);
      reject(new Error('statement client went away'));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}

export type StatementBuilder = (header: StatementHeader & { createdAt: Date }, entries: Iterable<StatementEntry>) => Generator<string>;

export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const t = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === value;
}

/** Start and end of a business day in Beijing time (UTC+8, no daylight saving). */
export function shanghaiDayBounds(date: string): { start: Date; end: Date } {
  const start = new Date(`${date}T00:00:00+08:00`);
  return { start, end: new Date(start.getTime() + dayMs) };
}

function statementIdOf(account: string, compactDate: string): string {
  const id = `${compactDate}-${account}`;
  // Max35Text: a very long account number is replaced by a stable digest of it.
  return id.length <= 35 ? id : `${compactDate}-${createHash('sha256').update(account).digest('hex').slice(0, 26)}`;
}

function toStatementEntry(e: EntryRow): StatementEntry {
  const entry: StatementEntry = {
    entryRef: e.ref,
    direction: e.direction,
    amountFen: e.amount_fen,
    currency: 'CNY',
    bookedAt: e.booked_at.toISOString(),
    valueDate: e.value_date,
    counterparty: {},
  };
  if (e.addressed_account) entry.account = e.addressed_account;
  if (e.counterparty_name) entry.counterparty.name = e.counterparty_name;
  if (e.counterparty_number) entry.counterparty.accountNumber = e.counterparty_number;
  if (e.counterparty_bank_code) entry.counterparty.bankCode = e.counterparty_bank_code;
  if (e.remittance) entry.remittance = e.remittance;
  if (e.end_to_end_id) entry.endToEndId = e.end_to_end_id;
  // Described as its notification described it: a statement line and the notice of the same
  // booking must be recognisably the same booking.
  entry.bankTransactionCode = bankTransactionCodeOfEntry(e);
  if (e.booking_date_only) entry.bookingDateOnly = true;
  if (e.kind === 'reversal') {
    entry.reversal = true;
    if (e.reverses_ref) entry.originalEntryRef = e.reverses_ref;
  }
  if (e.kind === 'return' && e.return_reason) {
    entry.returnInfo = { reasonCode: e.return_reason };
    if (e.end_to_end_id) entry.returnInfo.originalEndToEndId = e.end_to_end_id;
  }
  return entry;
}

export interface StatementPlan {
  header: StatementHeader & { createdAt: Date };
  entryCount: number;
}

async function planStatement(tx: Knex.Transaction, ctx: SandboxContext, accountNumber: string, date: string): Promise<StatementPlan> {
  const account: AccountRow | undefined = await tx(table(ctx, 'accounts')).where({ number: accountNumber }).first();
  if (!account) throw new SandboxError(404, 'account_not_found', `no account ${accountNumber}`, 'account');
  const today = shanghaiParts(new Date()).date;
  const openedOn = shanghaiParts(account.opened_at).date;
  if (date > today) throw new SandboxError(404, 'statement_not_available', `no statement for ${date}: that day has not begun in Beijing`, 'date');
  if (date < openedOn) throw new SandboxError(404, 'statement_not_available', `no statement for ${date}: account ${accountNumber} was opened on ${openedOn}`, 'date');
  const { start, end } = shanghaiDayBounds(date);
  const entries = table(ctx, 'entries');
  const before: { balance_after_fen: bigint } | undefined = await tx(entries)
    .where({ account_number: accountNumber })
    .andWhere('booked_at', '<', start)
    .orderBy('seq', 'desc')
    .first('balance_after_fen');
  const openingBalanceFen = before ? before.balance_after_fen : account.initial_balance_fen;
  const { rows } = await tx.raw(
    `SELECT coalesce(sum(amount_fen) FILTER (WHERE direction = 'credit'), 0)::bigint AS credits,
            coalesce(sum(amount_fen) FILTER (WHERE direction = 'debit'), 0)::bigint AS debits,
            count(*)::bigint AS n
       FROM ?? WHERE account_number = ? AND booked_at >= ? AND booked_at < ?`,
    [entries, accountNumber, start, end],
  );
  const { credits, debits, n } = rows[0] as { credits: bigint; debits: bigint; n: bigint };
  const closingBalanceFen = openingBalanceFen + credits - debits;
  const last: { balance_after_fen: bigint } | undefined = await tx(entries)
    .where({ account_number: accountNumber })
    .andWhere('booked_at', '<', end)
    .orderBy('seq', 'desc')
    .first('balance_after_fen');
  // The running balance written with each booking must agree with the day's totals.
  if (last && last.balance_after_fen !== closingBalanceFen) {
    throw new Error(`assertion: statement of ${accountNumber} for ${date}: closing ${closingBalanceFen} but the last booking left ${last.balance_after_fen}`);
  }
  const p = shanghaiParts(start);
  // The statement's electronic sequence number counts the account's days: it increases by one
  // each business day and is the same however often a day is asked for.
  const sequence = Math.round((start.getTime() - shanghaiDayBounds(openedOn).start.getTime()) / dayMs) + 1;
  return {
    header: {
      messageId: newReportMessageId('S'),
      statementId: statementIdOf(accountNumber, p.compactDate),
      sequenceNumber: String(sequence),
      account: accountNumber,
      currency: 'CNY',
      date,
      openingBalanceFen,
      closingBalanceFen,
      createdAt: new Date(),
    },
    entryCount: Number(n),
  };
}

/**
 * Streams a statement: `check` runs before anything is written (a SandboxError there becomes a
 * normal error answer); then `begin` (e.g. headers) and the chunks `build` makes. The codec
 * pulls entries synchronously, so entries are fetched a page ahead and handed over one by one.
 */
export async function streamStatement(
  ctx: SandboxContext,
  q: { account: string; date: string },
  build: StatementBuilder,
  out: Writable,
  begin: (plan: StatementPlan) => void,
): Promise<void> {
  await ctx.db.transaction(
    async (tx) => {
      const plan = await planStatement(tx, ctx, q.account, q.date);
      begin(plan);
      const { start, end } = shanghaiDayBounds(q.date);
      // Entries fetched but not yet handed to the codec; topped up to at least a page before
      // each step, so a codec that takes many entries per chunk never finds it empty.
      let buffer: StatementEntry[] = [];
      let head = 0;
      let lastSeq = 0n;
      let fetched = 0;
      const topUp = async () => {
        while (buffer.length - head < statementPageRows && fetched < plan.entryCount) {
          const rows: EntryRow[] = await tx(table(ctx, 'entries'))
            .where({ account_number: q.account })
            .andWhere('booked_at', '>=', start)
            .andWhere('booked_at', '<', end)
            .andWhere('seq', '>', lastSeq.toString())
            .orderBy('seq')
            .limit(statementPageRows);
          if (rows.length === 0) throw new Error('assertion: statement entries vanished inside one snapshot');
          fetched += rows.length;
          lastSeq = rows[rows.length - 1].seq;
          buffer = buffer.slice(head).concat(rows.map(toStatementEntry));
          head = 0;
        }
      };
      const entries: Iterable<StatementEntry> = {
        [Symbol.iterator]: () => ({
          next: (): IteratorResult<StatementEntry> => {
            if (head < buffer.length) return { value: buffer[head++], done: false };
            if (fetched < plan.entryCount) {
              // The codec read more than a page ahead without yielding: ending here would write
              // a statement that silently misses entries.
              throw new Error('assertion: statement codec read more than a page ahead');
            }
            return { value: undefined, done: true };
          },
        }),
      };
      const generator = build(plan.header, entries);
      for (;;) {
        await topUp();
        const step = generator.next();
        if (step.done) break;
        if (!out.write(step.value)) await drained(out);
      }
      if (fetched !== plan.entryCount) throw new Error('assertion: statement streamed a different number of entries than it counted');
    },
    { isolationLevel: 'repeatable read' },
  );
}
