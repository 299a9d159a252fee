// Statement reconciliation throughput: a camt.053 of N entries streamed from a file through
// parseCamt053Stream into statement_entries (batched INSERTs) and matched against the ledger in
// SQL, in one transaction, as POST /v1/reconciliations does. Beside it, measured in the same run
// on the same file and rows: `xmllint --stream --noout` (libxml2's streaming reader, the floor
// for reading the XML at all) and raw multi-row INSERTs of the same rows into a table of the
// same shape without parsing or matching (the floor for writing them).
//
//   npx tsx bench/statement-parse.ts [entries=100000]
// Uses a fresh database `bidbond_bench_*` on TEST_DATABASE_ADMIN_URL / DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { camt053Chunks } from '../src/banks/iso20022/camt053';
import type { StatementEntry } from '../src/banks/types';
import { createDb } from '../src/db/knex';
import { defaultBusinessTables } from '../src/tables';
import { migrateLatest } from '../src/db/migrate';
import { reconcileStream } from '../src/reconciliation/service';
import { statementInsertBatchRows } from '../src/reconciliation/statements';
import { parseCamt053Stream } from '../src/banks/iso20022/camt053';

const entriesN = Number(process.argv[2] ?? 100_000);
const date = '2024-06-28';
const trust = '1209876543210001';

function* entries(): Generator<StatementEntry> {
  for (let i = 1; i <= entriesN; i++) {
    // Debits only: a credit unknown to the ledger is recovered through the deposit rules one
    // by one (recordCredit, ~9 ms each, bounded by statementRecoveriesMax), which would measure
    // the deposit path, not the statement's.
    const credit = false;
    yield {
      entryRef: `B${String(i).padStart(9, '0')}`, direction: credit ? 'credit' : 'debit', amountFen: BigInt(100 + (i % 5000)), currency: 'CNY',
      bookedAt: `${date}T0${i % 10}:00:00Z`, valueDate: date, endToEndId: `E${String(i).padStart(9, '0')}`,
      counterparty: { name: '路桥建设有限公司', accountNumber: `6222${String(i).padStart(12, '0')}`, bankCode: '103100000026' }, remittance: '投标保证金',
    };
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bidbond-bench-statements-'));
  const file = path.join(dir, 'camt053.xml');
  let credits = 0n;
  let debits = 0n;
  for (const e of entries()) (e.direction === 'credit' ? (credits += e.amountFen) : (debits += e.amountFen));
  // Opening chosen so the statement adds up; the ledger knows none of it, so every line goes
  // through every matching step and ends missing_in_ledger (the most work per line).
  const header = { messageId: `BENCH${randomBytes(4).toString('hex')}`, statementId: 'BENCH', sequenceNumber: '1', account: trust, currency: 'CNY', date, openingBalanceFen: debits, closingBalanceFen: credits, createdAt: new Date() };
  await finished(Readable.from(camt053Chunks(header, entries())).pipe(createWriteStream(file)));
  const bytes = statSync(file).size;

  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = createDb(adminUrl, { poolMax: 1 });
  const dbName = `bidbond_bench_${randomBytes(4).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const db = createDb(url.toString());
  try {
    await migrateLatest(db);
    const bankId = 'bnk_' + '0'.repeat(26);
    await db('banks').insert({ id: bankId, name: 'bench', bank_code: '102100099996', adapter: 'iso20022', endpoint: 'http://127.0.0.1:9', trust_account_number: trust, trust_account_name: 'bench', virtual_account_prefix: '999' });
    const bank = await db('banks').where({ id: bankId }).first();

    let rssPeak = process.memoryUsage().rss;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const t0 = performance.now();
    const out = await reconcileStream({ db, tables: defaultBusinessTables }, bank, createReadStream(file), parseCamt053Stream, { source: 'cli', actor: { type: 'operator', id: 'bench' } });
    const reconcileMs = performance.now() - t0;
    clearInterval(sampler);
    const r = await db('reconciliations').where({ id: out.reconciliationId }).first();

    const t1 = performance.now();
    execFileSync('xmllint', ['--stream', '--noout', file]);
    const xmllintMs = performance.now() - t1;

    // Raw INSERTs of the same rows (pre-built, no XML, no matching) into a copy of the table.
    await db.raw('CREATE TABLE bench_entries (LIKE statement_entries INCLUDING DEFAULTS)');
    const t2 = performance.now();
    await db.transaction(async (tx) => {
      let batch: Record<string, unknown>[] = [];
      let n = 0;
      for (const e of entries()) {
        n += 1;
        batch.push({ statement_id: 1, line_no: n, entry_ref: e.entryRef, direction: e.direction, amount_fen: e.amountFen, currency: 'CNY', booked_at: new Date(e.bookedAt), value_date: e.valueDate,
          end_to_end_id: e.endToEndId, counterparty_name: e.counterparty.name, counterparty_account: e.counterparty.accountNumber, counterparty_bank_code: e.counterparty.bankCode, remittance: e.remittance, reversal: false });
        if (batch.length >= statementInsertBatchRows) {
          await tx('bench_entries').insert(batch);
          batch = [];
        }
      }
      if (batch.length) await tx('bench_entries').insert(batch);
    });
    const insertMs = performance.now() - t2;

    const rate = (ms: number) => Math.round(entriesN / (ms / 1000)).toLocaleString('en-US');
    process.stdout.write(`statement: ${entriesN} entries, ${(bytes / 1048576).toFixed(1)} MiB camt.053.001.08; result ${r.result}, ${r.exception_count} exceptions, ${r.recovered_count} recovered\n`);
    process.stdout.write(`| what | seconds | entries/s |\n| --- | ---: | ---: |\n`);
    process.stdout.write(`| reconcileStream (parse + store + match + exceptions + voucher request) | ${(reconcileMs / 1000).toFixed(2)} | ${rate(reconcileMs)} |\n`);
    process.stdout.write(`| reference: xmllint --stream --noout (same file) | ${(xmllintMs / 1000).toFixed(2)} | ${rate(xmllintMs)} |\n`);
    process.stdout.write(`| reference: raw batched INSERT of the same rows (${statementInsertBatchRows}/statement) | ${(insertMs / 1000).toFixed(2)} | ${rate(insertMs)} |\n`);
    process.stdout.write(`peak RSS during reconcileStream: ${(rssPeak / 1048576).toFixed(0)} MiB (process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)\n`);
  } finally {
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
