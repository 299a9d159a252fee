// Statistics for the centre and auditors, from the records and the ledger.
import type { DomainModule } from '../module';
import { statisticsRoutes } from './routes';

export const statistics: DomainModule = { name: 'statistics', routes: statisticsRoutes, jobs: {}, sweepers: [] };
