// Interest on the trust account (结息). Chinese banks pay demand-deposit interest once a quarter,
// on the 20th of the quarter's last month (20 March, June, September, December), for the days
// from the day after the previous 结息 day through this one: the sum of each day's closing
// balance (the 积数) × the annual rate / 360, rounded half-up to the fen once. The settlement
// loop checks each business day for a 结息 day that has come and not been paid (one missed
// while the simulator was stopped is paid when it comes back); the quarter is recorded under a
// unique key in the same transaction as the booking, so a restart, or two simulators on one
// schema, never pay a quarter twice. POST /sandbox/interest credits an amount by hand.
import type { Knex } from 'knex';
import { divRoundHalfUp, formatAmount } from '../domain/money';
import { rateMillionthsPerUnit, dayCountBasis } from '../domain/interest';
import { addCalendarDays, businessDate, startOfBusinessDay } from '../domain/time';
import { table, type SandboxContext } from './context';
import { SandboxError } from './errors';
import { amountField, checkIdempotencyKey, strictBody } from './bodies';
import { findAccount, post, type AccountRow, type EntryRow } from './ledger';
import { enqueueNotification, notificationMessageIdOf } from './notifier';

/** 结息 days missed while the simulator was stopped are paid when it comes back, up to a year. */
export const interestCatchUpQuartersMax = 4;
/** After a failed check (the database away, say) the loop tries again this much later rather
 *  than on each of its many ticks a second. */
export const interestRetryMs = 60_000;
const interestDayOfMonth = 20;
const quarterEndMonths = [3, 6, 9, 12];

export interface InterestInput {
  amountFen: bigint;
  idempotencyKey?: string;
}

export function parseInterest(body: unknown, idempotencyKey: string | undefined): InterestInput {
  const b = strictBody(body, ['amount']);
  return { amountFen: amountField(b, 'amount'), idempotencyKey: checkIdempotencyKey(idempotencyKey) };
}

/** The 结息 day of the quarter `date` falls in ("2026-12-20" for any day of Oct-Dec 2026). */
function interestDayOfQuarter(date: string): string {
  const year = Number(date.slice(0, 4));
  const month = quarterEndMonths.find((m) => m >= Number(date.slice(5, 7)))!;
  return `${year}-${String(month).padStart(2, '0')}-${interestDayOfMonth}`;
}

/** The 结息 day three months before. */
function previousInterestDay(day: string): string {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  return month === 3 ? `${year - 1}-12-${interestDayOfMonth}` : `${year}-${String(month - 3).padStart(2, '0')}-${interestDayOfMonth}`;
}

/** "2026Q4": the key a quarter's interest is recorded under. */
export function quarterOf(interestDay: string): string {
  return `${interestDay.slice(0, 4)}Q${quarterEndMonths.indexOf(Number(interestDay.slice(5, 7))) + 1}`;
}

/** 结息 days from `from` through `to`, oldest first, at most the last `max` of them. */
export function interestDaysBetween(from: string, to: string, max: number): string[] {
  const days: string[] = [];
  let day = interestDayOfQuarter(to);
  if (day > to) day = previousInterestDay(day);
  while (day >= from && days.length < max) {
    days.unshift(day);
    day = previousInterestDay(day);
  }
  return days;
}

/** The 积数 of the period: Σ over its days of the account's closing balance, each day's being
 *  the running balance after the last booking before that day ended (nothing before the
 *  account was opened). */
async function balanceDaysFen(tx: Knex.Transaction, ctx: SandboxContext, account: string, interestDay: string): Promise<bigint> {
  const dayEnds: string[] = [];
  for (let day = addCalendarDays(previousInterestDay(interestDay), 1); day <= interestDay; day = addCalendarDays(day, 1)) {
    dayEnds.push(startOfBusinessDay(addCalendarDays(day, 1)).toISOString());
  }
  const { rows } = await tx.raw(
    `SELECT coalesce(sum(CASE WHEN a.opened_at >= d.day_end THEN 0
                         ELSE coalesce((SELECT e.balance_after_fen FROM ?? e
                                         WHERE e.account_number = a.number AND e.booked_at < d.day_end
                                         ORDER BY e.booked_at DESC, e.seq DESC LIMIT 1), a.initial_balance_fen) END), 0)::bigint AS product
       FROM unnest(?::timestamptz[]) AS d(day_end) CROSS JOIN ?? a
      WHERE a.number = ?`,
    [table(ctx, 'entries'), dayEnds, table(ctx, 'accounts'), account],
  );
  return rows[0].product as bigint;
}

