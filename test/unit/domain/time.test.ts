import {
  addCalendarDays,
  businessDate,
  dayOfWeek,
  daysBetween,
  endOfBusinessDay,
  isBusinessDate,
  startOfBusinessDay,
  toBusinessDate,
} from '../../../src/domain/time';

describe('business dates in Asia/Shanghai', () => {
  it('takes the Shanghai date of an instant, turning over at 16:00 UTC', () => {
    expect(businessDate(new Date('2025-01-01T15:59:59.999Z'))).toBe('2025-01-01');
    expect(businessDate(new Date('2025-01-01T16:00:00.000Z'))).toBe('2025-01-02');
    expect(businessDate(new Date('2024-12-31T16:00:00.000Z'))).toBe('2025-01-01');
  });
  it('gives the first and last millisecond of a Shanghai day', () => {
    expect(startOfBusinessDay('2025-01-02').toISOString()).toBe('2025-01-01T16:00:00.000Z');
    expect(endOfBusinessDay('2025-01-02').toISOString()).toBe('2025-01-02T15:59:59.999Z');
    expect(businessDate(startOfBusinessDay('2026-02-17'))).toBe('2026-02-17');
    expect(businessDate(endOfBusinessDay('2026-02-17'))).toBe('2026-02-17');
  });
  it('adds calendar days across month, leap-day and year ends', () => {
    expect(addCalendarDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addCalendarDays('2024-02-28', 2)).toBe('2024-03-01');
    expect(addCalendarDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addCalendarDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addCalendarDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addCalendarDays('2025-06-10', 0)).toBe('2025-06-10');
  });
  it('counts days between dates, negative when reversed', () => {
    expect(daysBetween('2025-03-01', '2025-03-31')).toBe(30);
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
    expect(daysBetween('2025-03-31', '2025-03-01')).toBe(-30);
    expect(daysBetween('2025-03-01', '2025-03-01')).toBe(0);
  });
  it('knows the weekday', () => {
    expect(dayOfWeek('2025-01-01')).toBe(3); // 周三, as the 2025 notice says
    expect(dayOfWeek('2026-02-15')).toBe(0); // 周日
    expect(dayOfWeek('1970-01-01')).toBe(4);
  });
  it('refuses dates that do not exist or are written loosely', () => {
    for (const bad of ['2025-02-29', '2025-13-01', '2025-1-1', '2025-01-01T00:00:00Z', '', '0099-01-01', '20250101']) {
      expect(isBusinessDate(bad)).toBe(false);
      expect(() => addCalendarDays(bad, 1)).toThrow(/invalid date/);
    }
    expect(isBusinessDate('2024-02-29')).toBe(true);
    expect(() => businessDate(new Date('nope'))).toThrow(/invalid/);
  });
  it('reads dates and offset timestamps as Shanghai dates, and refuses timestamps without an offset', () => {
    expect(toBusinessDate('2025-03-01')).toBe('2025-03-01');
    expect(toBusinessDate('2025-03-01T23:30:00+08:00')).toBe('2025-03-01');
    expect(toBusinessDate('2025-03-01T16:30:00Z')).toBe('2025-03-02');
    expect(toBusinessDate(new Date('2025-03-01T16:30:00Z'))).toBe('2025-03-02');
    expect(() => toBusinessDate('2025-03-01T10:00:00')).toThrow(/offset/);
  });
});
