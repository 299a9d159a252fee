// A voucher the product accepts but cannot render: a refund voucher whose frozen total is not
// principal + interest + late fee (an upstream arithmetic bug), which the renderer refuses.
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Runtime } from '../../../src/runtime';
import { requestVoucher } from '../../../src/vouchers/requests';

export const unrenderableError = /refund total must equal principal \+ interest \+ late fee/;

/** Requested as a capability would; its render job is kept out of Redis so that only the test
 *  runs it (the relays and workers of test files running beside this one share the database and
 *  the queues). */
export async function requestUnrenderableVoucher(rt: Runtime, opts: { bidderId?: string } = {}): Promise<string> {
  const refundId = `rfd_bad${randomUUID().replace(/-/g, '')}`;
  return rt.db.transaction(async (tx) => {
    const id = await requestVoucher(tx, {
      kind: 'refund_voucher',
      subjectType: 'refund',
      subjectId: refundId,
      bidderId: opts.bidderId,
      data: {
        refundId,
        depositId: 'dep_bad',
        bidder: { name: '浙江某某建设有限公司' },
        reason: 'not_awarded',
        rules: ['R9'],
        payee: { name: '浙江某某建设有限公司', number: '6222020200001234567' },
        principalFen: 5000000n,
        interestFen: 1234n,
        lateFeeFen: 0n,
        totalFen: 5000000n,
        interest: { valueDateFrom: '2026-11-20', valueDateTo: '2026-11-27', days: 7, annualRatePercent: '0.35' },
        dueBy: '2026-12-04',
      },
    });
    await tx('outbox').where('job_id', `render.${id}`).update({ dispatched_at: tx.fn.now() });
    return id;
  });
}

/** What BullMQ hands the render handler: the handler reads only the voucher id. */
export const renderJob = (voucherId: string) => ({ data: { voucherId } }) as unknown as Job;
