// Bidders' credit grades and the reductions of the bid security they earn (R4).
import type { DomainModule } from '../module';
import { creditRoutes } from './routes';

export const credit: DomainModule = { name: 'credit', routes: creditRoutes, jobs: {}, sweepers: [] };
