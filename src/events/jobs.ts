// Events out, fast and safe. A new audit row reaches the centre's endpoints within about a
// second: a job scheduler runs the relay every `eventRelayIntervalMs` on the `events` queue, and
// a relay round that writes deliveries asks (by an outbox row in its own transaction) for a
// `deliver` job on the `webhooks` queue, which sends whatever is due at once. The minute sweep
// still relays and delivers, the safety net for a lost job, a worker that died and every retry
// whose back-off has run out. Deliveries stay at least once and never twice at the same time:
// the `deliver` job and the sweep claim rows alike (`FOR UPDATE SKIP LOCKED`, `pending →
// sending`), so two workers never send one attempt. Relaying and sending have queues of their
// own so that receivers that time out never hold the relay up.
import type { Job } from 'bullmq';
import { defaultJobOptions, jobIdFor } from '../queue/queues';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import type { Runtime } from '../runtime';
import { deliverDueWebhooks, deliverJobName, deliveryBatchMax } from './delivery';
import { relayEvents } from './relay';

/** How often the relay looks at the audit log between sweeps: the longest a new event waits
 *  before its deliveries are written and sent. */
export const eventRelayIntervalMs = 1000;
export const eventRelaySchedulerId = 'events-relay-every-second';
export const relayJobName = 'relay';

/** A relay job that did not run is replaced by the next one a second later: no retries, few kept. */
const relayJobOptions = { attempts: 1, removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } } as const;

/** Registers the relay's scheduler; the same id from every worker and every sweep is one
 *  scheduler. */
export async function scheduleEventRelay(rt: Pick<Runtime, 'queues'>): Promise<void> {
  await rt.queues.events.upsertJobScheduler(eventRelaySchedulerId, { every: eventRelayIntervalMs }, { name: relayJobName, data: {}, opts: relayJobOptions });
}

async function relayNow(rt: Runtime): Promise<{ events: number; deliveries: number }> {
  const r = await relayEvents(rt.db);
  // The rounds that wrote deliveries recorded their deliver jobs in the outbox; hand them over now.
  if (r.deliveries > 0) rt.outbox.kick();
  return { events: r.events, deliveries: r.deliveries };
}

async function deliverNow(rt: Runtime, job: Job): Promise<number> {
  const sent = await deliverDueWebhooks(rt);
  // A full batch leaves more due: the next job goes on without waiting for the sweep.
  if (sent === deliveryBatchMax) {
    await rt.queues.webhooks.add(deliverJobName, {}, { ...defaultJobOptions, jobId: jobIdFor(String(job.id ?? deliverJobName), 'more') });
  }
  return sent;
}

export const eventJobHandlers: HandlerTable = {
  events: { [relayJobName]: (rt) => relayNow(rt) },
  webhooks: { [deliverJobName]: (rt, job) => deliverNow(rt, job) },
};

export const eventSweepers: Sweeper[] = [
  {
    name: 'eventRelayScheduled',
    run: async (rt) => {
      await scheduleEventRelay(rt);
      return 1;
    },
  },
  { name: 'eventsRelayed', run: async (rt) => (await relayEvents(rt.db)).events },
  { name: 'webhooksDelivered', run: (rt) => deliverDueWebhooks(rt) },
];
