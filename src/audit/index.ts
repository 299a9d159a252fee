// The hash-chained audit log: its routes. Other domains append through service.ts.
import type { DomainModule } from '../module';
import { auditRoutes } from './routes';

export const audit: DomainModule = { name: 'audit', routes: auditRoutes, jobs: {}, sweepers: [] };
