// The vouchers queue: a render job per voucher, or per run of vouchers requested together
// (BullMQ carries the ids, PostgreSQL the state and the attempts), and the sweep that hands
// pending vouchers to the queue again.
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import type { Runtime } from '../runtime';
import { voucherRenderJobVouchersMax } from './repo';
import { attemptRender, requeueStuckVouchers } from './service';

const voucherIdPattern = /^vch_[A-Za-z0-9_-]+$/;

export const voucherJobHandlers: HandlerTable = {
  vouchers: {
    render: async (rt: Runtime, job: Job) => {
      const voucherId = String(job.data.voucherId ?? '');
      if (!/^vch_/.test(voucherId)) throw new UnrecoverableError(`bad voucher id ${voucherId}`);
      return attemptRender(rt, voucherId);
    },
    // Each voucher as its own render job would be; one that fails is retried with the job (those
    // signed meanwhile are passed over), one that cannot be rendered is marked failed alone.
    renderMany: async (rt: Runtime, job: Job) => {
      const ids = String(job.data.voucherIds ?? '').split(',');
      if (ids.length > voucherRenderJobVouchersMax || !ids.every((id) => voucherIdPattern.test(id))) throw new UnrecoverableError(`bad voucher ids in job ${job.id}`);
      const failures: string[] = [];
      for (const id of ids) {
        try {
          await attemptRender(rt, id);
        } catch (e) {
          if (!(e instanceof UnrecoverableError)) failures.push(`${id}: ${(e as Error).message}`);
        }
      }
      if (failures.length > 0) throw new Error(`${failures.length} of ${ids.length} vouchers not rendered: ${failures[0]}`);
      return { vouchers: ids.length };
    },
  },
};

export const voucherSweepers: Sweeper[] = [{ name: 'vouchersRequeued', run: requeueStuckVouchers }];
