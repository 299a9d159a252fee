import { createCalendar, defaultCalendar } from '../../../src/domain/calendar';
import {
  awardAfterEvaluationDaysMax,
  NoRefundDeadline,
  r14AwardWithinLimit,
  refundDueDate,
  refundDuePolicy,
} from '../../../src/domain/dueDates';

const calendar = defaultCalendar;

describe('refund due dates', () => {
  it('R9 refunds a withdrawal within 5 calendar days under tendering_law', () => {
    expect(refundDueDate({ regime: 'tendering_law', eventDate: '2025-09-26', calendar, reason: 'withdrawal' })).toBe('2025-10-01');
  });
  it('R9 refunds a withdrawal within 5 working days under government_procurement, across National Day', () => {
    expect(refundDueDate({ regime: 'government_procurement', eventDate: '2025-09-26', calendar, reason: 'withdrawal' })).toBe('2025-10-10');
  });
  it('R11 refunds everyone within 5 calendar days of the contract under tendering_law, even into a holiday', () => {
    expect(refundDueDate({ regime: 'tendering_law', eventDate: '2026-02-12', calendar, reason: 'contract' })).toBe('2026-02-17');
  });
  it('R11 refunds non-winners 5 working days after the award notice under government_procurement', () => {
    // 2-13 (Fri), 2-14 (make-up Sat), holiday 2-15..2-23, then 2-24, 2-25, 2-26.
    expect(refundDueDate({ regime: 'government_procurement', eventDate: '2026-02-12', calendar, reason: 'award_non_winner' })).toBe('2026-02-26');
  });
  it('R11 refunds the winner 5 working days after the contract under government_procurement', () => {
    expect(refundDueDate({ regime: 'government_procurement', eventDate: '2025-03-07', calendar, reason: 'contract' })).toBe('2025-03-14');
  });
  it('R11 has no award-notice deadline for non-winners under tendering_law', () => {
    expect(() => refundDueDate({ regime: 'tendering_law', eventDate: '2025-03-07', calendar, reason: 'award_non_winner' })).toThrow(NoRefundDeadline);
  });
  it('R16 refunds at once after termination, the same day, in both regimes', () => {
    for (const regime of ['tendering_law', 'government_procurement'] as const) {
      expect(refundDueDate({ regime, eventDate: '2025-10-03', calendar, reason: 'termination' })).toBe('2025-10-03');
    }
  });
  it('R15 returns an invalid or excess credit by the next working day', () => {
    expect(refundDueDate({ regime: 'tendering_law', eventDate: '2025-09-30', calendar, reason: 'invalid' })).toBe('2025-10-09');
    expect(refundDueDate({ regime: 'government_procurement', eventDate: '2025-03-07', calendar, reason: 'excess' })).toBe('2025-03-10');
    expect(refundDuePolicy('tendering_law', 'invalid')).toEqual({ rule: 'R15', days: 1, dayKind: 'working' });
  });
  it('takes the event as a Shanghai timestamp too', () => {
    // 17:30 UTC on the 26th is already the 27th (Saturday) in Shanghai.
    expect(refundDueDate({ regime: 'tendering_law', eventDate: '2025-09-26T17:30:00Z', calendar, reason: 'withdrawal' })).toBe('2025-10-02');
  });
  it('R19 uses the calendar it is given', () => {
    const noHolidays = createCalendar({ holidays: [], makeupWorkdays: [] });
    expect(refundDueDate({ regime: 'government_procurement', eventDate: '2025-09-26', calendar: noHolidays, reason: 'withdrawal' })).toBe('2025-10-03');
  });
});

describe('R14 award after evaluation', () => {
  it('R14 allows an award up to 20 days after the evaluation report', () => {
    expect(awardAfterEvaluationDaysMax).toBe(20);
    expect(r14AwardWithinLimit('2025-03-01', '2025-03-01')).toBe(true);
    expect(r14AwardWithinLimit('2025-03-01', '2025-03-21')).toBe(true);
  });
  it('R14 rejects an award on the 21st day', () => {
    expect(r14AwardWithinLimit('2025-03-01', '2025-03-22')).toBe(false);
  });
  it('R14 rejects an award dated before its evaluation report', () => {
    expect(r14AwardWithinLimit('2025-03-01', '2025-02-28')).toBe(false);
  });
  it('R14 judges timestamps by their Shanghai dates', () => {
    expect(r14AwardWithinLimit('2025-03-01T20:00:00+08:00', new Date('2025-03-21T15:00:00Z'))).toBe(true);
    expect(r14AwardWithinLimit('2025-03-01T20:00:00+08:00', new Date('2025-03-21T16:00:00Z'))).toBe(false);
  });
});
