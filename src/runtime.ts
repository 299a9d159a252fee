// What a process is given: the configuration and the handles built from it (database, Redis,
// queues, outbox relay, trust roots, signing key, business tables, timing). The composition
// root (src/app) builds it; every domain receives it and none reaches for a global.
import type Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Config } from './config';
import type { AppDeps } from './http/deps';
import type { Queues } from './queue/queues';

export type { Timing } from './timing';

export interface Runtime extends AppDeps {
  queues: Queues;
  queueRedis: Redis;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    // Secrets and account numbers never reach the log.
    redact: {
      paths: ['req.headers.authorization', 'req.headers["bidbond-signature"]', '*.accountNumber', '*.number', '*.keyPem', '*.password', '*.key'],
      censor: '[redacted]',
    },
  });
}
