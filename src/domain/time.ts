// Business dates are Asia/Shanghai dates. China has kept UTC+8 without daylight saving since
// 1991, so a fixed offset is exact for every date this service can meet and needs no tz
// database (a container without ICU data would otherwise silently fall back to UTC).

export const shanghaiOffsetMinutes = 480;
const offsetMs = shanghaiOffsetMinutes * 60_000;
const dayMs = 86_400_000;

/** The years a business date may carry. Far wider than any bid, narrow enough that `Date.UTC`
 *  never reinterprets a two-digit year and every date has exactly four digits. */
export const businessYearMin = 1970;
export const businessYearMax = 9999;

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

export class InvalidBusinessDate extends Error {
  constructor(readonly input: unknown, reason: string) {
    super(`invalid date ${JSON.stringify(String(input).slice(0, 40))}: ${reason}`);
    this.name = 'InvalidBusinessDate';
  }
}

/** Days since 1970-01-01 for a "YYYY-MM-DD" business date; throws on anything that is not a
 *  real calendar date (2025-02-29, 2025-13-01, "2025-1-1"). */
export function epochDay(date: string): number {
  if (typeof date !== 'string') throw new InvalidBusinessDate(date, 'must be a string YYYY-MM-DD');
  const m = datePattern.exec(date);
  if (!m) throw new InvalidBusinessDate(date, 'must be YYYY-MM-DD');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < businessYearMin || year > businessYearMax) {
    throw new InvalidBusinessDate(date, `year must be between ${businessYearMin} and ${businessYearMax}`);
  }
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    throw new InvalidBusinessDate(date, 'no such calendar date');
  }
  return ms / dayMs;
}

export function fromEpochDay(day: number): string {
  if (!Number.isSafeInteger(day)) throw new Error(`assertion: epoch day must be an integer, got ${day}`);
  const s = new Date(day * dayMs).toISOString().slice(0, 10);
  const year = Number(s.slice(0, 4));
  if (!/^\d{4}-/.test(s) || year < businessYearMin || year > businessYearMax) {
    throw new InvalidBusinessDate(s, 'out of the supported range');
  }
  return s;
}

export function isBusinessDate(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    epochDay(s);
    return true;
  } catch {
    return false;
  }
}

/** The Shanghai calendar date of an instant. */
export function businessDate(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new InvalidBusinessDate(d, 'invalid Date');
  return new Date(ms + offsetMs).toISOString().slice(0, 10);
}

/** Accepts a business date as-is, or an instant (Date or ISO timestamp with an offset) and
 *  takes its Shanghai date. A timestamp without an offset is refused: it would be read in the
 *  server's zone, which is exactly the ambiguity this module exists to remove. */
export function toBusinessDate(value: string | Date): string {
  if (value instanceof Date) return businessDate(value);
  if (datePattern.test(value)) {
    epochDay(value);
    return value;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new InvalidBusinessDate(value, 'must be YYYY-MM-DD or an ISO 8601 timestamp with an offset');
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidBusinessDate(value, 'not a valid timestamp');
  return businessDate(d);
}

export function addCalendarDays(date: string, n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`assertion: day count must be an integer, got ${n}`);
  return fromEpochDay(epochDay(date) + n);
}

/** Whole days from `fromDate` to `toDate` (negative when `toDate` is earlier). Counting from
 *  a value date to another this is "算头不算尾": the first day counts, the last does not. */
export function daysBetween(fromDate: string, toDate: string): number {
  return epochDay(toDate) - epochDay(fromDate);
}

export function compareDates(a: string, b: string): number {
  return Math.sign(epochDay(a) - epochDay(b));
}

/** 00:00:00.000 in Shanghai on `date`. */
export function startOfBusinessDay(date: string): Date {
  return new Date(epochDay(date) * dayMs - offsetMs);
}

/** The last millisecond of `date` in Shanghai (23:59:59.999 +08:00). Prefer comparing
 *  `t < startOfBusinessDay(addCalendarDays(date, 1))` where an exclusive bound reads better. */
export function endOfBusinessDay(date: string): Date {
  return new Date((epochDay(date) + 1) * dayMs - offsetMs - 1);
}

/** 0 = Sunday … 6 = Saturday, for a business date. */
export function dayOfWeek(date: string): number {
  // 1970-01-01 was a Thursday.
  return (((epochDay(date) + 4) % 7) + 7) % 7;
}
