// Signed guarantee issuance before a bid deadline: issuers send each guarantee they sign as a
// webhook, and each must be checked against every rule (R2, R3, R4, R6, R7, R8), recorded once
// with its checks, its event id and its audit event, before the issuer is answered. Measures
// signed issuances through the real HTTP stack against a scratch database and, in the same run
// on the same server at the same concurrency, pgbench running the bare SQL one issuance needs:
// the floor any implementation on this database pays. A second pass sends at half the rate the
// first reached, on a fixed schedule, to measure the latency an issuer sees when the service is
// busy but not saturated. Both come after a warm-up of `warmupIssuances`, not counted.
//
//   npx tsx bench/issuance.ts [issuances=2000] [concurrency=8]
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addCalendarDays, toBusinessDate } from '../src/domain/time';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { startBenchApi } from './api';
import { reportRows } from './table';
import { digits, cnaps, floorShareGoal, halfRateShare, p99GoalMs, pct, pgbenchPaced, startProfile, watchCollections } from './support';
import { load, type RequestBatch } from './load';

const issuances = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 8);
if (!(issuances > 0) || !(concurrency > 0)) throw new Error('usage: issuance.ts [issuances>0] [concurrency>0]');
/** Each guarantee secures another (section, bidder) pair, so every one is `issued` (R7). */
const bidderCount = 200;
/** Issuances sent before the measured passes, to a process just started. */
const warmupIssuances = 1000;
/** Requests the rate-limited pass lets be in flight at once before it stops keeping to schedule. */
const halfRateInFlightMax = 64;
/** pgbench runs this long just before the first pass and again just after it: the floor is their
 *  mean, so that a machine whose load changes during the run moves both figures alike. */
const pgbenchSeconds = 5;

const uscc = () => {
  let b = '91110000';
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};


