// Refund gauges for Prometheus, read from PostgreSQL at scrape time so that every api process
// reports the same truth and nothing is counted in a process's memory.
import client from 'prom-client';
import type { Knex } from 'knex';
import { businessDate } from '../domain/time';
import { interestFigures } from './interestIncome';
import { countOpenRefunds, type OpenRefundCounts } from './repo';

export function registerRefundMetrics(registry: client.Registry, db: Knex): void {
  // The registry itself says whether this ran before: the api may be assembled twice on one.
  if (registry.getSingleMetric('bidbond_refunds_due')) return;
  const gauges = {
    due: new client.Gauge({ name: 'bidbond_refunds_due', help: 'Refunds scheduled and waiting to be sent', registers: [registry] }),
    overdue: new client.Gauge({ name: 'bidbond_refunds_overdue', help: 'Refunds not settled by their due date (R9, R11, R16)', registers: [registry] }),
    inFlight: new client.Gauge({ name: 'bidbond_refunds_in_flight', help: 'Refunds sent to a bank and not yet final', registers: [registry] }),
    manual: new client.Gauge({ name: 'bidbond_refunds_manual', help: 'Refunds waiting for manual handling (R17): failed, or returned by the payee\'s bank', registers: [registry] }),
    statusUnknown: new client.Gauge({ name: 'bidbond_refunds_status_unknown', help: 'Refunds in manual handling because the bank gave no final status within the horizon', registers: [registry] }),
    returned: new client.Gauge({ name: 'bidbond_refunds_returned', help: 'Refunds whose payment the payee\'s bank sent back (退汇), waiting for a decision (counted in bidbond_refunds_manual too)', registers: [registry] }),
  };
  // One query per scrape feeds all of them: the first gauge collected refreshes them together.
  let pending: Promise<OpenRefundCounts> | undefined;
  const refresh = async () => {
    pending ??= countOpenRefunds(db, businessDate(new Date())).finally(() => setTimeout(() => (pending = undefined), 0));
    const c = await pending;
    gauges.due.set(c.due);
    gauges.overdue.set(c.overdue);
    gauges.inFlight.set(c.inFlight);
    gauges.manual.set(c.manual);
    gauges.statusUnknown.set(c.statusUnknown);
    gauges.returned.set(c.returned);
  };
  for (const g of Object.values(gauges)) (g as unknown as { collect: () => Promise<void> }).collect = refresh;

  // R13: interest refunds paid beyond the interest the bank paid on the trust account, per bank.
  const shortfall = new client.Gauge({
    name: 'bidbond_interest_shortfall_fen',
    help: 'Interest paid on refunds beyond the interest the bank paid on its trust account, in fen (R13): what the centre covers itself',
    labelNames: ['bank'],
    registers: [registry],
  });
  (shortfall as unknown as { collect: () => Promise<void> }).collect = async () => {
    const figures = await interestFigures(db);
    shortfall.reset();
    // A gauge is a float: fen are exact in it up to 2^53 (¥90 trillion).
    for (const f of figures) shortfall.set({ bank: f.bankId }, Number(f.shortfallFen));
  };
}
