// Signed PDF vouchers: rendered and signed by a job, served and verified by routes.
import type { DomainModule } from '../module';
import { voucherRoutes } from './routes';
import { voucherJobHandlers, voucherSweepers } from './service';

export const vouchers: DomainModule = { name: 'vouchers', routes: voucherRoutes, jobs: voucherJobHandlers, sweepers: voucherSweepers };