/** Books interest into the trust account and queues its notification. */
async function creditInterest(tx: Knex.Transaction, ctx: SandboxContext, trust: AccountRow, amountFen: bigint, valueDate: string | undefined, remittance: string) {
  const posting = await post(tx, ctx, {
    kind: 'interest',
    origin: 'bank',
    amountFen,
    credit: { account: trust.number },
    remittance,
    valueDate,
    requireOpen: true,
  });
  const credit = posting.credit!;
  const messageId = await enqueueNotification(tx, ctx, credit, posting.accounts.get(trust.number)!);
  return { posting, credit, messageId };
}

async function trustAccountRow(tx: Knex | Knex.Transaction, ctx: SandboxContext): Promise<AccountRow> {
  const trust = ctx.config.trustAccount;
  if (!trust) throw new SandboxError(409, 'no_trust_account', 'the sandbox has no trust account configured (SANDBOX_TRUST_ACCOUNT): interest is paid to it');
  const row = await findAccount(tx, ctx, trust.number);
  if (!row) throw new Error('assertion: the configured trust account exists from the start');
  return row;
}

/** POST /sandbox/interest: credits the amount now. With an Idempotency-Key, a repeat answers the
 *  first credit (replayed: true) and pays nothing; the key with another amount is 422. */
export async function postInterest(ctx: SandboxContext, input: InterestInput) {
  const result = await ctx.db.transaction(async (tx) => {
    const trust = await trustAccountRow(tx, ctx);
    const postings = table(ctx, 'interest_postings');
    if (input.idempotencyKey) {
      await tx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`${ctx.config.schema}:interest:${input.idempotencyKey}`]);
      const previous = await tx(postings).where({ idempotency_key: input.idempotencyKey }).first();
      if (previous) {
        if (previous.amount_fen !== input.amountFen) throw new SandboxError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for another amount');
        const entry = await tx(table(ctx, 'entries')).where({ ref: `${previous.transfer_ref}C` }).first();
        return { ref: previous.transfer_ref as string, credit: entry as EntryRow, messageId: notificationMessageIdOf(previous.transfer_ref), replayed: true };
      }
    }
    const { posting, credit, messageId } = await creditInterest(tx, ctx, trust, input.amountFen, undefined, '利息 interest');
    await tx(postings).insert({ account_number: trust.number, idempotency_key: input.idempotencyKey ?? null, amount_fen: input.amountFen, transfer_ref: posting.transferRef });
    return { ref: posting.transferRef, credit, messageId, replayed: false };
  });
  if (!result.replayed) ctx.wakeNotifier();
  return {
    ref: result.ref,
    amount: formatAmount(result.credit.amount_fen),
    currency: 'CNY',
    account: result.credit.account_number,
    creditRef: result.credit.ref,
    bookedAt: result.credit.booked_at.toISOString(),
    valueDate: result.credit.value_date,
    notified: true,
    notificationMessageId: result.messageId,
    replayed: result.replayed,
  };
}

/** Pays each 结息 day from the trust account's opening up to `today` (Beijing) that has not been
 *  paid yet. Returns the quarters it recorded now (with the amount, possibly zero). */
export async function payQuarterlyInterest(ctx: SandboxContext, today: string): Promise<{ quarter: string; amountFen: bigint }[]> {
  if (!ctx.config.trustAccount) return [];
  const trust = await trustAccountRow(ctx.db, ctx);
  const openedOn = businessDate(trust.opened_at);
  const paid: { quarter: string; amountFen: bigint }[] = [];
  for (const day of interestDaysBetween(openedOn, today, interestCatchUpQuartersMax)) {
    const quarter = quarterOf(day);
    const done = await ctx.db.transaction(async (tx) => {
      const postings = table(ctx, 'interest_postings');
      const claimed = await tx(postings).insert({ account_number: trust.number, quarter, amount_fen: 0n }).onConflict('quarter').ignore().returning('id');
      if (claimed.length === 0) return undefined;
      const productFen = await balanceDaysFen(tx, ctx, trust.number, day);
      const amountFen = divRoundHalfUp(productFen * ctx.config.interestRateMillionths, rateMillionthsPerUnit * dayCountBasis);
      if (amountFen > 0n) {
        const row = await trustAccountRow(tx, ctx);
        const { posting } = await creditInterest(tx, ctx, row, amountFen, day, `${quarter} 结息 interest`);
        await tx(postings).where({ id: claimed[0].id }).update({ amount_fen: amountFen, transfer_ref: posting.transferRef });
      }
      return { quarter, amountFen };
    });
    if (done) paid.push(done);
  }
  if (paid.some((p) => p.amountFen > 0n)) ctx.wakeNotifier();
  return paid;
}
