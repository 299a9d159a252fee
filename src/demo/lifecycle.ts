// After the opening: the tenderee verifies the guarantees (验真), one bidder closes its account,
// the centre awards and records the contract, the worker pays every refund through the sandbox
// bank (with faults on), and the centre reconciles the day against the bank's statement.
import { businessDate, addCalendarDays, compareDates } from '../domain/time';
import { httpConcurrency, listAll, mapLimit, waitFor } from './http';
import type { DemoEnv, World } from './scenario';
import { listPagesMax, pollIntervalMs } from './scenario';

/** Faults the sandbox bank injects into the refund traffic: modest, so that every refund still
 *  settles well within the executor's attempt limit (5): P(five rejections) = 0.1^5. */
export const demoFaults = { rejectRate: 0.1, timeoutRate: 0.05, lostStatusRate: 0.15, http500Rate: 0.05 };
/** How long the refunds may take to reach a final state with the demo's executor timing. */
export const refundsWaitMs = 150_000;
export const refundsPollMs = 1_000;
/** Days of missed statements the demo reconciles before today's (the daily job does this when
 *  the service runs; a data directory last used long ago is reconciled from today only). */
export const reconcileCatchUpDaysMax = 31;
/** The evaluation report three days before the award notice: R14 allows up to 20. */
export const evaluationToAwardDays = 3;
const dayMs = 86_400_000;

export async function verifyGuarantees(env: DemoEnv, w: World): Promise<void> {
  const withGuarantee = w.bidders.filter((b) => b.guarantee);
  const step = env.progress.step('verifying guarantees (验真, tenderee)', withGuarantee.length);
  await mapLimit(
    withGuarantee,
    httpConcurrency,
    async (b) => {
      const g = b.guarantee!;
      const v = await w.tenderee.get(`/v1/guarantees/verify?issuerId=${g.issuerId}&number=${encodeURIComponent(g.number)}&documentSha256=${g.documentSha256}`);
      g.verificationVoucherId = v.voucherId ?? undefined;
      g.status = v.status;
    },
    step.tick,
  );
  step.done('each with a signed verification report');
}

/** R17 on purpose: a secured bidder closes its basic account before its refund. */
export async function closeOneAccount(env: DemoEnv, w: World): Promise<void> {
  const b = w.bidders.find((x) => x.behaviour === 'closed_account')!;
  await w.sandbox.post(`/sandbox/accounts/${b.basic.number}/close`);
  env.progress.line(`  ${b.name} closed its basic account after the opening: its refund cannot be paid there (R17)`);
}

/** R15: the credit a bidder sent to a mistyped sub-account is found in suspense, and the centre
 *  decides to return it to where it came from (R17: the source account, the decision on record). */
export async function returnSuspenseCredit(env: DemoEnv, w: World): Promise<string | undefined> {
  if (!w.suspenseVirtualAccount) return undefined;
  const held = (await listAll(w.centre, '/v1/deposits?status=suspense', listPagesMax)).find((d) => d.virtualAccount === w.suspenseVirtualAccount);
  if (!held) throw new Error(`no suspense credit for ${w.suspenseVirtualAccount}`);
  const refund = await w.centre.post(`/v1/deposits/${held.id}/return`, { decision: '付款人确认汇错子账号，原路退回 (the payer confirmed a mistyped sub-account; returned to its source)' });
  env.progress.line(`  ¥${held.amount} held in suspense (sub-account ${w.suspenseVirtualAccount} unknown) returned to its source by the centre's decision (R15, R17)`);
  return refund.id as string;
}

/** Waits for one refund to reach settled or manual handling. */
export async function waitForRefund(w: World, refundId: string): Promise<void> {
  await waitFor(`refund ${refundId} to finish`, async () => ['settled', 'manual'].includes((await w.centre.get(`/v1/refunds/${refundId}`)).status), refundsWaitMs, refundsPollMs);
}

