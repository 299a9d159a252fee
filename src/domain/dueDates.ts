// When a refund falls due (`dueBy`, a Shanghai business date: the refund must be settled by
// the end of it). Periods never count the day of the event (民法典 art. 201), so "within 5
// days" of a notice received on the 1st means by the end of the 6th.
//
// A calendar-day period is not extended when it ends on a holiday, although 民法典 art. 203
// would allow that: the earlier date is the one bidders expect, and the worker pays early
// rather than late.
import type { Calendar } from './calendar';
import { addCalendarDays, daysBetween, toBusinessDate } from './time';

export type Regime = 'tendering_law' | 'government_procurement';
export type RefundReason = 'withdrawal' | 'contract' | 'award_non_winner' | 'termination' | 'invalid' | 'excess';

export const refundCalendarDays = 5; // 实施条例 35, 57
export const refundWorkingDays = 5; // MoF Order 87 art. 38
/** R14: days from the evaluation report to the award (评定分离). */
export const awardAfterEvaluationDaysMax = 20;

export interface RefundDuePolicy {
  rule: 'R9' | 'R11' | 'R15' | 'R16';
  days: number;
  dayKind: 'calendar' | 'working';
}

export class NoRefundDeadline extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoRefundDeadline';
  }
}

export function refundDuePolicy(regime: Regime, reason: RefundReason): RefundDuePolicy {
  const gp = regime === 'government_procurement';
  if (regime !== 'tendering_law' && !gp) throw new Error(`assertion: unknown regime ${String(regime)}`);
  switch (reason) {
    case 'withdrawal':
      // R9: from the written withdrawal notice.
      return gp ? { rule: 'R9', days: refundWorkingDays, dayKind: 'working' } : { rule: 'R9', days: refundCalendarDays, dayKind: 'calendar' };
    case 'contract':
      // R11: tendering_law refunds winner and non-winners from the contract; under
      // government_procurement only the winner waits for the contract.
      return gp ? { rule: 'R11', days: refundWorkingDays, dayKind: 'working' } : { rule: 'R11', days: refundCalendarDays, dayKind: 'calendar' };
    case 'award_non_winner':
      if (!gp) {
        throw new NoRefundDeadline('R11: under tendering_law non-winners are refunded after the contract is signed; schedule with reason "contract"');
      }
      return { rule: 'R11', days: refundWorkingDays, dayKind: 'working' };
    case 'termination':
      // R16: "at once": the same day.
      return { rule: 'R16', days: 0, dayKind: 'calendar' };
    case 'invalid':
    case 'excess':
      // R15: money that never secured anything (or the part above the requirement) goes
      // straight back. No law sets a period; the next working day leaves the worker a full
      // banking day after the credit was booked (a credit booked late in the evening, or on a
      // holiday, cannot be returned the same day through CNAPS), and is never later than any
      // deadline above.
      return { rule: 'R15', days: 1, dayKind: 'working' };
    default:
      throw new Error(`assertion: unknown refund reason ${String(reason)}`);
  }
}

export function refundDueDate(args: {
  regime: Regime;
  /** The business date of the event (notice received, award notice, contract signed,
   *  termination, credit booked). */
  eventDate: string;
  calendar: Calendar;
  reason: RefundReason;
}): string {
  const policy = refundDuePolicy(args.regime, args.reason);
  const eventDate = toBusinessDate(args.eventDate);
  return policy.dayKind === 'working'
    ? args.calendar.addWorkingDays(eventDate, policy.days)
    : addCalendarDays(eventDate, policy.days);
}

/** R14: the award came within `awardAfterEvaluationDaysMax` calendar days after the evaluation
 *  report (the report's day not counted). An award dated before its report is not "within":
 *  it is an error in the data and fails the check. Accepts dates or ISO timestamps. */
export function r14AwardWithinLimit(evaluationReportAt: string | Date, awardDate: string | Date): boolean {
  const days = daysBetween(toBusinessDate(evaluationReportAt), toBusinessDate(awardDate));
  return days >= 0 && days <= awardAfterEvaluationDaysMax;
}

/** A due date and whether it is provisional (R19): a working-day period that runs past the
 *  last day the calendar holds the official schedule for counts only weekends there, so it is
 *  recomputed when the next year is loaded. A calendar-day period never depends on it. */
export function refundDue(args: Parameters<typeof refundDueDate>[0]): { dueBy: string; provisional: boolean } {
  const dueBy = refundDueDate(args);
  const policy = refundDuePolicy(args.regime, args.reason);
  return { dueBy, provisional: policy.dayKind === 'working' && !coversThrough(args.calendar, toBusinessDate(args.eventDate), dueBy) };
}

/** The next working day after `date`, provisional like `refundDue`. */
export function nextWorkingDayDue(calendar: Calendar, date: string): { dueBy: string; provisional: boolean } {
  const dueBy = calendar.nextWorkingDay(date);
  return { dueBy, provisional: !coversThrough(calendar, date, dueBy) };
}

function coversThrough(calendar: Calendar, from: string, to: string): boolean {
  const through = calendar.coveredThrough(from);
  return through !== undefined && to <= through;
}
