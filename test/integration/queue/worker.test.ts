import type { Runtime } from '../../../src/runtime';
import { requestVoucher } from '../../../src/vouchers/requests';
import { startWorkers, type RunningWorkers } from '../../../src/queue/worker';
import { voucherJobHandlers } from '../../../src/vouchers/service';
import { housekeepingJobs, sweepOnce } from '../../../src/queue/housekeeping';
import { allSweepers } from '../../../src/app/worker';
import { startTestRuntime } from '../../support/runtime';

let rt: Runtime;
let workers: RunningWorkers;

beforeAll(async () => {
  rt = await startTestRuntime();
  workers = await startWorkers(rt, process.env.REDIS_URL!, { ...voucherJobHandlers, ...housekeepingJobs(allSweepers()) });
});
afterAll(async () => {
  await workers.close();
  await rt.close();
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

  it('schedules the minute sweep as a BullMQ job scheduler', async () => {
    const schedulers = await rt.queues.housekeeping.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('sweep-every-minute');
  });
});
