// The sweepers of events out: the relay from the audit log, then the deliveries that are due.
import type { Sweeper } from '../queue/handlers';
import { deliverDueWebhooks } from './delivery';
import { relayEvents } from './relay';

export const eventSweepers: Sweeper[] = [
  { name: 'eventsRelayed', run: async (rt) => (await relayEvents(rt.db)).events },
  { name: 'webhooksDelivered', run: (rt) => deliverDueWebhooks(rt) },
];
