// The vouchers queue: a render job per voucher (BullMQ carries the id, PostgreSQL the state and
// the attempts), and the sweep that hands pending vouchers to the queue again.
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import type { Runtime } from '../runtime';
import { attemptRender, requeueStuckVouchers } from './service';

export const voucherJobHandlers: HandlerTable = {
  vouchers: {
    render: async (rt: Runtime, job: Job) => {
      const voucherId = String(job.data.voucherId ?? '');
      if (!/^vch_/.test(voucherId)) throw new UnrecoverableError(`bad voucher id ${voucherId}`);
      return attemptRender(rt, voucherId);
    },
  },
};

export const voucherSweepers: Sweeper[] = [{ name: 'vouchersRequeued', run: requeueStuckVouchers }];
