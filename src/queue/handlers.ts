// What a domain gives the worker: job handlers by queue and job name, and sweepers that the
// minute sweep runs. Plain data, collected by the composition root; nothing registers itself.
import type { Job } from 'bullmq';
import type { Runtime } from '../runtime';
import type { QueueName } from './queues';

export type JobHandler = (rt: Runtime, job: Job) => Promise<unknown>;
export type HandlerTable = Partial<Record<QueueName, Record<string, JobHandler>>>;

/** Looks in PostgreSQL for work that is due, stuck or orphaned and hands it to the queues again;
 *  returns how many rows it acted on. */
export interface Sweeper {
  name: string;
  run: (rt: Runtime) => Promise<number>;
}

export function mergeHandlerTables(tables: HandlerTable[]): HandlerTable {
  const merged: HandlerTable = {};
  for (const t of tables) {
    for (const [queue, handlers] of Object.entries(t) as [QueueName, Record<string, JobHandler>][]) {
      for (const name of Object.keys(handlers)) {
        if (merged[queue]?.[name]) throw new Error(`assertion failed: two handlers for ${queue}/${name}`);
      }
      merged[queue] = { ...(merged[queue] ?? {}), ...handlers };
    }
  }
  return merged;
}
