// Reconciliation of the ledger against bank statements, uploaded or pulled each day.
import type { DomainModule } from '../module';
import { reconciliationJobHandlers, reconciliationSweepers } from './jobs';
import { reconciliationRoutes } from './routes';

export const reconciliation: DomainModule = { name: 'reconciliation', routes: reconciliationRoutes, jobs: reconciliationJobHandlers, sweepers: reconciliationSweepers };