export async function awardAndContract(env: DemoEnv, w: World, roster: any): Promise<string> {
  const winner = w.bidders.find((b) => b.behaviour === 'cash' && roster.entries.some((e: any) => e.bidderId === b.id && e.status === 'secured'));
  if (!winner) throw new Error('no secured cash bidder to award');
  const now = new Date();
  await w.centre.post(`/v1/sections/${w.section.id}/award`, {
    winnerBidderId: winner.id,
    evaluationReportAt: new Date(now.getTime() - evaluationToAwardDays * dayMs).toISOString(),
    noticeAt: now.toISOString(),
  });
  env.progress.line(`  awarded to ${winner.name}: notice ${evaluationToAwardDays} days after the evaluation report (R14: within 20)`);
  const contract = await w.centre.post(`/v1/sections/${w.section.id}/contract`, { signedAt: new Date().toISOString() });
  env.progress.line(`  contract signed: ${contract.refundIds.length} deposits to refund (R11), ${contract.releasedGuaranteeIds.length} guarantees released`);
  return winner.id;
}

export async function switchFaults(w: World, seed: number, on: boolean): Promise<void> {
  await w.sandbox.post('/sandbox/faults', on ? { seed, ...demoFaults } : {});
}

/** Every refund of the section settled or in manual handling; none still moving. */
export async function waitForRefunds(env: DemoEnv, w: World, expected: number): Promise<any[]> {
  const step = env.progress.step('refunds through the sandbox bank', expected);
  let shown = 0;
  const rows = await waitFor(
    'every refund to settle or go to manual handling',
    async () => {
      const all = await listAll(w.centre, `/v1/refunds?sectionId=${w.section.id}`, listPagesMax);
      const final = all.filter((r) => r.status === 'settled' || r.status === 'manual').length;
      for (; shown < Math.min(final, expected); shown++) step.tick();
      return all.length >= expected && final === all.length && all;
    },
    refundsWaitMs,
    refundsPollMs,
  );
  step.done(`${rows.filter((r) => r.status === 'settled').length} settled, ${rows.filter((r) => r.status === 'manual').length} in manual handling`);
  return rows;
}

/** Details (attempts, bank statuses) of every refund. */
export async function refundDetails(w: World, rows: any[]): Promise<any[]> {
  return mapLimit(rows, httpConcurrency, (r) => w.centre.get(`/v1/refunds/${r.id}`));
}

/** Today's statement pulled through the bank adapter and matched against the ledger, after
 *  any days since the last reconciliation (so statement sequence numbers run without gaps). */
export async function reconcileToday(env: DemoEnv, w: World): Promise<{ summary: any; report: any; caughtUp: string[] }> {
  const today = businessDate(new Date());
  const done = await listAll(w.centre, `/v1/reconciliations?bankId=${env.bankId}`, listPagesMax);
  const last = done.map((r) => r.statementDate as string).filter((d) => compareDates(d, today) < 0).sort().pop();
  const caughtUp: string[] = [];
  if (last) {
    for (let d = addCalendarDays(last, 1); compareDates(d, today) < 0 && caughtUp.length < reconcileCatchUpDaysMax; d = addCalendarDays(d, 1)) {
      await w.centre.post('/v1/reconciliations', { bankId: env.bankId, date: d });
      caughtUp.push(d);
    }
  }
  if (caughtUp.length) env.progress.line(`  reconciled ${caughtUp.length} earlier day(s) not yet reconciled (${caughtUp[0]} … ${caughtUp[caughtUp.length - 1]})`);
  const res = await w.centre.request('POST', '/v1/reconciliations', { body: { bankId: env.bankId, date: today } });
  const summary = res.body;
  const report = await w.centre.get(`/v1/reconciliations/${summary.id}`);
  env.progress.line(
    `  reconciliation of ${today}: ${summary.result}; ${summary.entries} statement entries, ${summary.matched.count} matched, ${summary.exceptionCount} exceptions; bank ¥${summary.balances.closingBank}, ledger ¥${summary.balances.closingLedger}`,
  );
  return { summary, report, caughtUp };
}
