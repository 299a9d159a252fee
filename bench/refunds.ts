// Refunds after a termination (R16): every deposit of a section goes back at once. Measures,
// on a scratch database with the sandbox bank over real HTTP and one worker process, the time
// from the centre's termination request to the last refund settled: the refunds scheduled, claimed
// into payment messages (pain.001 with up to refundsPerMessageMax transactions each), sent, the
// messages polled (one pain.002 inquiry per message) and each refund settled in the ledger with
// its voucher requested. The deposits are set up through the product beforehand (service
// functions for bidders and deposit accounts, signed bank notifications for the credits); that
// part is not timed. There is no outside system doing the same job to measure beside it, so the
// reference is "—"; the figure to read is against the goal.
//
//   npx tsx bench/refunds.ts [refunds=10000]
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorker } from '../src/app/worker';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { parseCertificatePem } from '../src/pki/certs';
import { signMessage } from '../src/pki/messageSignature';
import { createBidder } from '../src/registry/service';
import { openDepositAccount } from '../src/deposits/service';
import { refundsPerMessageMax } from '../src/refunds/claim';
import { startSandboxBank } from '../src/sandbox-bank';
import { freePort } from '../src/db/embedded';
import { startBenchApi } from './api';
import { reportRows } from './table';
import { digits } from './support';

const refunds = Number(process.argv[2] ?? 10_000);
const goalSeconds = 60;
const goalRefunds = 10_000;
/** Bidders (and their deposit accounts) created per transaction during set-up. */
const setupBatch = 500;
/** Credits per signed notification during set-up. */
const creditsPerNotification = 200;
const trustBankCode = '102100099996';
/** The bidders bank elsewhere: the sandbox pays them through the clearing system. */
const payerBankCode = '103100000026';
const depositYuan = '1000.00';
const centreCaller = { keyId: 'bench', role: 'centre' as const };

