// Every route of the API, in one list: the app mounts them and the OpenAPI document is built
// from them.
import { auditRoutes } from '../audit/routes';
import { registryRoutes } from '../registry/routes';
import { guaranteeRoutes } from '../guarantees/routes';
import { voucherRoutes } from '../vouchers/routes';
import { depositRoutes } from '../deposits/routes';
import { sectionLifecycleRoutes } from '../sections/routes';
import { refundRoutes } from '../refunds/routes';
import { reconciliationRoutes } from '../reconciliation/routes';
import type { RouteDef } from './route';

export const allRoutes: RouteDef<any, any, any>[] = [...registryRoutes, ...auditRoutes, ...voucherRoutes, ...guaranteeRoutes, ...depositRoutes, ...sectionLifecycleRoutes, ...refundRoutes, ...reconciliationRoutes];
