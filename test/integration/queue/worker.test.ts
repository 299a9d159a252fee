import { UnrecoverableError } from 'bullmq';
import type { Runtime } from '../../../src/runtime';
import { requestVoucher } from '../../../src/vouchers/requests';
import { startWorkers, type RunningWorkers } from '../../../src/queue/worker';
import { voucherJobHandlers } from '../../../src/vouchers/jobs';
import { voucherRenderAttemptsMax } from '../../../src/vouchers/service';
import { renderJob, requestUnrenderableVoucher, unrenderableError } from '../vouchers/unrenderable';
import { housekeepingJobs, sweepOnce } from '../../../src/queue/housekeeping';
import { allSweepers } from '../../../src/app/worker';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../support/isolatedDatabase';
import { startTestRuntime } from '../../support/runtime';

let isolated: IsolatedDatabase;
let rt: Runtime;
let workers: RunningWorkers;

beforeAll(async () => {
  // A database and queues of its own: these workers render every voucher and run every sweep
  // they find, which in the run's shared database would be other files' work.
  isolated = await createIsolatedDatabase('worker');
  rt = await startTestRuntime({ ...isolated.env });
  workers = await startWorkers(rt, process.env.REDIS_URL!, { ...voucherJobHandlers, ...housekeepingJobs(allSweepers()) });
});
afterAll(async () => {
  await workers?.close();
  await rt?.close();
  await isolated?.drop();
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const receipt = (subjectId: string) => ({
  kind: 'deposit_receipt' as const,
  subjectType: 'deposit',
  subjectId,
  data: {
    depositId: subjectId,
    bidder: { name: '测试公司' },
    amountFen: 123456789n,
    bookedAt: '2026-11-20T10:00:00+08:00',
    valueDate: '2026-11-20',
    virtualAccount: '955880000000001',
    payer: { name: '测试公司', number: '6222020200001234567' },
    bankEntryRef: 'R',
    status: 'valid',
    failedRules: [],
  },
});

describe('jobs', () => {
  it('hands a job recorded in a transaction to the worker after commit', async () => {
    const id = await rt.db.transaction((tx) => requestVoucher(tx, receipt(`dep_job${Date.now()}`)));
    rt.outbox.kick();
    const row = await waitFor(async () => {
      const r = await rt.db('vouchers').where({ id, status: 'signed' }).first();
      return r ?? undefined;
    });
    expect(row.pdf_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loses nothing when Redis is emptied: the sweep finds the pending voucher in PostgreSQL', async () => {
    const id = await rt.db.transaction(async (tx) => {
      const vid = await requestVoucher(tx, receipt(`dep_lost${Date.now()}`));
      // The job never reaches Redis: as if Redis had been flushed after the hand-off.
      await tx('outbox').where('job_id', `render.${vid}`).update({ dispatched_at: tx.fn.now() });
      await tx('vouchers').where({ id: vid }).update({ created_at: tx.raw(`now() - interval '10 minutes'`) });
      return vid;
    });
    const done = await sweepOnce(rt, allSweepers());
    expect(done.vouchersRequeued).toBeGreaterThanOrEqual(1);
    rt.outbox.kick();
    await waitFor(async () => (await rt.db('vouchers').where({ id, status: 'signed' }).first()) ?? undefined);
  });

  it('does the work once when the same job runs twice', async () => {
    const id = await rt.db.transaction((tx) => requestVoucher(tx, receipt(`dep_twice${Date.now()}`)));
    const handler = voucherJobHandlers.vouchers!.render;
    const fakeJob = { data: { voucherId: id } } as never;
    const results = await Promise.all([handler(rt, fakeJob), handler(rt, fakeJob)]);
    expect(results.sort()).toEqual(['already', 'signed']);
    const events = await rt.db('audit_events').where({ entity_id: id, action: 'voucher.signed' });
    expect(events).toHaveLength(1);
  });

  it('gives up on a voucher that cannot be rendered after voucherRenderAttemptsMax attempts: failed with its error, audited once, never requeued', async () => {
    const id = await requestUnrenderableVoucher(rt);
    const render = voucherJobHandlers.vouchers!.render;
    for (let attempt = 1; attempt < voucherRenderAttemptsMax; attempt++) {
      await expect(render(rt, renderJob(id))).rejects.toThrow(unrenderableError);
      expect(await rt.db('vouchers').where({ id }).first()).toMatchObject({ status: 'pending', render_attempts: attempt, error: expect.stringMatching(unrenderableError) });
    }
    const last = render(rt, renderJob(id));
    // Unrecoverable, so that BullMQ does not retry it either.
    await expect(last).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(last).rejects.toThrow(unrenderableError);
    expect(await rt.db('vouchers').where({ id }).first()).toMatchObject({ status: 'failed', render_attempts: voucherRenderAttemptsMax, error: expect.stringMatching(unrenderableError), pdf: null });

    const events = await rt.db('audit_events').where({ entity_type: 'voucher', entity_id: id, action: 'voucher.failed' });
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ kind: 'refund_voucher', renderAttempts: voucherRenderAttemptsMax, error: expect.stringMatching(unrenderableError) });

    // A job still queued for it does nothing.
    await expect(render(rt, renderJob(id))).resolves.toBe('failed');
    expect((await rt.db('vouchers').where({ id }).first()).render_attempts).toBe(voucherRenderAttemptsMax);

    // Only the clock is moved: the sweep hands on vouchers older than voucherStuckAfterSeconds.
    await rt.db('vouchers').where({ id }).update({ created_at: rt.db.raw(`now() - interval '10 minutes'`) });
    await sweepOnce(rt, allSweepers());
    expect(await rt.db('outbox').where('job_id', 'like', `render.${id}.%`)).toHaveLength(0);
    expect(await rt.db('audit_events').where({ entity_id: id, action: 'voucher.failed' })).toHaveLength(1);
  });

  it('counts an attempt that never finished: after voucherRenderAttemptsMax of them the next run marks the voucher failed without rendering', async () => {
    const id = await requestUnrenderableVoucher(rt);
    // A worker whose database connection breaks once the attempt is counted: it can neither store
    // a PDF nor record an error, as if it had died mid-render.
    const lost = new Error('Connection terminated unexpectedly');
    const db = new Proxy(rt.db, { get: (target, key, receiver) => (key === 'transaction' ? () => Promise.reject(lost) : Reflect.get(target, key, receiver)) });
    const dying = { ...rt, db } as Runtime;
    const render = voucherJobHandlers.vouchers!.render;
    for (let attempt = 1; attempt <= voucherRenderAttemptsMax; attempt++) await expect(render(dying, renderJob(id))).rejects.toBe(lost);
    expect(await rt.db('vouchers').where({ id }).first()).toMatchObject({ status: 'pending', render_attempts: voucherRenderAttemptsMax, error: null });

    await expect(render(rt, renderJob(id))).rejects.toBeInstanceOf(UnrecoverableError);
    const row = await rt.db('vouchers').where({ id }).first();
    expect(row).toMatchObject({ status: 'failed', render_attempts: voucherRenderAttemptsMax + 1, error: expect.stringMatching(/did not finish/) });
    expect(await rt.db('audit_events').where({ entity_id: id, action: 'voucher.failed' })).toHaveLength(1);
  });

  it('schedules the minute sweep as a BullMQ job scheduler', async () => {
    const schedulers = await rt.queues.housekeeping.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('sweep-every-minute');
  });
});
