// The opening (开标) of a big section: the centre fixes the roster of N bidders in one request,
// and the signed roster PDF follows from the vouchers queue. Builds a scratch database and a
// section through the public API over HTTP (bidders, virtual sub-accounts, signed bank
// notifications, signed guarantee issuances, withdrawals), with a mix that gives every verdict
// the roster knows: cash secured (once, topped up, with an excess), guarantees secured, short at
// the deadline (R4), paid from another account (R5), late (R3), held on a date-only booking
// (R3), withdrawn (R9), a rejected guarantee, an account and nothing else. Then it times the
// opening's answer, and a worker (vouchers only) until the roster voucher is signed.
//
// The bid deadline is moved into the past in the database once every on-time security is in
// (as the API tests do): waiting for a real deadline would make the set-up's length part of the
// workload. There is no outside reference for an opening: the reference column is "—".
//
//   npx tsx bench/opening.ts [bidders=5000]
import { randomBytes, randomInt } from 'node:crypto';
import { buildWorker } from '../src/app/worker';
import { buildCamt054 } from '../src/banks/iso20022/camt054';
import { addCalendarDays, businessDate, toBusinessDate } from '../src/domain/time';
import { usccCharset, usccCheckChar } from '../src/domain/uscc';
import { signMessage } from '../src/pki/messageSignature';
import { vouchers } from '../src/vouchers';
import { startBenchApi } from './api';
import { reportRows } from './table';
import { digits, cnaps } from './support';

const bidderCount = Number(process.argv[2] ?? 5000);
/** Requests in flight while setting up: enough to keep the api busy on a small machine. */
const setupConcurrency = 8;
/** Credits per bank notification while setting up: small enough to be acted on within the
 *  request (a larger notification is worked through by the deposits queue). */
const creditsPerNotification = 50;
/** How long the roster voucher may take before the bench gives up on it. */
const voucherWaitMsMax = 600_000;
const goalDataSeconds = 1;
const goalPdfSeconds = 5;

/** The mix, in percent of bidders, and what the roster must say of each. */
const kinds = [
  { kind: 'cash', pct: 45, status: 'secured' },
  { kind: 'toppedUp', pct: 5, status: 'secured' },
  { kind: 'excess', pct: 5, status: 'secured' },
  { kind: 'guarantee', pct: 15, status: 'secured' },
  { kind: 'short', pct: 5, status: 'invalid' },
  { kind: 'otherAccount', pct: 5, status: 'invalid' },
  { kind: 'late', pct: 5, status: 'invalid' },
  { kind: 'held', pct: 5, status: 'insufficient' },
  { kind: 'rejectedGuarantee', pct: 4, status: 'invalid' },
  { kind: 'withdrawn', pct: 3, status: 'missing' },
  { kind: 'accountOnly', pct: 3, status: 'missing' },
] as const;
type Kind = (typeof kinds)[number]['kind'];
const kindOf = (i: number): Kind => {
  let at = i % 100;
  for (const k of kinds) {
    if (at < k.pct) return k.kind;
    at -= k.pct;
  }
  throw new Error('assertion: the mix sums to 100');
};

const uscc = () => {
  let b = '91110000';
  while (b.length < 17) b += usccCharset[randomInt(31)];
  return b + usccCheckChar(b);
};
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function inPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
const chunks = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

interface Bidder {
  i: number;
  kind: Kind;
  id: string;
  uscc: string;
  name: string;
  account: string;
  virtual: string;
}

