// The dated business tables: the R19 working-day calendar and the R13 rate tables. Built-in
// defaults carry the official schedules; an operator extends or replaces them with JSON files
// named in the configuration (validated at start: a bad file stops the start with a message
// naming the variable), and adds a year's calendar with `bidbond calendar load`, which stores it
// in the database so that every process of a deployment picks it up without a restart.
import { readFileSync } from 'node:fs';
import type { Config } from './config';
import { ConfigError } from './config';
import { createCalendar, defaultCalendar, defaultCalendarTable, loadCalendarTable, mergeCalendarTables, type Calendar, type CalendarTable } from './domain/calendar';
import { daysBetween } from './domain/time';
import { defaultDepositRateTable, defaultLoanRateTable, loadRateTable, type RateTable } from './domain/interest';

export interface BusinessTables {
  calendar: Calendar;
  /** The calendar from the built-in and configured tables alone, before the stored years. */
  configuredCalendar: Calendar;
  depositRates: RateTable;
  loanRates: RateTable;
}

/** The built-in tables, for code and tests that run without a configuration. */
export const defaultBusinessTables: BusinessTables = { calendar: defaultCalendar, configuredCalendar: defaultCalendar, depositRates: defaultDepositRateTable, loanRates: defaultLoanRateTable };

function readJson(variable: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError([`${variable}: cannot read ${file} as JSON: ${(e as Error).message}`]);
  }
}

function load<T>(variable: string, file: string, parse: (json: unknown) => T): T {
  try {
    return parse(readJson(variable, file));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([`${variable}: ${(e as Error).message}`]);
  }
}

export function loadBusinessTables(config: Pick<Config, 'BIDBOND_CALENDAR_FILE' | 'BIDBOND_DEPOSIT_RATE_FILE' | 'BIDBOND_LOAN_RATE_FILE'>): BusinessTables {
  const calendar = config.BIDBOND_CALENDAR_FILE
    ? createCalendar(mergeCalendarTables(defaultCalendarTable, load('BIDBOND_CALENDAR_FILE', config.BIDBOND_CALENDAR_FILE, loadCalendarTable)))
    : defaultCalendar;
  return {
    calendar,
    configuredCalendar: calendar,
    depositRates: config.BIDBOND_DEPOSIT_RATE_FILE ? load('BIDBOND_DEPOSIT_RATE_FILE', config.BIDBOND_DEPOSIT_RATE_FILE, loadRateTable) : defaultDepositRateTable,
    loanRates: config.BIDBOND_LOAN_RATE_FILE ? load('BIDBOND_LOAN_RATE_FILE', config.BIDBOND_LOAN_RATE_FILE, loadRateTable) : defaultLoanRateTable,
  };
}

/** The tables with the years stored by `bidbond calendar load` laid over the configured
 *  calendar: a stored year replaces that year of the file or the built-in schedule. */
export function withStoredCalendarYears(tables: BusinessTables, stored: CalendarTable | undefined): BusinessTables {
  if (!stored || !stored.years?.length) return { ...tables, calendar: tables.configuredCalendar };
  return { ...tables, calendar: createCalendar(mergeCalendarTables(tables.configuredCalendar.table, stored)) };
}

/** Days from `today` to the last day the calendar holds the official schedule for without a
 *  gap; 0 when today's own year is not covered. A working-day deadline (R9, R11, R14, R16) past
 *  that day is computed from weekends alone and is only provisional. */
export function calendarDaysCoveredAhead(calendar: Calendar, today: string): number {
  const through = calendar.coveredThrough(today);
  return through ? daysBetween(today, through) : 0;
}

/** Fewer days ahead than this and the service says so: at start, in /readyz (degraded) and in
 *  /metrics, so that the next year is loaded before a deadline falls past the known schedule. */
export const calendarDaysCoveredAheadMin = 45;
