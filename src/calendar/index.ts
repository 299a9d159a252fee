// R19's working-day calendar: how far ahead it is known, and the years an operator loads.
import type { DomainModule } from '../module';
import { calendarRoutes } from './routes';

export const calendar: DomainModule = { name: 'calendar', routes: calendarRoutes, jobs: {}, sweepers: [] };
