// Credit notifications at a bid deadline: many bidders pay in the last minutes, and each credit
// must be recorded once, judged (R3/R4/R5), posted to the ledger and audited before the bank is
// answered. Measures signed JSON notifications through the real HTTP stack against a scratch
// database, and beside it, in the same run, pgbench on the same server running the bare SQL a
// credit needs (insert the credit, insert the deposit, post a two-line journal, append an audit
// row, in one transaction): the floor any implementation on this database pays.
//
//   npx tsx bench/notifications.ts [notifications=2000] [concurrency=8]
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { createApiKey } from '../src/http/auth';
import { buildApi } from '../src/app/api';
import { createRuntime } from '../src/app/runtime';
import { migrateLatest } from '../src/db/migrate';
import { createDb } from '../src/db/knex';
import { iso7064Mod1110CheckDigit } from '../src/domain/bankCode';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { issueCertificate } from '../src/pki/certs';
import { ensureDevPki } from '../src/pki/devPki';
import { signMessage } from '../src/pki/messageSignature';
import { createLogger } from '../src/runtime';

const notifications = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 8);
const bidderCount = 200;
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
const uscc = () => {
  let b = '91110000';
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};
const cnaps = (cat: string) => {
  const s = `${cat}1000${digits(4)}`;
  return s + iso7064Mod1110CheckDigit(s);
};
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const dbName = `bidbond_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bb-bench-'));
  const config = loadConfig({ ...process.env, DATABASE_URL: url.toString(), REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', BIDBOND_DATA_DIR: dataDir, BIDBOND_QUEUE_PREFIX: `bench${Date.now()}`, LOG_LEVEL: 'silent', BIDBOND_RATE_LIMIT_PER_MINUTE: '1000000' });
  const migrateDb = createDb(url.toString());
  await migrateLatest(migrateDb);
  await migrateDb.destroy();
  const rt = await createRuntime(config, { databaseUrl: url.toString(), redisUrl: config.REDIS_URL! }, { log: createLogger(config) });
  const server = buildApi(rt).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { key } = await createApiKey(rt.db, { role: 'centre' });
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(base + p, { method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return json as Record<string, any>;
    };
    const pki = ensureDevPki(path.join(dataDir, 'pki'));
    const bankCert = issueCertificate({ commonName: 'bench bank', ca: { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') } });
    const bank = await call('POST', '/v1/banks', {
      name: 'bench bank', bankCode: cnaps('104'), adapter: 'iso20022', endpoint: 'http://127.0.0.1:9/', certificatePem: bankCert.certPem,
      trustAccount: { number: `9${digits(18)}`, name: '保证金专户' }, virtualAccountPrefix: digits(8),
    });
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
    const bodies = Array.from({ length: notifications }, (_, i) => {
      const b = bidders[i % bidderCount];
      return Buffer.from(JSON.stringify({
        eventId: `evt-${i}-${randomBytes(4).toString('hex')}`,
        entries: [{ entryRef: `BENCH${i}${randomBytes(4).toString('hex')}`, virtualAccount: b.virtual, amount: '100.00', currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: new Date().toISOString().slice(0, 10), debtor: { name: b.name, accountNumber: b.account, bankCode: cnaps('102') }, remittance: 'bid deposit' }],
      }));
    });
    // Signed before the clock starts (within the ±300 s window): the bank's signing is not ours.
    const signed = bodies.map((body) => ({ body, headers: signMessage(body, { keyPem: bankCert.keyPem, fingerprint: bankCert.fingerprint }) }));
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < signed.length) {
          const { body, headers } = signed[next++];
          const t0 = process.hrtime.bigint();
          const res = await fetch(`${base}/v1/banks/${bank.id}/notifications`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
          if (res.status !== 200) throw new Error(`notification: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const credits = (await rt.db('credits').count({ n: '*' }))[0].n;

    // The reference: the same database server, the bare SQL of one credit, same concurrency.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'bb-pgbench-'));
    const setup = `CREATE TABLE IF NOT EXISTS ref_credits (id bigserial primary key, ref text unique, account text, amount bigint, booked_at timestamptz);
      CREATE TABLE IF NOT EXISTS ref_deposits (id bigserial primary key, credit_id bigint, status text, checks jsonb);
      CREATE TABLE IF NOT EXISTS ref_postings (id bigserial primary key, journal text, account text, amount bigint);
      CREATE TABLE IF NOT EXISTS ref_audit (seq bigserial primary key, data jsonb, prev text, hash text);`;
    execFileSync('psql', [url.toString(), '-q', '-c', setup]);
    const script = path.join(scratch, 'credit.sql');
    writeFileSync(script, `BEGIN;
INSERT INTO ref_credits (ref, account, amount, booked_at) VALUES (md5(random()::text), '9558800012345678901', 10000, now());
INSERT INTO ref_deposits (credit_id, status, checks) VALUES (currval('ref_credits_id_seq'), 'valid', '[{"rule":"R3","ok":true}]');
INSERT INTO ref_postings (journal, account, amount) VALUES ('j', 'trust', 10000), ('j', 'deposit', -10000);
SELECT pg_advisory_xact_lock(7243001);
INSERT INTO ref_audit (data, prev, hash) VALUES ('{"a":1}', 'x', md5(random()::text));
COMMIT;
`);
    const out = execFileSync('pgbench', ['-n', '-c', String(concurrency), '-j', '2', '-T', '10', '-f', script, url.toString()], { encoding: 'utf8' });
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 'NaN');

    const rate = notifications / seconds;
    console.log(`credit notifications: ${notifications} signed JSON notifications, concurrency ${concurrency}, ${bidderCount} bidders`);
    console.log(`  bidbond     ${rate.toFixed(0)} credits/s   p50 ${pct(latencies, 50).toFixed(1)} ms   p95 ${pct(latencies, 95).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   (${credits} credits recorded)`);
    console.log(`  reference   ${tps.toFixed(0)} tx/s       pgbench, the bare SQL of one credit in one transaction, same server and concurrency`);
    console.log(`  ratio       bidbond reaches ${((100 * rate) / tps).toFixed(0)}% of the database floor`);
  } finally {
    server.close();
    await rt.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
