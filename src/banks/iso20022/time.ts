// Bank documents carry local Beijing time (UTC+08:00, no daylight saving since 1991), often
// without an offset. These helpers are the one place where bank timestamps are read and
// written, so a naive "2025-02-28T14:03:20" is never silently taken as UTC.
import { BankMessageInvalid } from '../types';

export const shanghaiOffsetMinutes = 8 * 60;
const shanghaiOffsetMs = shanghaiOffsetMinutes * 60_000;

/** Distinct values remembered per reader below: a statement of 100,000 entries carries one
 *  value date and a few thousand booking times, each read again and again. */
export const bankTimeMemoEntries = 4096;

/** Remembers what a pure reader returned for a value (never a refusal, which names its field). */
function memo(read: (value: string, field: string) => string): (value: string, field: string) => string {
  const seen = new Map<string, string>();
  return (value, field) => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    const out = read(value, field);
    if (seen.size >= bankTimeMemoEntries) seen.clear();
    seen.set(value, out);
    return out;
  };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Wall-clock parts of an instant in Beijing time. */
export function shanghaiParts(at: Date): { date: string; time: string; compactDate: string; compactTime: string } {
  const t = new Date(at.getTime() + shanghaiOffsetMs);
  const y = pad(t.getUTCFullYear(), 4);
  const mo = pad(t.getUTCMonth() + 1);
  const d = pad(t.getUTCDate());
  const h = pad(t.getUTCHours());
  const mi = pad(t.getUTCMinutes());
  const s = pad(t.getUTCSeconds());
  return { date: `${y}-${mo}-${d}`, time: `${h}:${mi}:${s}`, compactDate: `${y}${mo}${d}`, compactTime: `${h}${mi}${s}` };
}

/** The Beijing business date of an ISO instant (what a booking time falls on). */
export const shanghaiDateOf = memo((at: string) => shanghaiParts(new Date(at)).date);

/** "2025-02-28T14:03:20+08:00": what we write into bank documents (valid xs:dateTime). */
export function formatShanghaiDateTime(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new Error('assertion: formatShanghaiDateTime needs a valid date');
  const p = shanghaiParts(at);
  return `${p.date}T${p.time}+08:00`;
}

const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The largest UTC offset in use (Kiribati, +14:00); xs:dateTime allows the same. */
export const utcOffsetMinutesMax = 14 * 60;
/** Years a bank date may fall in. Before CNAPS (2002) and ISO 20022 bank messages (2009) there
 *  are no bookings to read, and a year past the bound is a broken field; both bounds keep every
 *  date we derive a plain four-digit YYYY-MM-DD (year 9999 at -14:00 is already year 10000). */
export const bankYearMin = 1990;
export const bankYearMax = 2999;

/** A bank timestamp as an ISO instant in UTC ("...Z"). Without an offset it is Beijing time.
 *  Every part must exist: Date.parse would take 2026-02-30 as 2 March and 24:30 as the next
 *  day, so the date is checked against the calendar and the time against the clock first. */
export const normalizeBankDateTime = memo(readBankDateTime);

function readBankDateTime(value: string, field: string): string {
  const v = value.trim();
  const m = dateTimePattern.exec(v);
  if (!m) throw new BankMessageInvalid(`${field}: not a date-time: ${JSON.stringify(value.slice(0, 40))}`);
  normalizeBankDate(`${m[1]}-${m[2]}-${m[3]}`, field);
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) {
    throw new BankMessageInvalid(`${field}: not a time of day: ${JSON.stringify(v.slice(0, 40))}`);
  }
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(m[8] ?? '');
  if (offset && (Number(offset[3]) > 59 || Number(offset[2]) * 60 + Number(offset[3]) > utcOffsetMinutesMax)) {
    throw new BankMessageInvalid(`${field}: not a UTC offset: ${JSON.stringify(m[8])}`);
  }
  const withOffset = m[8] ? v : `${v}+08:00`;
  const ms = Date.parse(withOffset);
  if (Number.isNaN(ms)) throw new BankMessageInvalid(`${field}: not a date-time: ${JSON.stringify(value.slice(0, 40))}`);
  const beijingYear = new Date(ms + shanghaiOffsetMs).getUTCFullYear();
  if (beijingYear < bankYearMin || beijingYear > bankYearMax) {
    throw new BankMessageInvalid(`${field}: ${JSON.stringify(v.slice(0, 40))} is not in the years ${bankYearMin} to ${bankYearMax}`);
  }
  return new Date(ms).toISOString();
}

/** A bank business date, checked to be a real calendar date. */
export const normalizeBankDate = memo(readBankDate);

function readBankDate(value: string, field: string): string {
  const v = value.trim();
  const m = datePattern.exec(v);
  if (!m) throw new BankMessageInvalid(`${field}: not a date: ${JSON.stringify(v.slice(0, 40))}`);
  const t = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== v) {
    throw new BankMessageInvalid(`${field}: not a calendar date: ${JSON.stringify(v)}`);
  }
  const year = Number(m[1]);
  if (year < bankYearMin || year > bankYearMax) throw new BankMessageInvalid(`${field}: ${JSON.stringify(v)} is not in the years ${bankYearMin} to ${bankYearMax}`);
  return v;
}

/** Midnight in Beijing of a business date, as an ISO instant: a booking given only a date. */
export const startOfShanghaiDay = memo((date: string, field: string) => new Date(Date.parse(`${normalizeBankDate(date, field)}T00:00:00+08:00`)).toISOString());

/** "20250228" -> "2025-02-28" */
export function expandCompactDate(value: string, field: string): string {
  if (!/^\d{8}$/.test(value)) throw new BankMessageInvalid(`${field}: expected YYYYMMDD, got ${JSON.stringify(String(value).slice(0, 20))}`);
  return normalizeBankDate(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`, field);
}

/** "20250228" + "140320" (Beijing) -> ISO instant in UTC. */
export function compactDateTimeToIso(date: string, time: string, field: string): string {
  const d = expandCompactDate(date, field);
  if (!/^\d{6}$/.test(time)) throw new BankMessageInvalid(`${field}: expected HHmmss, got ${JSON.stringify(String(time).slice(0, 20))}`);
  return normalizeBankDateTime(`${d}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}`, field);
}
