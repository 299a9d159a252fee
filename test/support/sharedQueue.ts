// Test files of one run share the database and the queue prefix, and any file's outbox relay
// hands any file's jobs to BullMQ: a worker started by one file takes jobs of the others. These
// handlers act only on refunds at the file's own banks and hand every other job back.
import { DelayedError, type Job } from 'bullmq';
import type { Runtime } from '../../src/runtime';
import type { HandlerTable, JobHandler } from '../../src/queue/handlers';
import { refundJobHandlers } from '../../src/refunds/jobs';

/** How long a job handed back waits before any worker may take it again. A fixed short delay,
 *  not a failure: a failure spends one of the job's attempts and doubles its back-off, and a job
 *  that lands on other files' workers a few times in a row then waits past a test's time-out. */
export const foreignJobDelayMs = 100;

async function handBack(job: Job): Promise<never> {
  await job.moveToDelayed(Date.now() + foreignJobDelayMs, job.token);
  throw new DelayedError();
}

/** The refund handlers, acting only on jobs whose refund or message is at a bank `ours` accepts
 *  and handing back those of other banks. A job whose refund or message does not exist (a test of
 *  the queue itself adds such) is nobody's: it fails, as with no wrapper, until its attempts run
 *  out, rather than going round the workers for as long as they run. */
export function refundHandlersFor(rt: Runtime, ours: (bankId: string) => boolean): HandlerTable {
  const wrap =
    (h: JobHandler, bankOf: (job: Job) => Promise<string | undefined>): JobHandler =>
    async (r, job) => {
      const bankId = await bankOf(job);
      if (bankId === undefined) throw new Error(`job ${job.id}: no such refund or message`);
      return ours(bankId) ? h(r, job) : handBack(job);
    };
  return {
    refunds: {
      submit: wrap(refundJobHandlers.refunds!.submit, async (job) => job.data.bankId ?? (await rt.db('refunds').where({ id: job.data.refundId }).first('bank_id'))?.bank_id),
    },
    'bank-status': {
      poll: wrap(refundJobHandlers['bank-status']!.poll, async (job) => (await rt.db('refund_messages').where({ id: job.data.messageId }).first('bank_id'))?.bank_id),
    },
  };
}