async function main(): Promise<void> {
  const api = await startBenchApi();
  const { rt, base, call } = api;
  const url = api.databaseUrl;
  try {
    // The world: one bank issuer, a tenderee, bidders banking with the issuer's bank (R6), and
    // enough sections that both passes issue every guarantee to a new (section, bidder) pair.
    const issuerCert = api.issue('bench issuer');
    const issuerBankCode = cnaps('102');
    const issuer = await call('POST', '/v1/issuers', { name: '某银行', kind: 'bank', bankCode: issuerBankCode, certificatePem: issuerCert.certPem });
    const tendereeUscc = uscc();
    const tenderee = await call('POST', '/v1/tenderees', { name: '某市住建局', uscc: tendereeUscc });
    const bidders: { uscc: string; name: string }[] = [];
    for (let i = 0; i < bidderCount; i++) {
      const name = `建工集团${i}有限公司`;
      const b = { uscc: uscc(), name };
      await call('POST', '/v1/bidders', { name, uscc: b.uscc, basicAccount: { bankCode: cnaps('102'), number: `62${digits(17)}`, name } });
      bidders.push(b);
    }
    const pairsNeeded = issuances * 2 + warmupIssuances;
    const deadline = new Date(Date.now() + 10 * 86400e3);
    const validityDays = 90;
    const sections: { projectCode: string; sectionCode: string }[] = [];
    for (let i = 0; i * bidderCount < pairsNeeded; i++) {
      const s = await call('POST', '/v1/sections', {
        projectCode: `P${digits(6)}`, sectionCode: `S${i}`, name: `bench section ${i}`, tendereeId: tenderee.id, regime: 'tendering_law',
        estimatedPrice: '100000000.00', depositAmount: '500000.00', currency: 'CNY', bidDeadline: deadline.toISOString(),
        bidValidityDays: validityDays, acceptedSecurity: ['bank', 'insurance', 'guarantor'], guaranteeBankMatch: 'bank',
      });
      sections.push({ projectCode: s.projectCode, sectionCode: s.sectionCode });
    }
    const validTo = addCalendarDays(toBusinessDate(deadline), validityDays + 30);
    const body = (i: number) => {
      const s = sections[Math.floor(i / bidderCount)];
      const b = bidders[i % bidderCount];
      return Buffer.from(JSON.stringify({
        eventId: `evt-${i}-${randomBytes(4).toString('hex')}`, number: `BG${i}-${randomBytes(4).toString('hex')}`, kind: 'bank',
        applicant: b, beneficiary: { uscc: tendereeUscc, name: '某市住建局' }, projectCode: s.projectCode, sectionCode: s.sectionCode,
        amount: '500000.00', currency: 'CNY', validFrom: toBusinessDate(new Date()), validTo, issuingBankCode: issuerBankCode,
        issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: randomBytes(32).toString('hex'),
      }));
    };
    // Signed by the sender's process before the clock starts: the issuer's signing is not ours.
    const signer = { keyPem: issuerCert.keyPem, fingerprint: issuerCert.fingerprint };
    const batch = (from: number, n: number): RequestBatch => ({ bodies: () => Array.from({ length: n }, (_, k) => body(from + k)), signer });
    const endpoint = `${base}/v1/issuers/${issuer.id}/guarantees`;
    const answeredIssued = { status: 201, field: { name: 'status', value: 'issued' } };

    // The reference: the same server, the bare SQL of one issuance, same concurrency. Read the
    // sender's certificate; record the event id once; read the section, its tenderee, the bidder
    // and the issuer; insert the guarantee under its two unique keys (number per issuer, one
    // live per bidder and section); the audit chain's lock and one audit row; in one transaction.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'bb-pgbench-'));
    execFileSync('psql', [url, '-q', '-c', `
      CREATE TABLE ref_webhook_events (sender text, event_id text, request_hash text, response_status int, response_body jsonb, PRIMARY KEY (sender, event_id));
      CREATE TABLE ref_guarantees (id text primary key, issuer_id text, number text, section_id text, bidder_id text, status text, amount_fen bigint, valid_from date, valid_to date, issued_at timestamptz, checks jsonb, document_sha256 text, created_at timestamptz default now(), UNIQUE (issuer_id, number));
      CREATE UNIQUE INDEX ref_guarantees_one_live ON ref_guarantees (section_id, bidder_id) WHERE status <> 'rejected';
      CREATE TABLE ref_audit (seq bigserial primary key, id text unique, data jsonb, prev text, hash text unique);`]);
    const sample = sections[0];
    const bidderSample = bidders[0];
    const script = path.join(scratch, 'issuance.sql');
    writeFileSync(script, `BEGIN;
SELECT pem, owner_type, owner_id, retired_at, not_before, not_after FROM certificates WHERE fingerprint = '${issuerCert.fingerprint}';
INSERT INTO ref_webhook_events (sender, event_id, request_hash, response_status, response_body) VALUES ('${issuer.id}', md5(random()::text), md5(random()::text), 201, '{"status":"issued"}') ON CONFLICT DO NOTHING;
SELECT s.*, t.uscc, b.id, b.basic_bank_code, i.kind, i.bank_code FROM sections s JOIN tenderees t ON t.id = s.tenderee_id, bidders b, issuers i WHERE s.project_code = '${sample.projectCode}' AND s.section_code = '${sample.sectionCode}' AND b.uscc = '${bidderSample.uscc}' AND i.id = '${issuer.id}';
INSERT INTO ref_guarantees (id, issuer_id, number, section_id, bidder_id, status, amount_fen, valid_from, valid_to, issued_at, checks, document_sha256) VALUES (md5(random()::text), '${issuer.id}', md5(random()::text), md5(random()::text), '${bidderSample.uscc}', 'issued', 50000000, current_date, current_date + 120, now(), '[{"rule":"R2","ok": true,"detail":"valid from the deadline"},{"rule":"R3","ok": true},{"rule":"R4","ok": true},{"rule":"R6","ok": true},{"rule":"R7","ok": true},{"rule":"R8","ok": true}]', md5(random()::text)) ON CONFLICT DO NOTHING RETURNING id;
SELECT pg_advisory_xact_lock(7243001);
INSERT INTO ref_audit (id, data, prev, hash) VALUES (md5(random()::text), '{"number":"BG1","failed":[]}', 'x', md5(random()::text));
COMMIT;
`);
    // pgbench's default protocol parses and plans each statement; `prepared` is for the record.
    const pgbench = (protocol: 'simple' | 'prepared' = 'simple') => {
      const out = execFileSync('pgbench', ['-n', '-M', protocol, '-c', String(concurrency), '-j', '2', '-T', String(pgbenchSeconds), '-f', script, url], { encoding: 'utf8' });
      return Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 'NaN');
    };

    // Not counted: a fresh process's first calls compile the code they run and prepare each
    // pooled connection's statements; a service in a deadline rush has been up for hours.
    const warmup = await load(endpoint, batch(issuances * 2, warmupIssuances), { concurrency }, answeredIssued);
    console.log(`  warm-up     ${warmupIssuances} issuances at ${(warmupIssuances / warmup.seconds).toFixed(0)}/s in the fresh process, not counted`);
    const tpsBefore = pgbench();

    // Statements sent to PostgreSQL, counted over the first pass (BEGIN and COMMIT included).
    let statements = 0;
    const countStatement = () => statements++;
    rt.db.on('query', countStatement);

    // Pass 1: as fast as `concurrency` issuers can go. BENCH_CPU_PROFILE=file.cpuprofile profiles
    // this pass alone (the world's setup, signing and pgbench left out).
    const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined;
    const cpuBefore = process.cpuUsage();
    const { latencies, seconds } = await load(endpoint, batch(0, issuances), { concurrency }, answeredIssued);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsPerIssuance = (cpu.user + cpu.system) / 1000 / issuances;
    rt.db.off('query', countStatement);
    if (profile) writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(await profile()));
    const rate = issuances / seconds;
    const tpsAfter = pgbench();
    const tps = (tpsBefore + tpsAfter) / 2;
    const tpsPrepared = pgbench('prepared');

    // Pass 2: the same number of new issuances, sent on a fixed schedule at half that rate.
    const halfRate = rate * halfRateShare;
    const collections = watchCollections();
    const { latencies: halfLatencies, seconds: halfSeconds, behindSchedule } = await load(endpoint, batch(issuances, issuances), { ratePerSecond: halfRate, inFlightMax: halfRateInFlightMax }, answeredIssued);
    const halfCollections = collections();
    // The database's own latency at that rate: the same script on the same schedule, for as long.
    const floorHalf = pgbenchPaced(script, url, { concurrency, ratePerSecond: halfRate, seconds: Math.max(1, Math.round(halfSeconds)) });
    const issued = Number((await rt.db('guarantees').where({ status: 'issued' }).count({ n: '*' }))[0].n);
    if (issued !== issuances * 2 + warmupIssuances) throw new Error(`expected ${issuances * 2 + warmupIssuances} issued guarantees, found ${issued}`);

    const share = rate / tps;
    const halfP99 = pct(halfLatencies, 99);
    console.log(`signed guarantee issuance: ${issuances} signed issuance webhooks, concurrency ${concurrency}, ${bidderCount} bidders, ${sections.length} sections`);
    console.log(`  bidbond     ${rate.toFixed(0)} issuances/s   p50 ${pct(latencies, 50).toFixed(1)} ms   p95 ${pct(latencies, 95).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   ${(statements / issuances).toFixed(1)} statements and ${cpuMsPerIssuance.toFixed(2)} ms of the service's CPU per issuance`);
    console.log(`  half rate   ${(issuances / halfSeconds).toFixed(0)} issuances/s scheduled at ${halfRate.toFixed(0)}/s   p50 ${pct(halfLatencies, 50).toFixed(1)} ms   p99 ${halfP99.toFixed(1)} ms${behindSchedule ? `   (${behindSchedule} sent late)` : ''}`);
    console.log(`  half GC     the service's collections during that pass: ${halfCollections}`);
    console.log(`  half ref.   pgbench at ${halfRate.toFixed(0)}/s, concurrency ${concurrency}, the same script: p50 ${floorHalf.p50.toFixed(1)} ms   p99 ${floorHalf.p99.toFixed(1)} ms (counted from when each was due)`);
    console.log(`  reference   ${tps.toFixed(0)} tx/s   pgbench, the bare SQL of one issuance in one transaction, same server and concurrency (${tpsBefore.toFixed(0)} just before, ${tpsAfter.toFixed(0)} just after; ${tpsPrepared.toFixed(0)} tx/s with -M prepared: ${(100 * rate / tpsPrepared).toFixed(0)}% of that)`);
    console.log(`  ratio       bidbond reaches ${(100 * share).toFixed(0)}% of the database floor`);
    reportRows([
      {
        workload: `signed guarantee issuance, conc ${concurrency}`,
        ours: `${rate.toFixed(0)}/s p50 ${pct(latencies, 50).toFixed(0)} ms p99 ${pct(latencies, 99).toFixed(0)} ms; half rate p99 ${halfP99.toFixed(0)} ms`,
        reference: `pgbench ${tps.toFixed(0)} tx/s; p99 ${floorHalf.p99.toFixed(1)} ms at ${halfRate.toFixed(0)}/s`,
        ratio: `${(100 * share).toFixed(0)}% of floor`,
        goal: `≥ ${100 * floorShareGoal}% of floor, p99 ≤ ${p99GoalMs} ms at half rate`,
        met: share >= floorShareGoal && halfP99 <= p99GoalMs,
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
