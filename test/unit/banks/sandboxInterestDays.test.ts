// The sandbox bank's 结息 calendar: the 20th of March, June, September and December, each
// quarter's interest keyed by its quarter so that it is paid once.
import { interestDaysBetween, quarterOf } from '../../../src/sandbox-bank/interest';

describe('sandbox bank 结息 days', () => {
  test('the 20th of each quarter\'s last month, oldest first, across a year end', () => {
    expect(interestDaysBetween('2025-11-01', '2026-07-01', 10)).toEqual(['2025-12-20', '2026-03-20', '2026-06-20']);
  });

  test('the 结息 day itself counts on both ends; a day before the first gives none', () => {
    expect(interestDaysBetween('2026-03-20', '2026-03-20', 10)).toEqual(['2026-03-20']);
    expect(interestDaysBetween('2026-03-21', '2026-06-19', 10)).toEqual([]);
  });

  test('after a long stop only the latest quarters are caught up', () => {
    expect(interestDaysBetween('2020-01-01', '2026-12-02', 4)).toEqual(['2025-12-20', '2026-03-20', '2026-06-20', '2026-09-20']);
  });

  test('each 结息 day names its quarter', () => {
    expect(['2026-03-20', '2026-06-20', '2026-09-20', '2026-12-20'].map(quarterOf)).toEqual(['2026Q1', '2026Q2', '2026Q3', '2026Q4']);
  });
});
