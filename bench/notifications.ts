// Credit notifications at a bid deadline: many bidders pay in the last minutes, and each credit
// must be recorded once, judged (R3/R4/R5), posted to the ledger and audited before the bank is
// answered. Measures signed JSON notifications through the real HTTP stack against a scratch
// database, and beside it, in the same run, pgbench on the same server running the bare SQL a
// credit needs, statement for statement what the service sends for one (the bank, the replay
// lock and record, the credit, the sub-account's lock, the bidder's standing deposits, the
// deposit, the journal with its postings and account, the audit chain's lock, last hash and
// rows, in one transaction): the floor any implementation on this database pays. Then a second
// pass sends notifications at a steady half of the rate the first reached, open loop, for the
// latency a bank sees when the service is busy but not saturated. Both come after a
// warm-up of `warmupNotifications`, not counted.
//
//   npx tsx bench/notifications.ts [notifications=2000] [concurrency=8]
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { startBenchApi } from './api';
import { reportRows } from './table';
import { digits, cnaps, floorShareGoal, halfRateShare, p99GoalMs, pct, pgbenchPaced, startProfile, watchCollections } from './support';
import { load, type RequestBatch } from './load';

const notifications = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 8);
const bidderCount = 200;
/** Notifications sent before the measured passes, to a process just started. */
const warmupNotifications = 1000;

const uscc = () => {
  let b = '91110000';
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};
/** Length of the paced pass, in notifications (at most): enough for a stable p99. */
const pacedNotificationsMax = 1500;
const pacedInFlightMax = 32;

