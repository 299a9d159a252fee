// Refunds: scheduled by the events that owe them, executed through the deposit bank.
import type { DomainModule } from '../module';
import { refundJobHandlers, refundSweepers } from './jobs';
import { registerRefundMetrics } from './metrics';
import { refundRoutes } from './routes';

export const refunds: DomainModule = { name: 'refunds', routes: refundRoutes, jobs: refundJobHandlers, sweepers: refundSweepers, registerMetrics: registerRefundMetrics };
