// Cash deposits: virtual sub-accounts, bank notifications, matching, withdrawals, suspense.
import type { DomainModule } from '../module';
import { depositRoutes } from './routes';

export const deposits: DomainModule = { name: 'deposits', routes: depositRoutes, jobs: {}, sweepers: [] };
