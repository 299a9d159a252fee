// Refund gauges for Prometheus, read from PostgreSQL at scrape time so that every api process
// reports the same truth and nothing is counted in a process's memory.
import client from 'prom-client';
import type { Knex } from 'knex';
import { businessDate } from '../domain/time';

const registered = new WeakSet<client.Registry>();

export interface RefundCounts {
  due: number;
  overdue: number;
  inFlight: number;
  manual: number;
}

export async function refundCounts(db: Knex, now = new Date()): Promise<RefundCounts> {
  const today = businessDate(now);
  const row = (
    await db.raw(
      `SELECT count(*) FILTER (WHERE status = 'scheduled') AS due,
              count(*) FILTER (WHERE status IN ('scheduled','submitted','manual') AND due_by < ?) AS overdue,
              count(*) FILTER (WHERE status = 'submitted') AS in_flight,
              count(*) FILTER (WHERE status IN ('manual','rejected')) AS manual
         FROM refunds WHERE status IN ('scheduled','submitted','manual','rejected')`,
      [today],
    )
  ).rows[0];
  return { due: Number(row.due), overdue: Number(row.overdue), inFlight: Number(row.in_flight), manual: Number(row.manual) };
}

export function registerRefundMetrics(registry: client.Registry, db: Knex): void {
  if (registered.has(registry)) return;
  registered.add(registry);
  const gauges = {
    due: new client.Gauge({ name: 'bidbond_refunds_due', help: 'Refunds scheduled and waiting to be sent', registers: [registry] }),
    overdue: new client.Gauge({ name: 'bidbond_refunds_overdue', help: 'Refunds not settled by their due date (R9, R11, R16)', registers: [registry] }),
    inFlight: new client.Gauge({ name: 'bidbond_refunds_in_flight', help: 'Refunds sent to a bank and not yet final', registers: [registry] }),
    manual: new client.Gauge({ name: 'bidbond_refunds_manual', help: 'Refunds failed and waiting for manual handling (R17)', registers: [registry] }),
  };
  // One query per scrape feeds all four: the first gauge collected refreshes them together.
  let pending: Promise<RefundCounts> | undefined;
  const refresh = async () => {
    pending ??= refundCounts(db).finally(() => setTimeout(() => (pending = undefined), 0));
    const c = await pending;
    gauges.due.set(c.due);
    gauges.overdue.set(c.overdue);
    gauges.inFlight.set(c.inFlight);
    gauges.manual.set(c.manual);
  };
  for (const g of Object.values(gauges)) (g as unknown as { collect: () => Promise<void> }).collect = refresh;
}
