// The shape every domain exports from its index.ts: its routes, its job handlers and its
// sweepers, as data. Only the composition root (src/app) reads them all.
import type client from 'prom-client';
import type { Knex } from 'knex';
import type { RouteDef } from './http/route';
import type { HandlerTable, Sweeper } from './queue/handlers';

export interface DomainModule {
  name: string;
  routes: RouteDef<any, any, any>[];
  jobs: HandlerTable;
  sweepers: Sweeper[];
  /** Gauges read from PostgreSQL at scrape time, so every api process reports the same. */
  registerMetrics?: (registry: client.Registry, db: Knex) => void;
}
