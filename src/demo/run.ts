// The demo's core: one section from setup to reconciliation against a running api, worker and
// sandbox bank, over HTTP. `bidbond demo`, `bidbond start --demo` and the test all come here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { ensureDevPki } from '../pki/devPki';
import { timingWith, type Timing } from '../timing';
import type { Runtime } from '../runtime';
import { demoBiddersDefault, demoSeedDefault, planCast } from './cast';
import { listAll } from './http';
import { checkInvariants } from './invariants';
import { awardAndContract, closeOneAccount, demoFaults, reconcileToday, refundDetails, returnSuspenseCredit, switchFaults, verifyGuarantees, waitForRefund, waitForRefunds } from './lifecycle';
import { createDemoPeople, writeSignIns } from './people';
import { createProgress } from './progress';
import { buildSummary, renderSummary, type DemoSummary } from './report';
import { createSection, deadlineLeadFor, listPagesMax, openBids, passDeadline, registerBidders, secureBids, setUpCentre, type DemoEnv, type World } from './scenario';
import { collectVouchers } from './vouchers';

/** The worker's refund timing while the demo runs: the production defaults wait minutes
 *  between polls and retries (a real bank's pace); the sandbox answers in milliseconds. */
export const demoTiming: Timing = timingWith({
  refunds: { bankTimeoutMs: 3_000, pollDelayMs: 200, pollDelayMaxMs: 1_000, noRecordGraceMs: 3_000, sendingStaleMs: 10_000, retryDelayMs: 300, retryAfterNoRecordMs: 3_000 },
});

export interface DemoOptions {
  bidders?: number;
  seed?: number;
  /** Default: ./demo-output/<timestamp>. */
  outDir?: string;
}

export interface DemoTarget {
  apiUrl: string;
  sandboxUrl: string;
  /** The sandbox bank as registered deposit bank. */
  bankId: string;
  db: Knex;
  /** The development PKI directory whose root the service trusts (issuer certificates). */
  pkiDir: string;
  out: Writable & { isTTY?: boolean };
  tty?: boolean;
  /** Where people sign in (BIDBOND_PUBLIC_URL/console/); default the api's own address. */
  consoleUrl?: string;
}

/** The console under the service's address, a path prefix of a public URL kept. */
export const consoleUrlOf = (base: string) => `${base.replace(/\/+$/, '')}/console/`;

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');

