// A bank's large notification: one signed camt.054 carrying N credits, one to each of N bidders'
// sub-accounts of a section (a deadline's worth of deposits in one file). Measures through the
// real HTTP stack, with the api and a worker of the deposits queue in this process: the time to
// the bank's answer (the file verified, kept and acknowledged), and the time until every one of
// the N deposits is valid (judged, booked, audited). Beside it, in the same run and against the
// same PostgreSQL server, the reference: psql writing the same rows set-based in one
// transaction (N credits, N deposits, N journals with 2N postings, N audit rows), the floor of
// any implementation that keeps them.
//
// Vouchers for the new deposits are requested (rows and outbox jobs) in the same transactions;
// rendering them is the vouchers queue's work, which does not run here.
//
//   npx tsx bench/notification-batch.ts [credits=10000]
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { buildWorker } from '../src/app/worker';
import { buildCamt054 } from '../src/banks/iso20022/camt054';
import type { CreditEntry } from '../src/banks/types';
import { deposits } from '../src/deposits';
import { newId } from '../src/domain/ids';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { signMessage } from '../src/pki/messageSignature';
import { startBenchApi } from './api';
import { reportRows } from './table';
import { digits, cnaps, startProfile } from './support';

const creditCount = Number(process.argv[2] ?? 10_000);
const answeredGoalSeconds = 1;
const validGoalSeconds = 5;
/** How long to wait for the deposits before calling the run failed. */
const validWaitSecondsMax = 300;
const pollIntervalMs = 25;

const uscc = (i: number) => {
  let b = `9111${String(i).padStart(8, '0')}`;
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};

