// Signed PDF vouchers: rendered and signed by a job, served and verified by routes.
import type { DomainModule } from '../module';
import { voucherJobHandlers, voucherSweepers } from './jobs';
import { registerVoucherMetrics } from './metrics';
import { voucherRoutes } from './routes';

export const vouchers: DomainModule = { name: 'vouchers', routes: voucherRoutes, jobs: voucherJobHandlers, sweepers: voucherSweepers, registerMetrics: registerVoucherMetrics };
