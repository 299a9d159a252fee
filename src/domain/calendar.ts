// R19: working days follow a configured calendar of public holidays and make-up working days
// (调休). Weekends are non-working unless the State Council moved a working day onto them.
import { addCalendarDays, dayOfWeek, epochDay, fromEpochDay, isBusinessDate } from './time';

export interface CalendarTable {
  /** Non-working days, weekends included where a holiday spans one. */
  readonly holidays: readonly string[];
  /** Saturdays and Sundays declared working days (调休上班). */
  readonly makeupWorkdays: readonly string[];
  /** Years whose schedule the table holds completely; outside them only weekends count as
   *  non-working, and `Calendar.covers` lets callers warn about that. Optional: when absent,
   *  the years named by any entry are taken as covered. */
  readonly years?: readonly number[];
}

export interface Calendar {
  isWorkingDay(date: string): boolean;
  /** The date that is `n` working days after `date`; see `addWorkingDays` below. */
  addWorkingDays(date: string, n: number): string;
  /** The first working day strictly after `date`. */
  nextWorkingDay(date: string): string;
  /** Whether the table holds the official schedule for `date`'s year. */
  covers(date: string): boolean;
  /** The last day of the unbroken run of covered years that starts with `date`'s year, or
   *  undefined when `date`'s own year is not covered. */
  coveredThrough(date: string): string | undefined;
  /** The validated table the calendar was made from, for merging another year in. */
  readonly table: CalendarTable;
}

/** No schedule has ever had more than a handful of consecutive non-working days (the longest
 *  so far: 9 for Spring Festival 2026), so a scan past this many days means a broken table. */
export const nonWorkingRunDaysMax = 31;
/** A working-day period in law is a few days to a few weeks; anything larger is a bug. */
export const workingDaysAddMax = 366;
/** A table lists one year in a few dozen lines; bounds the work of loading a hostile file. */
export const calendarEntriesMax = 20_000;

export class InvalidCalendarTable extends Error {
  constructor(reason: string) {
    super(`invalid calendar table: ${reason}`);
    this.name = 'InvalidCalendarTable';
  }
}

export function createCalendar(table: CalendarTable): Calendar {
  const checked = checkTable(table);
  const holidays = new Set(checked.holidays);
  const makeupWorkdays = new Set(checked.makeupWorkdays);
  const years = new Set<number>(
    checked.years ?? [...checked.holidays, ...checked.makeupWorkdays].map((d) => Number(d.slice(0, 4))),
  );

  const isWorking = (date: string): boolean => {
    epochDay(date);
    if (holidays.has(date)) return false;
    if (makeupWorkdays.has(date)) return true;
    const dow = dayOfWeek(date);
    return dow !== 0 && dow !== 6;
  };

  const nextWorking = (date: string): string => {
    let day = epochDay(date);
    for (let i = 0; i < nonWorkingRunDaysMax; i++) {
      day += 1;
      const candidate = fromEpochDay(day);
      if (isWorking(candidate)) return candidate;
    }
    throw new Error(`assertion: no working day within ${nonWorkingRunDaysMax} days after ${date}; check the calendar table`);
  };

  return {
    isWorkingDay: isWorking,
    nextWorkingDay: nextWorking,
    // The day of the event never counts (民法典 art. 201: a period counted in days starts on
    // the next day), whether or not it is itself a working day; the result is the n-th working
    // day after it. n = 0 returns the date unchanged.
    addWorkingDays(date: string, n: number): string {
      if (!Number.isSafeInteger(n) || n < 0 || n > workingDaysAddMax) {
        throw new Error(`assertion: working days must be an integer in 0..${workingDaysAddMax}, got ${n}`);
      }
      let current = date;
      epochDay(current);
      for (let i = 0; i < n; i++) current = nextWorking(current);
      return current;
    },
    covers(date: string): boolean {
      epochDay(date);
      return years.has(Number(date.slice(0, 4)));
    },
    coveredThrough(date: string): string | undefined {
      epochDay(date);
      let year = Number(date.slice(0, 4));
      if (!years.has(year)) return undefined;
      while (years.has(year + 1)) year += 1;
      return `${year}-12-31`;
    },
    table: checked,
  };
}

export function isWorkingDay(calendar: Calendar, date: string): boolean {
  return calendar.isWorkingDay(date);
}

/** The `n`-th working day after `date`, the day of `date` itself not counted. */
export function addWorkingDays(calendar: Calendar, date: string, n: number): string {
  return calendar.addWorkingDays(date, n);
}

