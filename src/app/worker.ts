// The worker of a process: every domain's job handlers, and the minute sweep over every
// domain's sweepers.
import { housekeepingJobs } from '../queue/housekeeping';
import { mergeHandlerTables, type HandlerTable, type Sweeper } from '../queue/handlers';
import { startWorkers, type RunningWorkers } from '../queue/worker';
import type { DomainModule } from '../module';
import type { Runtime } from '../runtime';
import { domainModules } from './modules';

export function allSweepers(modules: readonly DomainModule[] = domainModules): Sweeper[] {
  return modules.flatMap((m) => m.sweepers);
}

export function allJobHandlers(modules: readonly DomainModule[] = domainModules): HandlerTable {
  return mergeHandlerTables([housekeepingJobs(allSweepers(modules)), ...modules.map((m) => m.jobs)]);
}

export function buildWorker(rt: Runtime, redisUrl: string, modules: readonly DomainModule[] = domainModules): Promise<RunningWorkers> {
  return startWorkers(rt, redisUrl, allJobHandlers(modules));
}
