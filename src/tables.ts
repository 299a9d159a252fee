// The dated business tables: the R19 working-day calendar and the R13 rate tables. Built-in
// defaults carry the official schedules; an operator extends or replaces them with JSON files
// named in the configuration. They are loaded and validated once at start (a bad file stops the
// start with a message naming the variable) and are the same in every process of a deployment.
import { readFileSync } from 'node:fs';
import type { Config } from './config';
import { ConfigError } from './config';
import { createCalendar, defaultCalendar, defaultCalendarTable, loadCalendarTable, mergeCalendarTables, type Calendar } from './domain/calendar';
import { defaultDepositRateTable, defaultLoanRateTable, loadRateTable, type RateTable } from './domain/interest';

export interface BusinessTables {
  calendar: Calendar;
  depositRates: RateTable;
  loanRates: RateTable;
}

/** The built-in tables, for code and tests that run without a configuration. */
export const defaultBusinessTables: BusinessTables = { calendar: defaultCalendar, depositRates: defaultDepositRateTable, loanRates: defaultLoanRateTable };

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
    depositRates: config.BIDBOND_DEPOSIT_RATE_FILE ? load('BIDBOND_DEPOSIT_RATE_FILE', config.BIDBOND_DEPOSIT_RATE_FILE, loadRateTable) : defaultDepositRateTable,
    loanRates: config.BIDBOND_LOAN_RATE_FILE ? load('BIDBOND_LOAN_RATE_FILE', config.BIDBOND_LOAN_RATE_FILE, loadRateTable) : defaultLoanRateTable,
  };
}
