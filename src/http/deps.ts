import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type forge from 'node-forge';
import type { Config } from '../config';
import type { Metrics } from './metrics';
import type { Outbox } from '../queue/outbox';
import type { ServiceSigner } from '../pki/serviceSigner';
import type { BusinessTables } from '../tables';
import type { Timing } from '../timing';

/** Everything a request handler may use; built once per process and passed down. */
export interface AppDeps {
  config: Config;
  db: Knex;
  /** Request-path Redis: fails fast instead of queueing commands while disconnected. */
  redis: Redis;
  log: Logger;
  metrics: Metrics;
  outbox: Outbox;
  /** Roots that issuer and bank certificates must chain to. */
  trustRoots: forge.pki.Certificate[];
  /** The service's own key: signs outgoing messages and vouchers. */
  signer: ServiceSigner;
  /** R19 calendar and R13 rates, loaded and validated once at start. */
  tables: BusinessTables;
  timing: Timing;
}