async function main(): Promise<void> {
  if (!(Number.isInteger(creditCount) && creditCount >= 1)) throw new Error('credits: a positive integer');
  const api = await startBenchApi({ logLevel: 'silent' });
  const { rt, base, call } = api;
  const url = api.databaseUrl;
  const worker = await buildWorker(rt, api.config.REDIS_URL!, [deposits]);
  try {
    const { bank, cert: bankCert, trustAccount, prefix } = await api.createBank();
    const tenderee = await call('POST', '/v1/tenderees', { name: '招标人', uscc: uscc(0) });
    const section = await call('POST', '/v1/sections', {
      projectCode: `P${digits(6)}`, sectionCode: 'S1', name: 'bench section', tendereeId: tenderee.id, regime: 'tendering_law',
      estimatedPrice: '100000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'bank'],
    });
    // The parties are set up in bulk (the API would take minutes for ten thousand bidders, and
    // setting them up is not what is measured).
    const bidders = Array.from({ length: creditCount }, (_, i) => ({
      id: newId('bdr'), name: `建工集团${i}有限公司`, uscc: uscc(i + 1), basic_bank_code: cnaps('102'), basic_account_number: `62${digits(17)}`, virtual: `${prefix}${String(i + 1).padStart(10, '0')}`,
    }));
    await rt.db.transaction(async (tx) => {
      for (let at = 0; at < bidders.length; at += 1000) {
        const chunk = bidders.slice(at, at + 1000);
        await tx('bidders').insert(chunk.map((b) => ({ id: b.id, name: b.name, uscc: b.uscc, basic_bank_code: b.basic_bank_code, basic_account_number: b.basic_account_number, basic_account_name: b.name })));
        await tx('deposit_accounts').insert(chunk.map((b, i) => ({ virtual_account: b.virtual, bank_id: bank.id, section_id: section.id, bidder_id: b.id, serial: BigInt(at + i + 1) })));
      }
    });

    const messageId = `BATCH${randomBytes(6).toString('hex')}`;
    const bookedAt = new Date(Date.now() - 3600e3).toISOString();
    const credits: CreditEntry[] = bidders.map((b, i) => ({
      entryRef: `${messageId}-${i}`, virtualAccount: b.virtual, amountFen: 5_000_000n, currency: 'CNY', bookedAt, valueDate: bookedAt.slice(0, 10),
      debtor: { name: b.name, accountNumber: b.basic_account_number, bankCode: b.basic_bank_code }, remittance: '投标保证金',
    }));
    const body = Buffer.from(buildCamt054({ messageId, createdAt: new Date(), account: trustAccount, credits }), 'utf8');
    const headers = signMessage(body, { keyPem: bankCert.keyPem, fingerprint: bankCert.fingerprint });

    const started = performance.now();
    const res = await fetch(`${base}/v1/banks/${bank.id}/notifications`, { method: 'POST', headers: { 'Content-Type': 'application/xml', ...headers }, body });
    const receipt = (await res.json()) as Record<string, unknown>;
    const answeredSeconds = (performance.now() - started) / 1000;
    const cpuAtAnswer = process.cpuUsage();
    // BENCH_CPU_PROFILE=file.cpuprofile profiles the work after the answer (batches, jobs).
    const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined;
    if (res.status !== 202 && res.status !== 200) throw new Error(`notification: ${res.status} ${JSON.stringify(receipt)}`);
    // Polled on the notification's own row (a count over the deposits would load the database
    // it measures); once it is done, every deposit is counted.
    for (;;) {
      const row = await rt.db('bank_notifications').where({ bank_id: bank.id, message_id: messageId }).first('status');
      if (res.status === 200 || row?.status === 'done') break;
      if (performance.now() - started > validWaitSecondsMax * 1000) throw new Error(`notification not done after ${validWaitSecondsMax} s`);
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
    const validSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtAnswer);
    if (profile) writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(await profile()));
    const workCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const [{ valid }] = (await rt.db.raw(`SELECT count(*)::int AS valid FROM deposits d JOIN credits c ON c.id = d.credit_id WHERE c.bank_id = ? AND c.message_id = ? AND d.status = 'valid'`, [bank.id, messageId])).rows;
    if (valid !== creditCount) throw new Error(`${valid} of ${creditCount} deposits valid`);
    const outcome = await call('GET', `/v1/banks/${bank.id}/notifications/${messageId}?limit=1`);

    // The reference: the same rows, written set-based by psql in one transaction.
    const refSql = `BEGIN;
      CREATE TEMP TABLE ref_credits (id text primary key, bank_id text, entry_ref text, amount_fen bigint, booked_at timestamptz, debtor text, UNIQUE (bank_id, entry_ref));
      CREATE TEMP TABLE ref_deposits (id text primary key, credit_id text unique, status text, amount_fen bigint, checks jsonb);
      CREATE TEMP TABLE ref_journals (id text primary key, kind text, ref text, memo text, UNIQUE (kind, ref));
      CREATE TEMP TABLE ref_postings (id bigserial primary key, journal_id text, account text, amount_fen bigint);
      CREATE TEMP TABLE ref_audit (seq bigserial primary key, id text, data jsonb, prev_hash text, hash text);
      INSERT INTO ref_credits SELECT 'crd' || g, 'b', 'E' || g, 5000000, now(), 'payer' || g FROM generate_series(1, ${creditCount}) g;
      INSERT INTO ref_deposits SELECT 'dep' || g, 'crd' || g, 'valid', 5000000, '[{"rule":"R3","ok":true},{"rule":"R5","ok":true},{"rule":"R4","ok":true}]' FROM generate_series(1, ${creditCount}) g;
      INSERT INTO ref_journals SELECT 'jnl' || g, 'credit', 'b:E' || g, 'credit E' || g FROM generate_series(1, ${creditCount}) g;
      INSERT INTO ref_postings (journal_id, account, amount_fen) SELECT 'jnl' || g, a, s * 5000000 FROM generate_series(1, ${creditCount}) g, (VALUES ('trust', 1), ('deposit', -1)) v(a, s);
      INSERT INTO ref_audit (id, data, prev_hash, hash) SELECT 'evt' || g, '{"action":"deposit.valid"}', md5(g::text), md5((g + 1)::text) FROM generate_series(1, ${creditCount}) g;
      COMMIT;`;
    const refStarted = performance.now();
    execFileSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', refSql]);
    const refSeconds = (performance.now() - refStarted) / 1000;

    console.log(`camt.054 of ${creditCount} credits (${(body.length / 1e6).toFixed(1)} MB), one per bidder of one section:`);
    console.log(`  bidbond     answered ${res.status} in ${answeredSeconds.toFixed(2)} s (${JSON.stringify(receipt)})`);
    console.log(`              all ${valid} deposits valid ${validSeconds.toFixed(2)} s after sending; outcome ${outcome.status}, accepted ${outcome.accepted}; this process (api and worker) used ${workCpuSeconds.toFixed(2)} CPU s from the answer to the last deposit`);
    console.log(`  reference   ${refSeconds.toFixed(2)} s   psql writing the same rows set-based in one transaction`);
    reportRows([
      {
        workload: `camt.054 of ${creditCount} credits`,
        ours: `answered ${answeredSeconds.toFixed(2)} s, all valid ${validSeconds.toFixed(2)} s`,
        reference: `${refSeconds.toFixed(2)} s psql, same rows`,
        ratio: `${(validSeconds / refSeconds).toFixed(1)}× the floor`,
        goal: `answered ≤ ${answeredGoalSeconds} s, valid ≤ ${validGoalSeconds} s`,
        met: answeredSeconds <= answeredGoalSeconds && validSeconds <= validGoalSeconds,
      },
    ]);
  } finally {
    await worker.close();
    await api.close();
  }}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