const uscc = () => {
  let b = '91110000';
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const api = await startBenchApi({
    logLevel: process.env.LOG_LEVEL ?? 'silent',
    // Status inquiries every second instead of every 5 s at first: the sandbox settles in 0.2 s.
    env: { BIDBOND_REFUND_POLL_DELAY_MS: '1000', BIDBOND_REFUND_POLL_DELAY_MAX_MS: '2000' },
  });
  const { rt, dataDir, base, call, pki } = api;
  const url = api.databaseUrl;
  const worker = await buildWorker(rt, api.config.REDIS_URL!);
  let sandbox: Awaited<ReturnType<typeof startSandboxBank>> | undefined;
  try {
    const certPem = readFileSync(pki.sandboxCert, 'utf8');
    const bankSigner = { keyPem: readFileSync(pki.sandboxKey, 'utf8'), fingerprint: parseCertificatePem(certPem).info.fingerprint };
    const port = await freePort();
    const trustNumber = `110${digits(12)}`;
    const vaPrefix = digits(9);
    const bank = await call('POST', '/v1/banks', {
      name: '沙箱银行', bankCode: trustBankCode, adapter: 'sandbox', endpoint: `http://127.0.0.1:${port}`, certificatePem: certPem,
      trustAccount: { number: trustNumber, name: '保证金专户' }, virtualAccountPrefix: vaPrefix,
    });
    sandbox = await startSandboxBank({
      port, host: '127.0.0.1', databaseUrl: url, schema: 'sandbox_bench', dataDir: path.join(dataDir, 'sandbox'),
      signingKeyPath: pki.sandboxKey, signingCertPath: pki.sandboxCert, protocol: 'iso20022',
      trustAccount: { number: trustNumber, name: '保证金专户', bankCode: trustBankCode }, virtualPrefix: vaPrefix,
      notifyUrl: `${base}/v1/banks/${bank.id}/notifications`,
    });
    const tenderee = await call('POST', '/v1/tenderees', { name: '某市水务局', uscc: uscc() });
    const section = await call('POST', '/v1/sections', {
      projectCode: `P${digits(6)}`, sectionCode: 'S1', name: '供水管网改造', tendereeId: tenderee.id, regime: 'tendering_law',
      estimatedPrice: '100000000.00', depositAmount: depositYuan, currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash'],
    });

    // ---- set-up, not timed: N bidders pay their deposits -------------------------------------
    const setupStarted = Date.now();
    const payers: { name: string; account: string; virtual: string }[] = [];
    for (let i = 0; i < refunds; i += setupBatch) {
      await rt.db.transaction(async (tx) => {
        for (let k = i; k < Math.min(refunds, i + setupBatch); k++) {
          const name = `水利建设${k}有限公司`;
          const account = `62${digits(16)}`;
          const bidder = await createBidder(tx, centreCaller, { name, uscc: uscc(), basicAccount: { bankCode: payerBankCode, number: account, name } });
          const da = await openDepositAccount(tx, centreCaller, section.id, bidder.id);
          payers.push({ name, account, virtual: da.account.virtual_account });
        }
      });
    }
    if (payers.some((p) => !p.virtual)) throw new Error('a deposit account without a virtual account number');
    // The payers bank elsewhere, so their money reaches the trust account through the clearing
    // system; the sandbox holds it as the trust account's balance, which the refunds draw on.
    const funder = `62${digits(16)}`;
    const totalYuan = (Number(depositYuan) * refunds * 2).toFixed(2);
    await call('POST', '/sandbox/accounts', { number: funder, name: '资金归集户', bankCode: trustBankCode, balance: totalYuan }, sandbox.url);
    await call('POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: totalYuan, remittance: 'bench funding' }, sandbox.url);
    const today = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < payers.length; i += creditsPerNotification) {
      const body = Buffer.from(JSON.stringify({
        eventId: `bench-${i}-${randomBytes(4).toString('hex')}`,
        entries: payers.slice(i, i + creditsPerNotification).map((p, k) => ({
          entryRef: `BENCH${i + k}${randomBytes(4).toString('hex')}`, virtualAccount: p.virtual, amount: depositYuan, currency: 'CNY', bookedAt: new Date().toISOString(),
          valueDate: today, debtor: { name: p.name, accountNumber: p.account, bankCode: payerBankCode }, remittance: '投标保证金',
        })),
      }));
      const res = await fetch(`${base}/v1/banks/${bank.id}/notifications`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...signMessage(body, bankSigner) }, body });
      if (res.status >= 300) throw new Error(`notification: ${res.status} ${await res.text()}`);
    }
    for (;;) {
      const [{ n }] = await rt.db('deposits').where({ section_id: section.id, status: 'valid' }).count({ n: '*' });
      if (Number(n) >= refunds) break;
      if (Date.now() - setupStarted > 30 * 60_000) throw new Error(`only ${n} of ${refunds} deposits valid`);
      await sleep(500);
    }
    // The deposits' receipts are rendered by the same worker: let that finish first, so the
    // timed part measures refunds, not the set-up's backlog.
    for (;;) {
      const [{ n }] = await rt.db('vouchers').where({ status: 'pending' }).count({ n: '*' });
      if (Number(n) === 0) break;
      if (Date.now() - setupStarted > 30 * 60_000) throw new Error(`${n} receipts still pending`);
      await sleep(1000);
    }
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    console.log(`set-up: ${refunds} deposits of ¥${depositYuan} valid in ${setupSeconds.toFixed(1)} s (not timed)`);

    // ---- timed: termination → every refund settled at the bank -------------------------------
    const started = Date.now();
    const terminated = await call('POST', `/v1/sections/${section.id}/termination`, { reason: '项目取消' });
    const scheduledSeconds = (Date.now() - started) / 1000;
    // The worker runs in this process: the clock stops at the settlement the database recorded
    // last, not when this loop (which shares the event loop with the worker) gets to look.
    let settled = 0;
    for (;;) {
      const [{ n }] = await rt.db('refunds').where({ section_id: section.id, status: 'settled' }).count({ n: '*' });
      settled = Number(n);
      if (settled >= refunds) break;
      if (Date.now() - started > 15 * 60_000) break;
      await sleep(250);
    }
    const [{ first, last }] = await rt.db('refunds').where({ section_id: section.id, status: 'settled' }).min({ first: 'settled_at' }).max({ last: 'settled_at' });
    const firstSettledSeconds = first ? (new Date(first).getTime() - started) / 1000 : undefined;
    const seconds = settled >= refunds ? (new Date(last).getTime() - started) / 1000 : (Date.now() - started) / 1000;
    const messages = await rt.db('refund_attempts as a').join('refunds as r', 'r.id', 'a.refund_id').where('r.section_id', section.id).countDistinct({ n: 'a.message_id' });
    const [{ n: attempts }] = await rt.db('refund_attempts as a').join('refunds as r', 'r.id', 'a.refund_id').where('r.section_id', section.id).count({ n: '*' });
    const bankPaid = await rt.db.raw(`SELECT count(*)::int AS n FROM sandbox_bench.payment_instructions WHERE status = 'settled'`);
    console.log(`refunds: ${terminated.refundIds?.length ?? '?'} scheduled by the termination in ${scheduledSeconds.toFixed(1)} s; first settled at ${firstSettledSeconds?.toFixed(1) ?? '—'} s`);
    console.log(`  bidbond     ${settled} of ${refunds} settled in ${seconds.toFixed(1)} s (${(settled / seconds).toFixed(0)}/s), ${messages[0].n} payment messages of ≤ ${refundsPerMessageMax}, ${attempts} attempts, ${bankPaid.rows[0].n} paid by the bank`);
    // Each message's life, from the termination: claimed (its row committed), answered by the
    // bank, finished (every refund in it final).
    const timeline = await rt.db('refund_messages').orderBy('created_at').select('id', 'transfers', 'created_at', 'sent_at', 'finished_at', 'polls');
    const at = (d: Date | null) => (d ? `${((d.getTime() - started) / 1000).toFixed(1)} s` : '—');
    for (const m of timeline) console.log(`  message     ${m.transfers} refunds: claimed ${at(m.created_at)}, answered ${at(m.sent_at)}, finished ${at(m.finished_at)}, ${m.polls} polls`);
    const [{ n: vouchersPending }] = await rt.db('vouchers').where({ status: 'pending' }).count({ n: '*' });
    console.log(`  vouchers    ${vouchersPending} refund vouchers still to render when the last refund settled (rendered after, by the same worker)`);
    console.log(`  load        ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min) on ${os.cpus().length} cores`);
    reportRows([
      {
        workload: 'refunds, contract to all settled',
        ours: `${settled} in ${seconds.toFixed(1)} s`,
        reference: '—',
        ratio: '—',
        goal: '10,000 in ≤ 60 s, one worker',
        met: settled >= refunds && refunds >= goalRefunds && seconds <= goalSeconds,
      },
    ]);
  } finally {
    await worker.close();
    await sandbox?.close();
    await api.close();
  }}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
