// Job handlers by queue and job name. Each domain contributes its handlers here; a handler gets
// the job's ids and claims its row in PostgreSQL before acting.
import type { Job } from 'bullmq';
import type { Runtime } from '../runtime';
import { housekeepingHandlers } from './housekeeping';
import type { QueueName } from './queues';
import { voucherJobHandlers } from '../vouchers/service';
import { refundJobHandlers } from '../refunds/jobs';
import { guaranteeJobHandlers } from '../guarantees/jobs';
import { reconciliationJobHandlers } from '../reconciliation/jobs';

export type JobHandler = (rt: Runtime, job: Job) => Promise<unknown>;
export type HandlerTable = Partial<Record<QueueName, Record<string, JobHandler>>>;

export function allJobHandlers(): HandlerTable {
  const tables: HandlerTable[] = [housekeepingHandlers, voucherJobHandlers, refundJobHandlers, guaranteeJobHandlers, reconciliationJobHandlers];
  const merged: HandlerTable = {};
  for (const t of tables) {
    for (const [queue, handlers] of Object.entries(t) as [QueueName, Record<string, JobHandler>][]) {
      merged[queue] = { ...(merged[queue] ?? {}), ...handlers };
    }
  }
  return merged;
}
