// Pure checks of DESIGN rules that need no records, each named by its rule id.
import { formatAmount } from './money';
import { addCalendarDays, toBusinessDate } from './time';

export interface RuleCheck {
  rule: string;
  ok: boolean;
  detail: string;
}

/** The cap works sections commonly set (¥800,000), for forms to offer; never applied unless
 *  the section sets it. */
export const worksDepositCapFenCommon = 80_000_000n;
/** R1: 2% = 1/50. */
const depositShareDenominator = 50n;

/** R1: deposit ≤ 2% of the estimated price (budget under government_procurement), and ≤ the
 *  section's absolute cap when it has one. Compared as deposit × 50 ≤ price, so no rounding. */
export function checkDepositCap(args: { estimatedPriceFen: bigint; depositAmountFen: bigint; capFen?: bigint | null }): RuleCheck {
  const { estimatedPriceFen, depositAmountFen, capFen } = args;
  for (const [name, v] of [['estimatedPriceFen', estimatedPriceFen], ['depositAmountFen', depositAmountFen]] as const) {
    if (typeof v !== 'bigint') throw new Error(`assertion: ${name} must be a bigint`);
  }
  if (capFen !== undefined && capFen !== null && (typeof capFen !== 'bigint' || capFen <= 0n)) {
    throw new Error('assertion: capFen must be a positive bigint');
  }
  if (depositAmountFen <= 0n) return { rule: 'R1', ok: false, detail: 'deposit amount must be greater than zero' };
  if (estimatedPriceFen <= 0n) return { rule: 'R1', ok: false, detail: 'estimated price must be greater than zero' };
  if (depositAmountFen * depositShareDenominator > estimatedPriceFen) {
    const maxFen = estimatedPriceFen / depositShareDenominator;
    return {
      rule: 'R1',
      ok: false,
      detail: `deposit ${formatAmount(depositAmountFen)} exceeds 2% of the estimated price ${formatAmount(estimatedPriceFen)} (at most ${formatAmount(maxFen)})`,
    };
  }
  if (capFen !== undefined && capFen !== null && depositAmountFen > capFen) {
    return { rule: 'R1', ok: false, detail: `deposit ${formatAmount(depositAmountFen)} exceeds the section's cap ${formatAmount(capFen)}` };
  }
  return { rule: 'R1', ok: true, detail: `deposit ${formatAmount(depositAmountFen)} is within 2% of ${formatAmount(estimatedPriceFen)}${capFen ? ` and the cap ${formatAmount(capFen)}` : ''}` };
}

/** R2: the last business date a security must still be valid on: the deadline's date plus the
 *  bid-validity days (validity runs from the deadline, its own day not counted). */
export function requiredValidUntil(bidDeadline: Date | string, bidValidityDays: number): string {
  if (!Number.isSafeInteger(bidValidityDays) || bidValidityDays < 0) throw new Error('assertion: bidValidityDays must be a non-negative integer');
  return addCalendarDays(toBusinessDate(bidDeadline), bidValidityDays);
}

/** R2: a security valid over [validFrom, validTo] (business dates, inclusive) covers the bid:
 *  it starts no later than the deadline's date and lasts until `requiredValidUntil`. */
export function checkValidityCovers(args: {
  validFrom: string;
  validTo: string;
  bidDeadline: Date | string;
  bidValidityDays: number;
}): RuleCheck {
  const validFrom = toBusinessDate(args.validFrom);
  const validTo = toBusinessDate(args.validTo);
  const deadlineDate = toBusinessDate(args.bidDeadline);
  const until = requiredValidUntil(args.bidDeadline, args.bidValidityDays);
  if (validFrom > deadlineDate) return { rule: 'R2', ok: false, detail: `valid only from ${validFrom}, after the bid deadline ${deadlineDate}` };
  if (validTo < until) return { rule: 'R2', ok: false, detail: `valid until ${validTo}, must be valid until at least ${until}` };
  return { rule: 'R2', ok: true, detail: `valid ${validFrom} to ${validTo} covers ${deadlineDate} to ${until}` };
}

/** R3's answer: `undecidable` only where the bank gave a booking date without a time on the
 *  deadline's own day and nothing bounds the time from above: a person must decide. */
export type R3Verdict = 'on_time' | 'late' | 'undecidable';
export interface R3Check extends RuleCheck {
  rule: 'R3';
  verdict: R3Verdict;
}

/** How precisely the time is known. */
export interface R3Timing {
  /** The bank gave the booking date without a time: `at` is then the start of that day in
   *  Beijing, not the moment of booking. */
  dateOnly?: boolean;
  /** When the bank's notice of the booking reached us: a bank books before it notifies, so the
   *  booking was no later than this. Null where there was no notice (recovered from a
   *  statement). */
  notifiedAt?: Date | null;
}

/** R3: a security counts only if it was in place before the bid deadline: a guarantee issued, a
 *  deposit booked by the bank (its booking time, not when we heard of it: a late notification of
 *  a timely payment is timely). Strictly before: at the deadline is too late. A time stated to
 *  the second (banks book to the second, issuers mostly stamp so) names a whole second: 10:00:00
 *  happened somewhere in [10:00:00, 10:00:01), before the deadline only if all of it was.
 *
 *  A booking given as a date only happened somewhere in that Beijing day, and no later than the
 *  notice of it: on a day before the deadline's it is on time, on a later day late; on the
 *  deadline's day it is on time if the notice came before the deadline, and otherwise cannot be
 *  decided from the records (never read as 00:00, which would pass a booking made after a 09:30
 *  deadline that same morning). */