async function main(): Promise<void> {
  const api = await startBenchApi();
  const { rt, base, call } = api;
  const url = api.databaseUrl;
  try {
    const { bank, cert: bankCert } = await api.createBank();
    const tenderee = await call('POST', '/v1/tenderees', { name: '招标人', uscc: uscc() });
    const section = await call('POST', '/v1/sections', {
      projectCode: `P${digits(6)}`, sectionCode: 'S1', name: 'bench section', tendereeId: tenderee.id, regime: 'tendering_law',
      estimatedPrice: '100000000.00', depositAmount: '500000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'bank'],
    });
    const bidders: { account: string; name: string; virtual: string }[] = [];
    for (let i = 0; i < bidderCount; i++) {
      const name = `建工集团${i}有限公司`;
      const account = `62${digits(17)}`;
      const b = await call('POST', '/v1/bidders', { name, uscc: uscc(), basicAccount: { bankCode: cnaps('102'), number: account, name } });
      const va = await call('POST', `/v1/sections/${section.id}/deposit-accounts`, { bidderId: b.id });
      bidders.push({ account, name, virtual: va.accountNumber ?? va.number ?? va.virtualAccount });
    }

    // Each bidder pays its deposit in many small credits, so every notification is a new credit.
    let serial = 0;
    // Signed by the sender's process before the clock starts: the bank's signing is not ours.
    const signer = { keyPem: bankCert.keyPem, fingerprint: bankCert.fingerprint };
    const notificationBatch = (n: number): RequestBatch => ({
      bodies: () =>
        Array.from({ length: n }, () => {
          const i = serial++;
          const b = bidders[i % bidderCount];
          return Buffer.from(JSON.stringify({
            eventId: `evt-${i}-${randomBytes(4).toString('hex')}`,
            entries: [{ entryRef: `BENCH${i}${randomBytes(4).toString('hex')}`, virtualAccount: b.virtual, amount: '100.00', currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: new Date().toISOString().slice(0, 10), debtor: { name: b.name, accountNumber: b.account, bankCode: cnaps('102') }, remittance: 'bid deposit' }],
          }));
        }),
      signer,
    });
    const endpoint = `${base}/v1/banks/${bank.id}/notifications`;
    const answered = { status: 200, field: { name: 'object', value: 'notification_receipt' } };

    // Not counted: a fresh process's first calls compile the code they run and prepare each
    // pooled connection's statements; a service in a deadline rush has been up for hours.
    const warmup = await load(endpoint, notificationBatch(warmupNotifications), { concurrency }, answered);
    console.log(`  warm-up     ${warmupNotifications} notifications at ${(warmupNotifications / warmup.seconds).toFixed(0)}/s in the fresh process, not counted`);

    // Pass 1, closed loop: as many as the service takes at this concurrency.
    // BENCH_CPU_PROFILE=file.cpuprofile profiles this pass alone (set-up, signing, pgbench left out).
    const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined;
    let statements = 0;
    const countStatement = () => statements++;
    rt.db.on('query', countStatement);
    const cpuBefore = process.cpuUsage();
    const { latencies, seconds } = await load(endpoint, notificationBatch(notifications), { concurrency }, answered);
    const cpu = process.cpuUsage(cpuBefore);
    rt.db.off('query', countStatement);
    if (profile) writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(await profile()));
    const cpuMsPerCredit = (cpu.user + cpu.system) / 1000 / notifications;
    const credits = (await rt.db('credits').count({ n: '*' }))[0].n;
    const rate = notifications / seconds;
    console.log(`credit notifications: ${notifications} signed JSON notifications, concurrency ${concurrency}, ${bidderCount} bidders`);
    console.log(`  bidbond     ${rate.toFixed(0)} credits/s   p50 ${pct(latencies, 50).toFixed(1)} ms   p95 ${pct(latencies, 95).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   (${credits} credits recorded with the warm-up's; ${(statements / notifications).toFixed(1)} statements and ${cpuMsPerCredit.toFixed(2)} ms of the service's CPU per credit)`);

    // The reference: the same database server, the bare SQL of one credit, same concurrency.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'bb-pgbench-'));
    const setup = `CREATE TABLE IF NOT EXISTS ref_banks (id text primary key, data jsonb);
      CREATE TABLE IF NOT EXISTS ref_webhook (sender text, event text, body jsonb, primary key (sender, event));
      CREATE TABLE IF NOT EXISTS ref_credits (id bigserial primary key, ref text unique, account int, amount bigint, booked_at timestamptz);
      CREATE TABLE IF NOT EXISTS ref_accounts (id int primary key, section text, bidder text);
      CREATE TABLE IF NOT EXISTS ref_deposits (id bigserial primary key, credit_id bigint, account int, status text, checks jsonb);
      CREATE INDEX IF NOT EXISTS ref_deposits_account ON ref_deposits (account);
      CREATE TABLE IF NOT EXISTS ref_ledger_accounts (code text primary key);
      CREATE TABLE IF NOT EXISTS ref_journals (id bigserial primary key, ref text unique);
      CREATE TABLE IF NOT EXISTS ref_postings (id bigserial primary key, journal_id bigint, account text, amount bigint);
      CREATE TABLE IF NOT EXISTS ref_audit (seq bigserial primary key, data jsonb, prev text, hash text);
      INSERT INTO ref_banks VALUES ('b', '{}') ON CONFLICT DO NOTHING;
      INSERT INTO ref_ledger_accounts VALUES ('trust') ON CONFLICT DO NOTHING;
      INSERT INTO ref_accounts SELECT g, 's', 'b' || g FROM generate_series(1, ${bidderCount}) g ON CONFLICT DO NOTHING;`;
    execFileSync('psql', [url, '-q', '-c', setup]);
    const script = path.join(scratch, 'credit.sql');
    writeFileSync(script, `\\set acct random(1, ${bidderCount})
\\set event random(1, 1000000000)
BEGIN;
SELECT * FROM ref_banks WHERE id = 'b';
SELECT pg_advisory_xact_lock(hashtext('bank b'), hashtext(:event::text));
SELECT * FROM ref_webhook WHERE sender = 'b' AND event = :event::text;
INSERT INTO ref_credits (ref, account, amount, booked_at) VALUES (md5(random()::text), :acct, 10000, now()) ON CONFLICT DO NOTHING RETURNING id;
SELECT * FROM ref_accounts WHERE id = :acct FOR UPDATE;
SELECT * FROM ref_deposits WHERE account = :acct AND status IN ('valid', 'received');
INSERT INTO ref_deposits (credit_id, account, status, checks) VALUES (currval('ref_credits_id_seq'), :acct, 'received', '[{"rule":"R3","ok": true}]');
WITH j AS (INSERT INTO ref_journals (ref) VALUES (md5(random()::text)) RETURNING id), a AS (INSERT INTO ref_ledger_accounts VALUES ('d' || currval('ref_credits_id_seq')) ON CONFLICT DO NOTHING) INSERT INTO ref_postings (journal_id, account, amount) SELECT j.id, p.account, p.amount FROM j, (VALUES ('trust', 10000), ('d', -10000)) p(account, amount);
INSERT INTO ref_webhook (sender, event, body) VALUES ('b', :event::text, '{"accepted": 1}') ON CONFLICT DO NOTHING;
SELECT pg_advisory_xact_lock(7243001);
SELECT hash FROM ref_audit ORDER BY seq DESC LIMIT 1;
INSERT INTO ref_audit (data, prev, hash) VALUES ('{"a": 1}', 'x', md5(random()::text)), ('{"a": 2}', 'x', md5(random()::text));
COMMIT;
`);
    // The floor in pgbench's default protocol (each statement parsed and planned), and, for the
    // record, with its statements prepared as the service prepares its own.
    const pgbench = (protocol: 'simple' | 'prepared', seconds: number) =>
      Number(/tps = ([\d.]+)/.exec(execFileSync('pgbench', ['-n', '-M', protocol, '-c', String(concurrency), '-j', '2', '-T', String(seconds), '-f', script, url], { encoding: 'utf8' }))?.[1] ?? 'NaN');
    const tps = pgbench('simple', 10);
    const tpsPrepared = pgbench('prepared', 5);

    // Pass 2 at half the rate pass 1 reached: each notification is due on its own schedule,
    // whether or not the ones before it were answered, and its latency counts from when it was
    // due (a notification kept waiting for a free connection waited for the service). At most
    // `pacedInFlightMax` are in flight, as a bank's connection pool would allow.
    const pacedRate = halfRateShare * rate;
    const pacedCount = Math.min(pacedNotificationsMax, Math.round(pacedRate * 10));
    const collections = watchCollections();
    const { latencies: pacedLatencies, seconds: pacedSeconds } = await load(endpoint, notificationBatch(pacedCount), { ratePerSecond: pacedRate, inFlightMax: pacedInFlightMax }, answered);
    const pacedCollections = collections();
    // The database's own latency at that rate: the same script on the same schedule, for as long.
    const floorPaced = pgbenchPaced(script, url, { concurrency, ratePerSecond: pacedRate, seconds: Math.max(1, Math.round(pacedSeconds)) });

    const share = rate / tps;
    const pacedP99 = pct(pacedLatencies, 99);
    console.log(`  reference   ${tps.toFixed(0)} tx/s       pgbench, the bare SQL of one credit in one transaction, same server and concurrency (${tpsPrepared.toFixed(0)} tx/s with -M prepared: ${(100 * rate / tpsPrepared).toFixed(0)}% of that)`);
    console.log(`  ratio       bidbond reaches ${(100 * share).toFixed(0)}% of the database floor`);
    console.log(`  paced       ${pacedCount} notifications at ${pacedRate.toFixed(0)}/s (half the rate reached) over ${pacedSeconds.toFixed(1)} s: p50 ${pct(pacedLatencies, 50).toFixed(1)} ms   p99 ${pacedP99.toFixed(1)} ms`);
    console.log(`  paced GC    the service's collections during that pass: ${pacedCollections}`);
    console.log(`  paced ref.  pgbench at ${pacedRate.toFixed(0)}/s, concurrency ${concurrency}, the same script: p50 ${floorPaced.p50.toFixed(1)} ms   p99 ${floorPaced.p99.toFixed(1)} ms (counted from when each was due)`);
    reportRows([
      {
        workload: `single-credit notifications, conc ${concurrency}`,
        ours: `${rate.toFixed(0)} credits/s; p99 ${pacedP99.toFixed(1)} ms at ${pacedRate.toFixed(0)}/s`,
        reference: `${tps.toFixed(0)} tx/s pgbench; p99 ${floorPaced.p99.toFixed(1)} ms at ${pacedRate.toFixed(0)}/s`,
        ratio: `${(100 * share).toFixed(0)}% of floor`,
        goal: `≥ ${100 * floorShareGoal}% of floor, p99 ≤ ${p99GoalMs} ms at half rate`,
        met: share >= floorShareGoal && pacedP99 <= p99GoalMs,
      },
    ]);
  } finally {
    await api.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
