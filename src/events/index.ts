// Events out to the trading centre's other systems: relayed from the audit log, listed to
// callers, delivered signed to the centre's endpoints.
import type { DomainModule } from '../module';
import { eventJobHandlers, eventSweepers } from './jobs';
import { registerEventMetrics } from './metrics';
import { eventRoutes } from './routes';

export const events: DomainModule = { name: 'events', routes: eventRoutes, jobs: eventJobHandlers, sweepers: eventSweepers, registerMetrics: registerEventMetrics };
