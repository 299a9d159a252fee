// Refund gauges for Prometheus, read from PostgreSQL at scrape time so that every api process
// reports the same truth and nothing is counted in a process's memory.
import client from 'prom-client';
import type { Knex } from 'knex';
import { businessDate } from '../domain/time';
import { countOpenRefunds, type OpenRefundCounts } from './repo';

export function registerRefundMetrics(registry: client.Registry, db: Knex): void {
  // The registry itself says whether this ran before: the api may be assembled twice on one.
  if (registry.getSingleMetric('bidbond_refunds_due')) return;
  const gauges = {
    due: new client.Gauge({ name: 'bidbond_refunds_due', help: 'Refunds scheduled and waiting to be sent', registers: [registry] }),
    overdue: new client.Gauge({ name: 'bidbond_refunds_overdue', help: 'Refunds not settled by their due date (R9, R11, R16)', registers: [registry] }),
    inFlight: new client.Gauge({ name: 'bidbond_refunds_in_flight', help: 'Refunds sent to a bank and not yet final', registers: [registry] }),
    manual: new client.Gauge({ name: 'bidbond_refunds_manual', help: 'Refunds failed and waiting for manual handling (R17)', registers: [registry] }),
    statusUnknown: new client.Gauge({ name: 'bidbond_refunds_status_unknown', help: 'Refunds in manual handling because the bank gave no final status within the horizon', registers: [registry] }),
  };
  // One query per scrape feeds all four: the first gauge collected refreshes them together.
  let pending: Promise<OpenRefundCounts> | undefined;
  const refresh = async () => {
    pending ??= countOpenRefunds(db, businessDate(new Date())).finally(() => setTimeout(() => (pending = undefined), 0));
    const c = await pending;
    gauges.due.set(c.due);
    gauges.overdue.set(c.overdue);
    gauges.inFlight.set(c.inFlight);
    gauges.manual.set(c.manual);
    gauges.statusUnknown.set(c.statusUnknown);
  };
  for (const g of Object.values(gauges)) (g as unknown as { collect: () => Promise<void> }).collect = refresh;
}