export async function runDemo(target: DemoTarget, opts: DemoOptions = {}): Promise<DemoSummary> {
  const startedAt = Date.now();
  const bidders = opts.bidders ?? demoBiddersDefault;
  const seed = opts.seed ?? demoSeedDefault;
  const outDir = path.resolve(opts.outDir ?? path.join('demo-output', stamp(new Date())));
  const voucherDir = path.join(outDir, 'vouchers');
  mkdirSync(voucherDir, { recursive: true });
  const progress = createProgress(target.out, { tty: target.tty });
  const pki = ensureDevPki(target.pkiDir);
  const env: DemoEnv = {
    apiUrl: target.apiUrl,
    sandboxUrl: target.sandboxUrl,
    bankId: target.bankId,
    db: target.db,
    ca: { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') },
    progress,
    runTag: Date.now().toString(36).toUpperCase(),
  };
  const cast = planCast(bidders, seed);
  progress.line(`bidbond demo: one section with ${bidders} bidders, through the API (${target.apiUrl}) and the sandbox bank (${target.sandboxUrl}); seed ${seed}`);

  progress.line('1. The centre sets up');
  const centre = await setUpCentre(env);
  const registerStarted = Date.now();
  const registered = await registerBidders(env, centre, cast);
  const section = await createSection(env, centre, deadlineLeadFor(Date.now() - registerStarted));
  const w: World = { ...centre, section, bidders: registered };

  let faultsOn = false;
  try {
    // From here every refund the bank pays, returns of bad payments included, meets faults.
    await switchFaults(w, seed, true);
    faultsOn = true;
    progress.line(`2. Bidders secure their bids (sandbox bank faults on for refunds: ${Object.entries(demoFaults).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    await secureBids(env, w);
    await passDeadline(env, w);

    progress.line('3. Opening, award and contract');
    const roster = await openBids(env, w);
    writeFileSync(path.join(outDir, 'roster.json'), JSON.stringify(roster, null, 2));
    await verifyGuarantees(env, w);
    await closeOneAccount(env, w);
    await awardAndContract(env, w, roster);
    const suspenseRefundId = await returnSuspenseCredit(env, w);

    progress.line('4. Refunds');
    // Every deposit of the section owes exactly one refund (R4 excess, R15 returns, R11).
    const deposits = await listAll(w.centre, `/v1/deposits?sectionId=${w.section.id}`, listPagesMax);
    const listed = await waitForRefunds(env, w, deposits.length);
    if (suspenseRefundId) await waitForRefund(w, suspenseRefundId);
    const refunds = await refundDetails(w, [...listed, ...(suspenseRefundId ? [{ id: suspenseRefundId }] : [])]);
    await switchFaults(w, seed, false);
    faultsOn = false;

    progress.line('5. Reconciliation, audit and vouchers');
    const reconciliation = await reconcileToday(env, w);
    const auditVerify = await w.auditor.get('/v1/audit/verify');
    progress.line(`  audit chain: ${auditVerify.ok ? 'verifies' : 'BROKEN'} (${auditVerify.eventsChecked} events)`);
    const wanted = {
      subjects: new Set<string>([
        roster.id,
        ...deposits.filter((d) => d.validAt).map((d) => d.id as string),
        ...refunds.filter((r) => r.status === 'settled').map((r) => r.id as string),
      ]),
      ids: new Set<string>([...w.bidders.flatMap((b) => (b.guarantee?.verificationVoucherId ? [b.guarantee.verificationVoucherId] : [])), ...(reconciliation.summary.voucherId ? [reconciliation.summary.voucherId] : [])]),
    };
    const vouchers = await collectVouchers(env.apiUrl, w.auditor, w.auditCursor, wanted, voucherDir, progress);

    const checks = await checkInvariants(w, { deposits, refunds, roster, reconciliation: reconciliation.summary, auditVerify, vouchers });
    const consoleUrl = target.consoleUrl ?? consoleUrlOf(target.apiUrl);
    const signIns = await createDemoPeople(env.db, w, roster, env.runTag);
    const signInsFile = path.join(outDir, 'sign-ins.txt');
    writeSignIns(signInsFile, consoleUrl, signIns);
    const summary = buildSummary({ w, roster, refunds, reconciliation, vouchers, voucherDir, checks, startedAt, faults: { seed, ...demoFaults } });
    summary.console = { url: consoleUrl, signIns: signIns.map(({ role, who, login }) => ({ role, who, login })), file: signInsFile };
    writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
    target.out.write(renderSummary(summary, signIns));
    progress.line(`Roster: ${path.join(outDir, 'roster.json')}; summary: ${path.join(outDir, 'summary.json')}`);
    return summary;
  } finally {
    // The bank is left as the demo found it: no faults for whoever uses it next.
    if (faultsOn) await switchFaults(w, seed, false).catch(() => {});
  }
}

/** Runs the demo in a process that already serves the api, worker and sandbox bank (`bidbond
 *  start --demo`, `bidbond demo`): the worker's timing is shortened for the demo and put back
 *  after, and the service's request log is quieted so the demo's lines can be read. */
export async function runDemoAgainst(args: { rt: Runtime; apiUrl: string; sandbox: { url: string; bankId: string } | undefined; out?: DemoTarget['out'] } & DemoOptions): Promise<DemoSummary> {
  if (!args.sandbox) throw new Error('the demo needs the sandbox bank: start without --no-sandbox');
  if (!args.apiUrl) throw new Error('the demo needs the api');
  const savedTiming = args.rt.timing;
  const savedLevel = args.rt.log.level;
  args.rt.timing = demoTiming;
  if (args.rt.log.levelVal < args.rt.log.levels.values.warn) args.rt.log.level = 'warn';
  try {
    return await runDemo(
      {
        apiUrl: args.apiUrl, sandboxUrl: args.sandbox.url, bankId: args.sandbox.bankId, db: args.rt.db, pkiDir: path.join(args.rt.config.dataDir, 'pki'), out: args.out ?? process.stdout,
        consoleUrl: consoleUrlOf(args.rt.config.BIDBOND_PUBLIC_URL ?? args.apiUrl),
      },
      args,
    );
  } finally {
    args.rt.timing = savedTiming;
    args.rt.log.level = savedLevel;
  }
}
