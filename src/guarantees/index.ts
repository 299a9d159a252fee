// Electronic guarantees: applications, issuance webhooks, verification, claims, expiry.
import type { DomainModule } from '../module';
import { guaranteeJobHandlers, guaranteeSweepers } from './jobs';
import { guaranteeRoutes } from './routes';

export const guarantees: DomainModule = { name: 'guarantees', routes: guaranteeRoutes, jobs: guaranteeJobHandlers, sweepers: guaranteeSweepers };
