// The outbox relay: jobs recorded with a transaction reach BullMQ after commit, each once, with
// their delay, in one pass for many rows over several queues; a relay that dies after handing
// jobs over but before marking them (the rows are handed over again) adds nothing twice.
import { enqueueJob, relayOutboxOnce, type JobRequest } from '../../../src/queue/outbox';
import type { Runtime } from '../../../src/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../support/isolatedDatabase';
import { startTestRuntime } from '../../support/runtime';
import { randomDigits } from '../../api/deposits.support';
import { waitFor } from '../../support/wait';

let isolated: IsolatedDatabase;
let rt: Runtime;

beforeAll(async () => {
  // A database and queue prefix of its own: the relay hands over every pending row it finds.
  isolated = await createIsolatedDatabase('outbox');
  rt = await startTestRuntime({ ...isolated.env });
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

/** Relays until none of `jobs` is pending: rows another relay holds are skipped by this one
 *  and counted pending until that relay commits. */
async function relayAll(jobs: JobRequest[]): Promise<void> {
  await waitFor('every job relayed', async () => {
    await relayOutboxOnce(rt.db, rt.queues);
    return (await rt.db('outbox').whereNull('dispatched_at').whereIn('job_id', jobs.map((j) => j.jobId))).length === 0;
  });
}

it('hands many jobs over several queues to BullMQ once each, delayed ones delayed, and again after a crash adds none twice', async () => {
  const run = randomDigits(8);
  const jobs: JobRequest[] = [
    ...Array.from({ length: 250 }, (_, i): JobRequest => ({ queue: 'vouchers', name: 'render', jobId: `t${run}.v${i}`, payload: { voucherId: `vch_${run}_${i}` } })),
    ...Array.from({ length: 20 }, (_, i): JobRequest => ({ queue: 'refunds', name: 'submit', jobId: `t${run}.r${i}`, payload: { refundId: `rfd_${run}_${i}` }, delayMs: 60_000 })),
  ];
  await rt.db.transaction(async (tx) => {
    for (const job of jobs) await enqueueJob(tx, job);
  });

  // The runtime's own relay may take some of the rows first: either way every job arrives.
  await relayAll(jobs);
  const arrived = await Promise.all(jobs.map((j) => rt.queues[j.queue].getJob(j.jobId)));
  expect(arrived.map((j) => j?.id)).toEqual(jobs.map((j) => j.jobId));
  const vouchers = await rt.queues.vouchers.getJob(`t${run}.v7`);
  expect(vouchers?.data).toEqual({ voucherId: `vch_${run}_7` });
  expect(await vouchers?.getState()).toBe('waiting');
  const delayed = await rt.queues.refunds.getJob(`t${run}.r3`);
  expect(await delayed?.getState()).toBe('delayed');
  expect(delayed?.opts.delay).toBe(60_000);
  const counts = async () => ({ vouchers: await rt.queues.vouchers.getJobCountByTypes('waiting'), refunds: await rt.queues.refunds.getJobCountByTypes('delayed') });
  const before = await counts();

  // The relay died after BullMQ had the jobs and before its transaction marked the rows.
  await rt.db('outbox').whereIn('job_id', jobs.map((j) => j.jobId)).update({ dispatched_at: null });
  await relayAll(jobs);
  expect(await counts()).toEqual(before);
});
