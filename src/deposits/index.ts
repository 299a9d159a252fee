// Cash deposits: virtual sub-accounts, bank notifications (credits, reversals), matching,
// withdrawals, forfeiture, suspense, and the bank exceptions a person must look at.
import type { DomainModule } from '../module';
import { bankExceptionRoutes } from './exceptionRoutes';
import { depositRoutes } from './routes';

export const deposits: DomainModule = { name: 'deposits', routes: [...depositRoutes, ...bankExceptionRoutes], jobs: {}, sweepers: [] };
