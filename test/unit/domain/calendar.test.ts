import {
  addWorkingDays,
  createCalendar,
  defaultCalendar,
  defaultCalendarTable,
  isWorkingDay,
  loadCalendarTable,
  mergeCalendarTables,
} from '../../../src/domain/calendar';
import { dayOfWeek } from '../../../src/domain/time';

describe('working-day calendar', () => {
  const cal = defaultCalendar;

  it('R19 counts a make-up Saturday or Sunday as a working day', () => {
    for (const d of ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11',
      '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']) {
      expect([0, 6]).toContain(dayOfWeek(d));
      expect(isWorkingDay(cal, d)).toBe(true);
    }
  });
  it('R19 counts every day of a holiday as non-working, weekdays included', () => {
    for (const d of ['2025-01-01', '2025-01-28', '2025-02-03', '2025-02-04', '2025-05-05', '2025-06-02',
      '2025-10-08', '2026-01-02', '2026-02-23', '2026-04-06', '2026-05-05', '2026-09-25', '2026-10-07']) {
      expect(cal.isWorkingDay(d)).toBe(false);
    }
  });
  it('R19 holds the 2025 and 2026 State Council schedules in full', () => {
    const count = (year: string) => defaultCalendarTable.holidays.filter((d) => d.startsWith(year)).length;
    expect(count('2025')).toBe(1 + 8 + 3 + 5 + 3 + 8);
    expect(count('2026')).toBe(3 + 9 + 3 + 5 + 3 + 3 + 7);
    expect(defaultCalendarTable.makeupWorkdays).toHaveLength(11);
    // The weekday each notice names for its first day.
    expect(dayOfWeek('2025-01-28')).toBe(2);
    expect(dayOfWeek('2025-10-01')).toBe(3);
    expect(dayOfWeek('2026-02-23')).toBe(1);
    expect(dayOfWeek('2026-10-01')).toBe(4);
  });
  it('R19 treats ordinary weekends as non-working and weekdays as working', () => {
    expect(cal.isWorkingDay('2025-03-08')).toBe(false);
    expect(cal.isWorkingDay('2025-03-09')).toBe(false);
    expect(cal.isWorkingDay('2025-03-10')).toBe(true);
  });
  it('R19 does not count the day of the event: 1 working day after a Friday is the Monday', () => {
    expect(addWorkingDays(cal, '2025-03-07', 1)).toBe('2025-03-10');
    expect(cal.addWorkingDays('2025-03-07', 5)).toBe('2025-03-14');
    expect(cal.addWorkingDays('2025-03-08', 1)).toBe('2025-03-10');
    expect(cal.addWorkingDays('2025-03-10', 0)).toBe('2025-03-10');
  });
  it('R19 steps onto a make-up Sunday and over Spring Festival 2025', () => {
    expect(cal.addWorkingDays('2025-01-24', 1)).toBe('2025-01-26');
    expect(cal.addWorkingDays('2025-01-26', 1)).toBe('2025-01-27');
    expect(cal.addWorkingDays('2025-01-27', 1)).toBe('2025-02-05');
    expect(cal.nextWorkingDay('2025-01-27')).toBe('2025-02-05');
  });
  it('R19 counts 5 working days across the 2025 National Day week', () => {
    // 9-28 (Sun, make-up), 9-29, 9-30, then 10-01..10-08 off, 10-09, 10-10.
    expect(cal.addWorkingDays('2025-09-26', 5)).toBe('2025-10-10');
  });
  it('R19 crosses the nine-day Spring Festival 2026', () => {
    expect(cal.addWorkingDays('2026-02-13', 1)).toBe('2026-02-14');
    expect(cal.addWorkingDays('2026-02-14', 1)).toBe('2026-02-24');
  });
  it('R19 says when a year has no published schedule, and then only weekends are off', () => {
    expect(cal.covers('2026-12-31')).toBe(true);
    expect(cal.covers('2027-01-01')).toBe(false);
    expect(cal.isWorkingDay('2027-01-01')).toBe(true);
  });
  it('R19 uses an operator table for a new year', () => {
    const custom = createCalendar({ holidays: ['2027-01-01'], makeupWorkdays: ['2027-01-09'], years: [2027] });
    expect(custom.isWorkingDay('2027-01-01')).toBe(false);
    expect(custom.isWorkingDay('2027-01-09')).toBe(true);
    expect(custom.covers('2027-06-01')).toBe(true);
    expect(custom.addWorkingDays('2026-12-31', 1)).toBe('2027-01-04');
  });
  it('infers covered years from entries when the table does not list them', () => {
    const c = createCalendar({ holidays: ['2030-01-01'], makeupWorkdays: [] });
    expect(c.covers('2030-05-05')).toBe(true);
    expect(c.covers('2031-05-05')).toBe(false);
  });
  it('refuses out-of-range working-day counts', () => {
    expect(() => cal.addWorkingDays('2025-03-07', -1)).toThrow();
    expect(() => cal.addWorkingDays('2025-03-07', 1.5)).toThrow();
    expect(() => cal.addWorkingDays('2025-03-07', 10_000)).toThrow();
  });
  it('fails loudly rather than loop when a table makes a month non-working', () => {
    const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2030, 0, 1 + i)).toISOString().slice(0, 10));
    const broken = createCalendar({ holidays: days, makeupWorkdays: [] });
    expect(() => broken.addWorkingDays('2029-12-31', 1)).toThrow(/no working day/);
  });

  it('R19 adds a configured year on top of the built-in schedules, replacing only the years it covers', () => {
    const merged = createCalendar(mergeCalendarTables(defaultCalendarTable, {
      holidays: ['2027-01-01', '2026-01-05'],
      makeupWorkdays: [],
      years: [2026, 2027],
    }));
    expect(merged.isWorkingDay('2027-01-01')).toBe(false);
    expect(merged.covers('2027-03-01')).toBe(true);
    expect(merged.isWorkingDay('2026-01-05')).toBe(false); // 2026 replaced by the operator's table
    expect(merged.isWorkingDay('2026-01-01')).toBe(true);
    expect(merged.isWorkingDay('2025-01-28')).toBe(false); // 2025 kept
  });

  describe('loadCalendarTable (BIDBOND_CALENDAR_FILE)', () => {
    it('accepts a well-formed table', () => {
      const t = loadCalendarTable({ holidays: ['2027-01-01'], makeupWorkdays: ['2027-01-09'], years: [2027], comment: 'x' });
      expect(t.holidays).toEqual(['2027-01-01']);
      expect(t.years).toEqual([2027]);
    });
    it('R19 refuses a misspelt key, bad dates, overlaps and make-up weekdays', () => {
      expect(() => loadCalendarTable({ holidays: [], makeUpWorkdays: [] })).toThrow(/unknown key/);
      expect(() => loadCalendarTable({ holidays: ['2027-02-30'], makeupWorkdays: [] })).toThrow(/not a YYYY-MM-DD/);
      expect(() => loadCalendarTable({ holidays: '2027-01-01', makeupWorkdays: [] })).toThrow(/array/);
      expect(() => loadCalendarTable({ holidays: ['2027-01-09'], makeupWorkdays: ['2027-01-09'] })).toThrow(/both/);
      expect(() => loadCalendarTable({ holidays: [], makeupWorkdays: ['2027-01-08'] })).toThrow(/not a Saturday or Sunday/);
      expect(() => loadCalendarTable([])).toThrow(/object/);
      expect(() => loadCalendarTable(null)).toThrow(/object/);
      expect(() => loadCalendarTable({ holidays: [], makeupWorkdays: [], years: ['2027'] })).toThrow(/year/);
    });
  });
});
