// Every domain of the service, in the order their routes are mounted. This list is the one
// place that knows them all: the api is assembled from their routes, the worker from their jobs
// and sweepers.
import { audit } from '../audit';
import { calendar } from '../calendar';
import { credit } from '../credit';
import { deposits } from '../deposits';
import { events } from '../events';
import { guarantees } from '../guarantees';
import type { DomainModule } from '../module';
import { reconciliation } from '../reconciliation';
import { refunds } from '../refunds';
import { registry } from '../registry';
import { sections } from '../sections';
import { statistics } from '../statistics';
import { users } from '../users';
import { vouchers } from '../vouchers';

export const domainModules: readonly DomainModule[] = [registry, credit, audit, calendar, vouchers, guarantees, deposits, sections, refunds, reconciliation, events, statistics, users];
