// Tenderees, bidders, issuers, banks and their certificates, sections.
import type { DomainModule } from '../module';
import { registryRoutes } from './routes';

export const registry: DomainModule = { name: 'registry', routes: registryRoutes, jobs: {}, sweepers: [] };