async function main(): Promise<void> {
  const api = await startBenchApi({ logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const { rt, base, call } = api;
  let worker: Awaited<ReturnType<typeof buildWorker>> | undefined;
  try {
    const send = async (method: string, p: string, body: string | undefined, headers: Record<string, string>) => {
      const res = await fetch(base + p, { method, headers, body });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
      return json as Record<string, any>;
    };
    const signed = (p: string, raw: Buffer, signer: { keyPem: string; fingerprint: string }, contentType = 'application/json') =>
      send('POST', p, raw.toString('utf8'), { 'Content-Type': contentType, ...signMessage(raw, signer) });

    const setupStarted = process.hrtime.bigint();
    const { bank, cert: bankCert, trustAccount } = await api.createBank();
    const issuerCert = api.issue('bench guarantor');
    const issuer = await call('POST', '/v1/issuers', { name: '某融资担保有限公司', kind: 'guarantor', certificatePem: issuerCert.certPem });
    const tenderee = { name: '某市住建局', uscc: uscc() };
    const tendereeId = (await call('POST', '/v1/tenderees', tenderee)).id as string;
    const section = await call('POST', '/v1/sections', {
      projectCode: `P${digits(8)}`, sectionCode: 'S1', name: '某道路改造工程一标段', tendereeId, regime: 'tendering_law',
      estimatedPrice: '100000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 7 * 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'guarantor'],
    });

    const bidders: Bidder[] = [];
    await inPool(Array.from({ length: bidderCount }, (_, i) => i), setupConcurrency, async (i) => {
      const name = `建工集团${i}有限公司`;
      const account = `62${digits(17)}`;
      const code = uscc();
      const b = await call('POST', '/v1/bidders', { name, uscc: code, basicAccount: { bankCode: cnaps('102'), number: account, name } });
      const va = await call('POST', `/v1/sections/${section.id}/deposit-accounts`, { bidderId: b.id });
      bidders.push({ i, kind: kindOf(i), id: b.id, uscc: code, name, account, virtual: va.virtualAccount });
    });
    bidders.sort((a, b) => a.i - b.i);
    const of = (...ks: Kind[]) => bidders.filter((b) => ks.includes(b.kind));

    let entrySeq = 0;
    const entry = (b: Bidder, amount: string, from = { name: b.name, accountNumber: b.account }) => ({
      entryRef: `E${(entrySeq++).toString().padStart(8, '0')}${randomBytes(3).toString('hex')}`, virtualAccount: b.virtual, amount, currency: 'CNY',
      bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()), debtor: { ...from, bankCode: cnaps('102') }, remittance: '投标保证金',
    });
    const notify = async (entries: ReturnType<typeof entry>[]) => {
      await inPool(chunks(entries, creditsPerNotification), 4, async (batch) => {
        const body = Buffer.from(JSON.stringify({ eventId: `evt-${randomBytes(8).toString('hex')}`, entries: batch }));
        const answer = await signed(`/v1/banks/${bank.id}/notifications`, body, bankCert);
        if (answer.accepted !== batch.length) throw new Error(`notification: ${JSON.stringify(answer).slice(0, 300)}`);
      });
    };
    // Before the deadline: cash, top-ups in two credits, excess, short, another payer's account.
    await notify([
      ...of('cash', 'withdrawn').map((b) => entry(b, '50000.00')),
      ...of('toppedUp').map((b) => entry(b, '30000.00')),
      ...of('excess').map((b) => entry(b, '80000.00')),
      ...of('short').map((b) => entry(b, '30000.00')),
      ...of('otherAccount').map((b) => entry(b, '50000.00', { name: '另一家公司', accountNumber: `62${digits(17)}` })),
    ]);
    await notify(of('toppedUp').map((b) => entry(b, '20000.00')));
    await inPool(of('withdrawn'), setupConcurrency, async (b) => {
      await call('POST', `/v1/sections/${section.id}/withdrawals`, { bidderId: b.id });
    });
    const deadlineDate = toBusinessDate(section.bidDeadline);
    await inPool(of('guarantee', 'rejectedGuarantee'), setupConcurrency, async (b) => {
      const body = {
        eventId: `evt-${randomBytes(8).toString('hex')}`, number: `GG${b.i}-${randomBytes(3).toString('hex')}`, kind: 'guarantor',
        applicant: { uscc: b.uscc, name: b.name }, beneficiary: tenderee, projectCode: section.projectCode, sectionCode: section.sectionCode,
        amount: b.kind === 'guarantee' ? '50000.00' : '30000.00', currency: 'CNY',
        validFrom: toBusinessDate(new Date()), validTo: addCalendarDays(deadlineDate, section.bidValidityDays + 30),
        issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: randomBytes(32).toString('hex'),
      };
      const issued = await signed(`/v1/issuers/${issuer.id}/guarantees`, Buffer.from(JSON.stringify(body)), issuerCert);
      if (issued.status !== (b.kind === 'guarantee' ? 'issued' : 'rejected')) throw new Error(`guarantee of ${b.kind}: ${issued.status}`);
    });

    // The deadline passes (earlier today in Beijing, so a date-only booking today cannot be
    // placed before or after it); late credits and date-only ones arrive after it.
    const startOfToday = new Date(`${businessDate(new Date())}T00:00:00+08:00`).getTime();
    const deadline = new Date(Math.max(startOfToday + 1, Date.now() - 30_000));
    await rt.db('sections').where({ id: section.id }).update({ bid_deadline: deadline });
    await notify(of('late').map((b) => entry(b, '50000.00')));
    const bookedOn = businessDate(deadline);
    await inPool(chunks(of('held'), creditsPerNotification), 4, async (batch) => {
      const credits = batch.map((b) => ({
        entryRef: `D${(entrySeq++).toString().padStart(8, '0')}${randomBytes(3).toString('hex')}`, virtualAccount: b.virtual, amountFen: 5_000_000n, currency: 'CNY',
        bookedAt: new Date(`${bookedOn}T00:00:00+08:00`).toISOString(), bookingDateOnly: true, valueDate: bookedOn,
        debtor: { name: b.name, accountNumber: b.account, bankCode: cnaps('102') }, remittance: '投标保证金',
      }));
      const xml = Buffer.from(buildCamt054({ messageId: `M${digits(14)}`, createdAt: new Date(), account: trustAccount, credits }));
      const answer = await signed(`/v1/banks/${bank.id}/notifications`, xml, bankCert, 'application/xml');
      if (answer.accepted !== batch.length) throw new Error(`date-only notification: ${JSON.stringify(answer).slice(0, 300)}`);
    });
    const setupSeconds = seconds(setupStarted);

    // Every job the set-up queued (receipts of valid deposits) is on record in PostgreSQL; the
    // roster's voucher is timed alone, so the set-up's backlog is taken off the queue.
    const undispatched = async () => Number((await rt.db('outbox').whereNull('dispatched_at').count({ n: '*' }))[0].n);
    while ((await undispatched()) > 0) await new Promise((r) => setTimeout(r, 200));
    await rt.queues.vouchers.drain(true);
    await rt.db.raw('ANALYZE');

    const t0 = process.hrtime.bigint();
    const roster = await call('POST', `/v1/sections/${section.id}/opening`);
    const dataSeconds = seconds(t0);
    const at = await rt.db('vouchers').where({ id: roster.voucherId }).first();
    if (!at || at.status !== 'pending') throw new Error(`the roster voucher ${roster.voucherId} should be pending when the opening answers, is ${at?.status}`);

    // The roster says of each bidder what its kind must give.
    const byId = new Map<string, { status: string }>(roster.entries.map((e: { bidderId: string; status: string }) => [e.bidderId, e]));
    if (roster.entries.length !== bidderCount) throw new Error(`roster of ${roster.entries.length} bidders, expected ${bidderCount}`);
    const tally: Record<string, Record<string, number>> = {};
    for (const b of bidders) {
      const got = byId.get(b.id)?.status ?? 'absent';
      const want = kinds.find((k) => k.kind === b.kind)!.status;
      if (got !== want) throw new Error(`bidder ${b.id} (${b.kind}) is ${got} on the roster, expected ${want}`);
      (tally[b.kind] ??= {})[got] = (tally[b.kind]?.[got] ?? 0) + 1;
    }

    const t1 = process.hrtime.bigint();
    worker = await buildWorker(rt, api.config.REDIS_URL!, [{ ...vouchers, sweepers: [] }]);
    let pdfSeconds = NaN;
    for (;;) {
      const v = await rt.db('vouchers').where({ id: roster.voucherId }).first();
      if (v.status === 'signed') {
        pdfSeconds = seconds(t1);
        console.log(`  roster voucher: ${(v.pdf as Buffer).length} bytes signed`);
        break;
      }
      if (v.status === 'failed') throw new Error(`the roster voucher failed: ${v.error}`);
      if (seconds(t1) * 1000 > voucherWaitMsMax) break;
      await new Promise((r) => setTimeout(r, 20));
    }

    // The moves after the opening on the same section, for the record: the award (no refunds
    // under the tendering law) and the contract (every valid deposit refunded, R11; every
    // guarantee released).
    await worker.close();
    worker = undefined;
    const winner = roster.entries.find((e: { status: string; security: string }) => e.status === 'secured' && e.security === 'cash');
    const t2 = process.hrtime.bigint();
    await call('POST', `/v1/sections/${section.id}/award`, { winnerBidderId: winner.bidderId, evaluationReportAt: new Date(Date.now() - 86400e3).toISOString(), noticeAt: new Date().toISOString() });
    const awardSeconds = seconds(t2);
    const t3 = process.hrtime.bigint();
    const contract = await call('POST', `/v1/sections/${section.id}/contract`, { signedAt: new Date().toISOString() });
    const contractSeconds = seconds(t3);

    console.log(`opening of a section with ${bidderCount} bidders (set-up through the API: ${setupSeconds.toFixed(0)} s)`);
    for (const [kind, counts] of Object.entries(tally)) console.log(`  ${kind.padEnd(18)} ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`);
    console.log(`  POST /v1/sections/:id/opening answered in ${dataSeconds.toFixed(3)} s (roster of ${roster.entries.length}, voucher ${roster.voucherId} pending)`);
    console.log(`  roster voucher signed by a worker ${Number.isNaN(pdfSeconds) ? `not within ${voucherWaitMsMax / 1000} s` : `in ${pdfSeconds.toFixed(3)} s`} after it started`);
    console.log(`  then the award in ${awardSeconds.toFixed(3)} s, and the contract in ${contractSeconds.toFixed(3)} s (${contract.refundIds.length} refunds scheduled, ${contract.releasedGuaranteeIds.length} guarantees released)`);
    reportRows([{
      workload: `opening roster of ${bidderCount} bidders`,
      ours: `data ${dataSeconds.toFixed(2)} s, signed PDF ${Number.isNaN(pdfSeconds) ? '—' : pdfSeconds.toFixed(2)} s`,
      reference: '—',
      ratio: '—',
      goal: `data ≤ ${goalDataSeconds} s, signed PDF ≤ ${goalPdfSeconds} s (a job)`,
      met: dataSeconds <= goalDataSeconds && pdfSeconds <= goalPdfSeconds,
    }]);
  } finally {
    await worker?.close();
    await api.close();
  }
}

main().catch((e) => {
  console.error(e);
  // A failure before the runtime exists leaves connections that would keep the process up.
  process.exit(1);
});