function checkTable(table: CalendarTable): CalendarTable {
  const holidays = checkDates(table.holidays, 'holidays');
  const makeupWorkdays = checkDates(table.makeupWorkdays, 'makeupWorkdays');
  const holidaySet = new Set(holidays);
  for (const d of makeupWorkdays) {
    if (holidaySet.has(d)) throw new InvalidCalendarTable(`${d} is both a holiday and a make-up workday`);
    // A make-up workday on a weekday changes nothing, so it is almost certainly a typo for
    // the weekend day that was meant.
    const dow = dayOfWeek(d);
    if (dow !== 0 && dow !== 6) throw new InvalidCalendarTable(`make-up workday ${d} is not a Saturday or Sunday`);
  }
  let years: number[] | undefined;
  if (table.years !== undefined) {
    if (!Array.isArray(table.years) || table.years.length > calendarEntriesMax) {
      throw new InvalidCalendarTable('years must be an array of years');
    }
    years = table.years.map((y) => {
      if (!Number.isSafeInteger(y) || y < 1970 || y > 9999) throw new InvalidCalendarTable(`bad year ${String(y)}`);
      return y;
    });
  }
  return { holidays, makeupWorkdays, years };
}

function checkDates(list: unknown, field: string): string[] {
  if (!Array.isArray(list)) throw new InvalidCalendarTable(`${field} must be an array of YYYY-MM-DD dates`);
  if (list.length > calendarEntriesMax) throw new InvalidCalendarTable(`${field} has more than ${calendarEntriesMax} entries`);
  for (const d of list) {
    if (!isBusinessDate(d)) throw new InvalidCalendarTable(`${field} holds ${JSON.stringify(d)}, not a YYYY-MM-DD date`);
  }
  return [...(list as string[])];
}

/** Validates a table read from JSON (BIDBOND_CALENDAR_FILE). Unknown keys are refused so that
 *  a misspelt "makeUpWorkdays" cannot silently drop every 调休 Saturday. */
export function loadCalendarTable(json: unknown): CalendarTable {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidCalendarTable('must be an object {holidays, makeupWorkdays, years?}');
  }
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!['holidays', 'makeupWorkdays', 'years', 'comment'].includes(key)) {
      throw new InvalidCalendarTable(`unknown key ${JSON.stringify(key)}`);
    }
  }
  return checkTable({
    holidays: obj.holidays as string[],
    makeupWorkdays: obj.makeupWorkdays as string[],
    years: obj.years as number[] | undefined,
  });
}

/** A configured table on top of the built-in one: for every year the override covers (its
 *  `years`, or the years of its entries) its entries replace the base's, so an operator can add
 *  2027 or correct a year without restating the others. */
export function mergeCalendarTables(base: CalendarTable, override: CalendarTable): CalendarTable {
  const yearOf = (d: string) => Number(d.slice(0, 4));
  const baseYears = base.years ?? [...base.holidays, ...base.makeupWorkdays].map(yearOf);
  const overrideYears = new Set(override.years ?? [...override.holidays, ...override.makeupWorkdays].map(yearOf));
  const keep = (d: string) => !overrideYears.has(yearOf(d));
  return checkTable({
    holidays: [...base.holidays.filter(keep), ...override.holidays],
    makeupWorkdays: [...base.makeupWorkdays.filter(keep), ...override.makeupWorkdays],
    years: [...new Set([...baseYears, ...overrideYears])].sort((a, b) => a - b),
  });
}

function span(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addCalendarDays(d, 1)) out.push(d);
  return out;
}

/** The State Council's schedules (国务院办公厅关于…年部分节假日安排的通知):
 *  2025: 国办发明电〔2024〕12号 of 2024-11-12, the first under the 2024 revision of the
 *  全国年节及纪念日放假办法 (Spring Festival eve and 2 May became holidays);
 *  2026: the notice of 2025-11-04.
 *  2027 is not published as of this writing: it is deliberately absent, so 2027 dates count
 *  only weekends as non-working and `covers()` is false for them. Operators add each year's
 *  schedule through BIDBOND_CALENDAR_FILE when the notice appears (usually in November). */
export const defaultCalendarTable: CalendarTable = Object.freeze({
  years: Object.freeze([2025, 2026]),
  holidays: Object.freeze([
    // 2025
    '2025-01-01',
    ...span('2025-01-28', '2025-02-04'),
    ...span('2025-04-04', '2025-04-06'),
    ...span('2025-05-01', '2025-05-05'),
    ...span('2025-05-31', '2025-06-02'),
    ...span('2025-10-01', '2025-10-08'),
    // 2026
    ...span('2026-01-01', '2026-01-03'),
    ...span('2026-02-15', '2026-02-23'),
    ...span('2026-04-04', '2026-04-06'),
    ...span('2026-05-01', '2026-05-05'),
    ...span('2026-06-19', '2026-06-21'),
    ...span('2026-09-25', '2026-09-27'),
    ...span('2026-10-01', '2026-10-07'),
  ]),
  makeupWorkdays: Object.freeze([
    '2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11',
    '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10',
  ]),
});

export const defaultCalendar: Calendar = createCalendar(defaultCalendarTable);
