// `bidbond credit import FILE.csv`: bidders' credit grades (信用等级) from a credit platform's
// export, recorded beside the earlier findings (never over them) and audited.
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { connectInfrastructure } from '../app/infrastructure';
import type { Config } from '../config';
import { importGrades, creditImportBytesMax } from '../credit/service';
import { createDb } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { ApiError } from '../errors';

/** The import itself, on a database handle: one transaction, all or nothing. */
export async function importCreditFile(db: Knex, file: string, operator: string): Promise<{ recorded: number; unchanged: number }> {
  if (statSync(file).size > creditImportBytesMax) throw new Error(`${file} is larger than ${creditImportBytesMax} bytes`);
  const text = readFileSync(file, 'utf8');
  try {
    return await db.transaction((tx) => importGrades(tx, { type: 'operator', id: operator }, text));
  } catch (e) {
    if (e instanceof ApiError) throw new Error(`${file}: ${e.message}`);
    throw e;
  }
}

export function addCreditCommand(program: Command, config: () => Config): void {
  const cmd = program.command('credit').description("bidders' credit grades, which sections may reduce the bid security for");
  cmd
    .command('import <file>')
    .description('record the findings of a CSV with the header uscc,grade,source,validFrom,validTo (checked whole: one bad line stores nothing)')
    .action(async (file: string) => {
      const infra = await connectInfrastructure(config());
      const db = createDb(infra.databaseUrl);
      try {
        await migrateLatest(db);
        const { recorded, unchanged } = await importCreditFile(db, file, process.env.USER ?? 'cli');
        process.stdout.write(`recorded ${recorded} credit finding(s); ${unchanged} already on record\n`);
      } finally {
        await db.destroy();
        await infra.stop();
      }
    });
}