export function checkR3BeforeDeadline(at: Date, bidDeadline: Date, event: 'issued' | 'booked', timing: R3Timing = {}): R3Check {
  const atMs = at.getTime();
  const deadlineMs = bidDeadline.getTime();
  if (Number.isNaN(atMs) || Number.isNaN(deadlineMs)) throw new Error('assertion: R3 compares two valid times');
  const notifiedAt = timing.notifiedAt ?? null;
  if (notifiedAt !== null && Number.isNaN(notifiedAt.getTime())) throw new Error('assertion: R3 notice time is a valid time');
  const deadline = bidDeadline.toISOString();
  if (timing.dateOnly) {
    const bookedOn = toBusinessDate(at);
    const deadlineDay = toBusinessDate(bidDeadline);
    const what = `${event} on ${bookedOn} (the bank gave the date only)`;
    if (bookedOn < deadlineDay) return { rule: 'R3', ok: true, verdict: 'on_time', detail: `${what}, a day before the bid deadline ${deadline}` };
    if (bookedOn > deadlineDay) return { rule: 'R3', ok: false, verdict: 'late', detail: `${what}, a day after the bid deadline ${deadline}` };
    if (notifiedAt !== null && notifiedAt.getTime() < deadlineMs) {
      return { rule: 'R3', ok: true, verdict: 'on_time', detail: `${what}, the deadline's day, and notified ${notifiedAt.toISOString()}, before the bid deadline ${deadline}` };
    }
    const notice = notifiedAt === null ? 'recovered from a statement, with no notice time to bound it' : `notified ${notifiedAt.toISOString()}, not before the bid deadline ${deadline}`;
    return {
      rule: 'R3',
      ok: false,
      verdict: 'undecidable',
      detail: `${what}, the day of the bid deadline ${deadline}; ${notice}: whether it was booked before the deadline cannot be told, the centre decides`,
    };
  }
  const latestPossibleMs = atMs % 1000 === 0 ? atMs + 999 : atMs;
  const ok = latestPossibleMs < deadlineMs;
  return { rule: 'R3', ok, verdict: ok ? 'on_time' : 'late', detail: `${event} ${at.toISOString()}, ${ok ? '' : 'not '}before the bid deadline ${deadline}` };
}

/** R12: the only grounds on which a deposit is forfeited or a guarantee claimed (实施条例 35, 74). */
export const r12Grounds = ['withdrawal_after_deadline', 'refused_to_sign', 'conditions_at_signing', 'no_performance_security', 'false_documents'] as const;
export type R12Ground = (typeof r12Grounds)[number];
/** The winner's own failures at signing: only a bidder the award names can commit them. */
export const r12WinnerGrounds: readonly R12Ground[] = ['refused_to_sign', 'conditions_at_signing', 'no_performance_security'];

/** What the records say about the bidder on the section, as far as R12 needs it. */
export interface R12Facts {
  now: Date;
  bidDeadline: Date;
  bidderId: string;
  /** The bidder the award names; null before any award. */
  winnerBidderId: string | null;
  /** The bidder's written withdrawal on record, if it withdrew. */
  withdrawal: { afterDeadline: boolean } | null;
}

/** R12: whether the records bear out the ground given. Nothing can be kept before the bid
 *  deadline (a withdrawal before it is refunded, R9; nobody has won yet); a withdrawal after the
 *  deadline must be on record (R10); the winner's failures need an award naming this bidder.
 *  False documents are the centre's own finding and rest on the decision recorded with it. */
export function checkR12Ground(ground: R12Ground, f: R12Facts): RuleCheck {
  if (!r12Grounds.includes(ground)) throw new Error(`assertion: ${JSON.stringify(ground)} is not an R12 ground`);
  const fail = (detail: string): RuleCheck => ({ rule: 'R12', ok: false, detail });
  if (f.now.getTime() < f.bidDeadline.getTime()) {
    return fail(`the bid deadline ${f.bidDeadline.toISOString()} has not passed: no R12 ground can hold before it (a withdrawal before it is refunded, R9)`);
  }
  if (ground === 'withdrawal_after_deadline' && !f.withdrawal?.afterDeadline) {
    return fail(f.withdrawal ? `bidder ${f.bidderId} withdrew before the deadline, which is refunded (R9)` : `no withdrawal after the deadline is recorded for bidder ${f.bidderId}`);
  }
  if (r12WinnerGrounds.includes(ground) && f.winnerBidderId !== f.bidderId) {
    return fail(`${ground} applies only to the winner; ${f.winnerBidderId ? `the award names ${f.winnerBidderId}, not ${f.bidderId}` : 'the section has no award'}`);
  }
  return { rule: 'R12', ok: true, detail: ground === 'false_documents' ? 'false documents, as found by the centre' : `${ground}: borne out by the records of bidder ${f.bidderId}` };
}

/** R18: before the opening nobody but the bidder itself and the centre's operators (and its
 *  auditors) may learn which bidders secured a section. Its tenderee learns it from the opening
 *  on: not from any later status, since a section terminated before its opening never opened. */
export function r18TendereeMayLearnSecurities(section: { openedAt: Date | null }): boolean {
  return section.openedAt !== null;
}
