// `bidbond reconcile --bank ID --file F | --date D`: an operator's reconciliation of one day,
// from a camt.053 file the bank delivered some other way, or pulled through the bank's adapter.
import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config';
import { isBusinessDate } from '../domain/time';
import { ApiError } from '../errors';
import { connectInfrastructure } from '../app/infrastructure';
import { createLogger } from '../runtime';

/** Exceptions printed on the terminal; the rest are in the report and its CSV. */
export const cliExceptionsShownMax = 50;

export function addReconcileCommand(program: Command, config: () => Config): void {
  program
    .command('reconcile')
    .description('reconcile a deposit bank\'s trust account for one day: --file <camt.053> or --date <YYYY-MM-DD> (pulled from the bank)')
    .requiredOption('--bank <id>', 'the deposit bank (bnk_…)')
    .option('--file <path>', 'a camt.053 statement (.001.08 or .001.02)')
    .option('--date <date>', 'the business day to pull through the bank adapter (Asia/Shanghai)')
    .action(async (o: { bank: string; file?: string; date?: string }) => {
      if (!!o.file === !!o.date) throw new Error('give exactly one of --file <path> or --date <YYYY-MM-DD>');
      if (o.date && !isBusinessDate(o.date)) throw new Error(`--date ${o.date} is not a date (YYYY-MM-DD)`);
      // The runtime and the statement's reader are loaded when this command runs, not whenever
      // the program starts (see main.ts).
      const { statementBytesMax } = require('../reconciliation/statements') as typeof import('../reconciliation/statements');
      const { createRuntime } = require('../app/runtime') as typeof import('../app/runtime');
      const { reconcileFromBank, reconcileStream } = require('../reconciliation/service') as typeof import('../reconciliation/service');
      const { parseCamt053Stream } = require('../banks/iso20022/camt053') as typeof import('../banks/iso20022/camt053');
      const { findBank } = require('../registry/repo') as typeof import('../registry/repo');
      const { presentSummary } = require('../reconciliation/present') as typeof import('../reconciliation/present');
      if (o.file && statSync(o.file).size > statementBytesMax) throw new Error(`${o.file} is larger than ${statementBytesMax} bytes`);
      const cfg = config();
      const infra = await connectInfrastructure(cfg);
      const rt = await createRuntime(cfg, infra, { log: createLogger(cfg), migrate: true });
      try {
        const actor = { type: 'operator' as const, id: process.env.USER ?? 'cli' };
        let outcome;
        try {
          if (o.file) {
            const bank = await findBank(rt.db, o.bank);
            if (!bank) throw new Error(`no bank ${o.bank}`);
            outcome = await reconcileStream(rt, bank, createReadStream(o.file), parseCamt053Stream, { source: 'cli', actor });
          } else {
            outcome = await reconcileFromBank(rt, o.bank, o.date!, { source: 'cli', actor });
          }
        } catch (e) {
          if (e instanceof ApiError) throw new Error(`${e.code}: ${e.message}`);
          throw e;
        }
        const r = await rt.db('reconciliations').where({ id: outcome.reconciliationId }).first();
        const s = presentSummary(r);
        const out = process.stdout;
        out.write(`${outcome.created ? 'reconciled' : 'already reconciled (same statement)'}: ${s.id}  ${s.statementDate}  ${s.status}\n`);
        out.write(`  entries ${s.entries}, matched ${s.matched.count} (credits ${s.matched.credits}, debits ${s.matched.debits}, recovered ${s.matched.recovered})\n`);
        out.write(`  closing balance: bank ${s.balances.closingBank}, ledger ${s.balances.closingLedger}, difference ${s.balances.difference} CNY\n`);
        const ex = await rt.db('reconciliation_exception_rows').where({ reconciliation_id: s.id }).orderBy('id').limit(cliExceptionsShownMax + 1);
        out.write(`  exceptions ${s.exceptionCount}${ex.length ? ':' : ''}\n`);
        for (const x of ex.slice(0, cliExceptionsShownMax)) out.write(`    #${x.id} ${x.kind} ${x.entry_ref} ${x.status}: ${x.detail}\n`);
        if (ex.length > cliExceptionsShownMax) out.write(`    … see GET /v1/reconciliations/${s.id}\n`);
        out.write(`  voucher ${s.voucherId}\n`);
      } finally {
        await rt.close();
        await infra.stop();
      }
    });
}
