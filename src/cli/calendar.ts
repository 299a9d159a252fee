// `bidbond calendar show` and `bidbond calendar load FILE`: how far ahead R19's working-day
// calendar is known, and loading the next year's schedule when the State Council publishes it.
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { connectInfrastructure } from '../app/infrastructure';
import type { CalendarCoverage } from '../calendar/service';
import type { Config } from '../config';
import { createDb } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { ApiError } from '../errors';
import { loadBusinessTables } from '../tables';

/** A year's schedule is a few kilobytes; a file far larger is not one. */
export const calendarFileBytesMax = 1024 * 1024;

/** The calendar's service (and the refunds whose due dates a loaded year moves) is loaded when a
 *  calendar command runs, not whenever the program starts (see main.ts). */
const calendar = () => require('../calendar/service') as typeof import('../calendar/service');

function printCoverage(c: CalendarCoverage): void {
  const out = process.stdout;
  out.write(`years covered: ${c.years.join(', ') || 'none'}\n`);
  out.write(`covered through: ${c.coveredThrough ?? `nothing (${c.today.slice(0, 4)} is not covered)`}; ${c.daysCoveredAhead} days ahead of ${c.today}\n`);
  for (const y of c.storedYears) out.write(`  ${y.year}: loaded ${y.loadedAt} by ${y.loadedBy} from ${y.source}\n`);
}

async function withDatabase<T>(config: Config, work: (db: ReturnType<typeof createDb>) => Promise<T>): Promise<T> {
  const infra = await connectInfrastructure(config);
  const db = createDb(infra.databaseUrl);
  try {
    await migrateLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
    await infra.stop();
  }
}

export function addCalendarCommand(program: Command, config: () => Config): void {
  const cmd = program.command('calendar').description("R19's working-day calendar: coverage, and loading a year's schedule");
  cmd
    .command('show')
    .description('the years covered and how many days ahead')
    .action(async () => {
      const cfg = config();
      await withDatabase(cfg, async (db) => printCoverage(await calendar().calendarCoverage(db, await calendar().refreshedTables(db, loadBusinessTables(cfg)))));
    });
  cmd
    .command('load <file>')
    .description('load a JSON table {years, holidays, makeupWorkdays} (validated whole, audited; every process uses it within a minute)')
    .action(async (file: string) => {
      if (statSync(file).size > calendarFileBytesMax) throw new Error(`${file} is larger than ${calendarFileBytesMax} bytes`);
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(`${file} is not JSON: ${(e as Error).message}`);
      }
      const cfg = config();
      await withDatabase(cfg, async (db) => {
        const base = await calendar().refreshedTables(db, loadBusinessTables(cfg));
        try {
          const { tables, years, recomputedDueDates } = await db.transaction((tx) => calendar().loadCalendarYears(tx, base, { json, source: file, actor: { type: 'operator', id: process.env.USER ?? 'cli' } }));
          process.stdout.write(`loaded ${years.join(', ')}\n`);
          if (recomputedDueDates > 0) process.stdout.write(`recomputed ${recomputedDueDates} provisional refund due date(s)\n`);
          printCoverage(await calendar().calendarCoverage(db, tables));
        } catch (e) {
          if (e instanceof ApiError) throw new Error(`${e.code}: ${e.message}`);
          throw e;
        }
      });
    });
}
