// Cash deposits: virtual sub-accounts, bank notifications (credits, reversals; large ones worked
// through by the deposits queue), matching, withdrawals, forfeiture, suspense, and the bank
// exceptions a person must look at.
import type { DomainModule } from '../module';
import { bankExceptionRoutes } from './exceptionRoutes';
import { depositJobHandlers, depositSweepers } from './notificationJobs';
import { depositRoutes } from './routes';

export const deposits: DomainModule = { name: 'deposits', routes: [...depositRoutes, ...bankExceptionRoutes], jobs: depositJobHandlers, sweepers: depositSweepers };
