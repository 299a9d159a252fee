// Voucher gauges for Prometheus, read from PostgreSQL at scrape time so that every api process
// reports the same truth and nothing is counted in a process's memory.
import client from 'prom-client';
import type { Knex } from 'knex';
import { countVouchersWithStatus } from './repo';

export function registerVoucherMetrics(registry: client.Registry, db: Knex): void {
  // The registry itself says whether this was done: a second app on the same registry (tests
  // build several) must not register the gauges twice.
  if (registry.getSingleMetric('bidbond_vouchers_failed')) return;
  new client.Gauge({
    name: 'bidbond_vouchers_pending',
    help: 'Vouchers requested and not yet signed',
    registers: [registry],
    async collect() {
      this.set(await countVouchersWithStatus(db, 'pending'));
    },
  });
  new client.Gauge({
    name: 'bidbond_vouchers_failed',
    help: 'Vouchers that could not be rendered in the allowed attempts and wait for a person',
    registers: [registry],
    async collect() {
      this.set(await countVouchersWithStatus(db, 'failed'));
    },
  });
}
