// The HTTP API of a process: every domain's routes mounted on one app, with the domains'
// gauges on its metrics registry.
import type express from 'express';
import { createApp } from '../http/app';
import type { AppDeps } from '../http/deps';
import type { RouteDef } from '../http/route';
import type { DomainModule } from '../module';
import { domainModules } from './modules';

export function allRoutes(modules: readonly DomainModule[] = domainModules): RouteDef<any, any, any>[] {
  return modules.flatMap((m) => m.routes);
}

export function buildApi(deps: AppDeps, modules: readonly DomainModule[] = domainModules): express.Express {
  for (const m of modules) m.registerMetrics?.(deps.metrics.registry, deps.db);
  return createApp(deps, allRoutes(modules));
}
