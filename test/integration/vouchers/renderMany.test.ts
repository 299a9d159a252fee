// Vouchers requested together (a bank file's receipts, a contract's refund vouchers) are handed
// to the queue a run at a time: one `renderMany` job per `voucherRenderJobVouchersMax`, each
// voucher rendered as its own job would render it.
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Runtime } from '../../../src/runtime';
import { requestVouchers, type VoucherRequest } from '../../../src/vouchers/requests';
import { voucherJobHandlers } from '../../../src/vouchers/jobs';
import { voucherRenderJobVouchersMax } from '../../../src/vouchers/repo';
import { voucherRenderAttemptsMax } from '../../../src/vouchers/service';
import { startTestRuntime } from '../../support/runtime';

let rt: Runtime;

beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

const receipt = (subjectId: string): VoucherRequest => ({
  kind: 'deposit_receipt',
  subjectType: 'deposit',
  subjectId,
  data: { depositId: subjectId, bidder: { name: '测试公司' }, amountFen: 5000000n, bookedAt: '2026-11-20T10:00:00+08:00', valueDate: '2026-11-20', virtualAccount: '955880000000001', payer: { name: '测试公司', number: '6222020200001234567' }, bankEntryRef: 'R', status: 'valid', failedRules: [] },
});

// A refund voucher whose frozen total is not principal + interest + late fee: the renderer refuses it.
const unrenderable = (subjectId: string): VoucherRequest => ({
  kind: 'refund_voucher',
  subjectType: 'refund',
  subjectId,
  data: { refundId: subjectId, depositId: 'dep_bad', bidder: { name: '浙江某某建设有限公司' }, reason: 'not_awarded', rules: ['R9'], payee: { name: '浙江某某建设有限公司', number: '6222020200001234567' }, principalFen: 5000000n, interestFen: 1234n, lateFeeFen: 0n, totalFen: 5000000n, interest: { valueDateFrom: '2026-11-20', valueDateTo: '2026-11-27', days: 7, annualRatePercent: '0.35' }, dueBy: '2026-12-04' },
});

/** Requests the vouchers in one transaction and takes their jobs out of the outbox, so that only
 *  this test runs them (the relays of files running beside it share the database). */
async function requestTogether(reqs: VoucherRequest[]): Promise<{ ids: string[]; jobs: { job_id: string; payload: { voucherIds: string } }[] }> {
  return rt.db.transaction(async (tx) => {
    const ids = await requestVouchers(tx, reqs);
    const jobs = await tx('outbox').where({ queue: 'vouchers', job_name: 'renderMany' }).whereIn('job_id', ids.map((id) => `renderMany.${id}`)).orderBy('seq');
    await tx('outbox').whereIn('seq', jobs.map((j: { seq: bigint }) => j.seq.toString())).update({ dispatched_at: tx.fn.now() });
    return { ids, jobs };
  });
}

const runJob = (payload: { voucherIds: string }) => voucherJobHandlers.vouchers!.renderMany(rt, { id: 'test', data: payload } as unknown as Job);

describe('vouchers requested together', () => {
  it('are rendered by one job per run, in the order requested, each signed once', async () => {
    const n = voucherRenderJobVouchersMax * 2 + 7;
    const { ids, jobs } = await requestTogether(Array.from({ length: n }, () => receipt(`dep_many${randomUUID().replace(/-/g, '')}`)));
    expect(jobs.map((j) => j.payload.voucherIds.split(',').length)).toEqual([voucherRenderJobVouchersMax, voucherRenderJobVouchersMax, 7]);
    expect(jobs.flatMap((j) => j.payload.voucherIds.split(','))).toEqual(ids);
    expect(jobs.map((j) => j.job_id)).toEqual(jobs.map((j) => `renderMany.${j.payload.voucherIds.split(',')[0]}`));
    for (const j of jobs) await runJob(j.payload);
    const rows = await rt.db('vouchers').whereIn('id', ids).select('status', 'render_attempts');
    expect(rows.every((r) => r.status === 'signed' && r.render_attempts === 1)).toBe(true);
    // A job run again (BullMQ may deliver it twice) renders nothing twice.
    await runJob(jobs[0].payload);
    expect(await rt.db('audit_events').whereIn('entity_id', ids).where({ action: 'voucher.signed' })).toHaveLength(n);
  });

  it('render the others when one cannot be, retry the job for it, and mark it failed alone', async () => {
    const bad = `rfd_bad${randomUUID().replace(/-/g, '')}`;
    const { ids, jobs } = await requestTogether([receipt(`dep_ok${randomUUID().replace(/-/g, '')}`), unrenderable(bad), receipt(`dep_ok${randomUUID().replace(/-/g, '')}`)]);
    expect(jobs).toHaveLength(1);
    await expect(runJob(jobs[0].payload)).rejects.toThrow(/1 of 3 vouchers not rendered/);
    expect((await rt.db('vouchers').whereIn('id', [ids[0], ids[2]])).map((r) => r.status)).toEqual(['signed', 'signed']);
    for (let attempt = 2; attempt < voucherRenderAttemptsMax; attempt++) await expect(runJob(jobs[0].payload)).rejects.toThrow(/not rendered/);
    // The last attempt marks it failed, and the job ends: nothing is left to try.
    await expect(runJob(jobs[0].payload)).resolves.toEqual({ vouchers: 3 });
    expect(await rt.db('vouchers').where({ id: ids[1] }).first()).toMatchObject({ status: 'failed', render_attempts: voucherRenderAttemptsMax });
  });

  it('refuses a job that names no vouchers of ours', async () => {
    await expect(runJob({ voucherIds: 'vch_a,../etc' })).rejects.toThrow(/bad voucher ids/);
  });
});
