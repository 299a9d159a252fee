// R19: an operator loads each year's schedule of holidays and make-up working days when the
// State Council publishes it. The table is validated whole, stored a year a row, and audited;
// every process lays the stored years over its configured calendar (src/tables.ts).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import type { Tx } from '../db/knex';
import { createCalendar, InvalidCalendarTable, loadCalendarTable, mergeCalendarTables } from '../domain/calendar';
import { businessDate } from '../domain/time';
import { RuleViolation } from '../errors';
import { calendarDaysCoveredAhead, withStoredCalendarYears, type BusinessTables } from '../tables';
import { recomputeProvisionalDueDates } from '../refunds/service';
import * as repo from './repo';

/** A file holds a few years at most; more is a mistake, not a schedule. */
export const calendarYearsPerLoadMax = 5;

export interface CalendarCoverage {
  object: 'calendar';
  today: string;
  coveredThrough: string | null;
  daysCoveredAhead: number;
  years: number[];
  storedYears: { year: number; source: string; loadedBy: string; loadedAt: string }[];
}

export async function calendarCoverage(db: Tx, tables: BusinessTables, now = new Date()): Promise<CalendarCoverage> {
  const today = businessDate(now);
  const stored = await repo.listStoredYears(db);
  return {
    object: 'calendar',
    today,
    coveredThrough: tables.calendar.coveredThrough(today) ?? null,
    daysCoveredAhead: calendarDaysCoveredAhead(tables.calendar, today),
    years: [...(tables.calendar.table.years ?? [])],
    storedYears: stored.map((r) => ({ year: r.year, source: r.source, loadedBy: r.loaded_by, loadedAt: r.loaded_at.toISOString() })),
  };
}

/** Validates a whole table (JSON as in BIDBOND_CALENDAR_FILE, with `years` required: a year is
 *  loaded only as a complete schedule) and stores each of its years. Returns the tables with
 *  the new years in force. */
export async function loadCalendarYears(
  tx: Knex.Transaction,
  tables: BusinessTables,
  input: { json: unknown; source: string; actor: Actor },
): Promise<{ tables: BusinessTables; years: number[]; recomputedDueDates: number }> {
  let table;
  try {
    table = loadCalendarTable(input.json);
  } catch (e) {
    if (e instanceof InvalidCalendarTable) throw new RuleViolation('R19', 'invalid_calendar', `the calendar table is invalid: ${e.message}`);
    throw e;
  }
  const years = [...new Set(table.years ?? [])].sort((a, b) => a - b);
  if (years.length === 0) throw new RuleViolation('R19', 'invalid_calendar', 'the table must list the years it holds completely in "years"');
  if (years.length > calendarYearsPerLoadMax) throw new RuleViolation('R19', 'invalid_calendar', `at most ${calendarYearsPerLoadMax} years at a time`);
  const yearOf = (d: string) => Number(d.slice(0, 4));
  for (const d of [...table.holidays, ...table.makeupWorkdays]) {
    if (!years.includes(yearOf(d))) throw new RuleViolation('R19', 'invalid_calendar', `${d} is outside the years the table says it holds (${years.join(', ')})`);
  }
  // The merged calendar must still be valid as a whole (no day both holiday and workday).
  try {
    createCalendar(mergeCalendarTables(tables.configuredCalendar.table, table));
  } catch (e) {
    if (e instanceof InvalidCalendarTable) throw new RuleViolation('R19', 'invalid_calendar', e.message);
    throw e;
  }
  for (const year of years) {
    await repo.storeCalendarYear(tx, {
      year,
      holidays: table.holidays.filter((d) => yearOf(d) === year),
      makeup_workdays: table.makeupWorkdays.filter((d) => yearOf(d) === year),
      source: input.source,
      loaded_by: input.actor.id ?? input.actor.type,
    });
  }
  await appendAudit(tx, {
    actor: input.actor,
    action: 'calendar.loaded',
    entityType: 'calendar',
    entityId: years.join(','),
    data: {
      years,
      holidays: table.holidays.length,
      makeupWorkdays: table.makeupWorkdays.length,
      source: input.source,
      sha256: createHash('sha256').update(JSON.stringify(input.json)).digest('hex'),
    },
  });
  const loaded = withStoredCalendarYears(tables, await repo.storedCalendarTable(tx));
  const recomputed = await recomputeProvisionalDueDates(tx, loaded.calendar, input.actor);
  return { tables: loaded, years, recomputedDueDates: recomputed };
}

/** The runtime's tables with whatever years are stored now. */
export async function refreshedTables(db: Tx, tables: BusinessTables): Promise<BusinessTables> {
  return withStoredCalendarYears(tables, await repo.storedCalendarTable(db));
}
