// The years of the R19 calendar an operator loaded, one row a year.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import type { CalendarTable } from '../domain/calendar';

export interface CalendarYearRow {
  year: number;
  holidays: string[];
  makeup_workdays: string[];
  source: string;
  loaded_by: string;
  loaded_at: Date;
}

/** The stored years as one table, or undefined when none was loaded. */
export async function storedCalendarTable(db: Tx): Promise<CalendarTable | undefined> {
  const rows = (await db('calendar_years').orderBy('year').select('year', 'holidays', 'makeup_workdays')) as Pick<CalendarYearRow, 'year' | 'holidays' | 'makeup_workdays'>[];
  if (rows.length === 0) return undefined;
  return { years: rows.map((r) => r.year), holidays: rows.flatMap((r) => r.holidays), makeupWorkdays: rows.flatMap((r) => r.makeup_workdays) };
}

export async function storeCalendarYear(tx: Knex.Transaction, row: Omit<CalendarYearRow, 'loaded_at'>): Promise<void> {
  await tx('calendar_years')
    .insert({ ...row, loaded_at: tx.fn.now() })
    .onConflict('year')
    .merge(['holidays', 'makeup_workdays', 'source', 'loaded_by', 'loaded_at']);
}

export async function listStoredYears(db: Tx): Promise<Pick<CalendarYearRow, 'year' | 'source' | 'loaded_by' | 'loaded_at'>[]> {
  return db('calendar_years').orderBy('year').select('year', 'source', 'loaded_by', 'loaded_at');
}
