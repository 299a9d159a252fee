// A section's lifecycle: opening and its roster, award, contract, termination. (Forfeiture of a
// deposit is the deposits capability's, on the R12 grounds shared with guarantee claims.)
import type { DomainModule } from '../module';
import { sectionLifecycleRoutes } from './routes';

export const sections: DomainModule = { name: 'sections', routes: sectionLifecycleRoutes, jobs: {}, sweepers: [] };
