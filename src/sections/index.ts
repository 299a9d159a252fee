// A section's lifecycle: opening and its roster, award, contract, forfeiture, termination.
import type { DomainModule } from '../module';
import { sectionLifecycleRoutes } from './routes';

export const sections: DomainModule = { name: 'sections', routes: sectionLifecycleRoutes, jobs: {}, sweepers: [] };
