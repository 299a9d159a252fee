// The service's settings are read from the environment here and nowhere else; a bad value stops
// the start with a message that names the variable. What else reads process.env is not a setting
// of the service: the sandbox bank's own configuration (SANDBOX_*, sandbox-bank/config.ts), PATH
// to find the programs the embedded default runs (redis-server, setpriv), the environment handed
// on to child processes (openssl, the sandbox bank), and the CLI's LOG_LEVEL for its own error
// output and USER to name the operator on record.
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.string().url().optional();
const flag = z.enum(['0', '1', 'true', 'false']).optional().transform((v) => v === '1' || v === 'true');

export const envSchema = z.object({
  BIDBOND_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().default('127.0.0.1'),
  /** PostgreSQL; unset: an embedded PostgreSQL under BIDBOND_DATA_DIR (development only). */
  DATABASE_URL: optionalUrl,
  /** Redis; unset: a redis-server from the PATH on a free loopback port (development only). */
  REDIS_URL: optionalUrl,
  BIDBOND_DATA_DIR: z.string().default('.data'),
  /** Queue names are prefixed so that environments (and parallel test runs) never share one.
   *  Wrap in braces ({bidbond}) for Redis Cluster, so a queue's keys share one hash slot. */
  BIDBOND_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_{}-]{1,64}$/, 'letters, digits, _ - { } only').default('bidbond'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The trading centre operating this service, as printed on vouchers. */
  BIDBOND_CENTRE_NAME: z.string().min(1).max(200).default('公共资源交易中心 Public Resource Trading Centre'),
  /** Public base URL, printed in vouchers' QR codes and verify links. */
  BIDBOND_PUBLIC_URL: z.string().url().optional(),
  /** PEM files (comma-separated) of the roots that issuer and bank certificates must chain to.
   *  Unset in development: the generated development root. */
  BIDBOND_TRUST_ROOTS: z.string().optional(),
  /** PKCS#12 with the service's signing key and chain (vouchers and outgoing messages). */
  BIDBOND_SIGNING_P12: z.string().optional(),
  BIDBOND_SIGNING_P12_PASSWORD: z.string().optional(),
  /** Absolute cap on a works section's deposit, in yuan (R1); unset: no cap beyond 2%. */
  BIDBOND_DEPOSIT_CAP: z.string().regex(/^\d{1,15}(\.\d{1,2})?$/, 'a decimal amount like "800000.00"').optional(),
  /** JSON files overriding the built-in tables (R19 calendar, R13 rates). */
  BIDBOND_CALENDAR_FILE: z.string().optional(),
  BIDBOND_DEPOSIT_RATE_FILE: z.string().optional(),
  BIDBOND_LOAN_RATE_FILE: z.string().optional(),
  /** PostgreSQL connections each api or worker process may hold; unset: dbPoolMax (db/knex.ts). */
  BIDBOND_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).optional(),
  /** Requests per minute per API key (in any 60 seconds). */
  BIDBOND_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** Time of day (Asia/Shanghai, HH:MM) at which each bank's statement is fetched. */
  BIDBOND_STATEMENT_TIME: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM').default('06:00'),
  BIDBOND_TRUST_PROXY: flag,
  /** Refund timing against the banks (milliseconds); see src/timing.ts. Unset: the defaults. */
  BIDBOND_BANK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  BIDBOND_REFUND_POLL_DELAY_MS: z.coerce.number().int().min(10).max(3_600_000).optional(),
  BIDBOND_REFUND_POLL_DELAY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).optional(),
  BIDBOND_REFUND_NO_RECORD_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  BIDBOND_REFUND_SENDING_STALE_MS: z.coerce.number().int().min(100).max(86_400_000).optional(),
  BIDBOND_REFUND_RETRY_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  BIDBOND_REFUND_RETRY_AFTER_NO_RECORD_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).optional(),
  BIDBOND_REFUND_STATUS_HORIZON_MS: z.coerce.number().int().min(1000).max(90 * 86_400_000).optional(),
  /** Whether event deliveries may go to private, loopback and link-local addresses. Unset: yes
   *  in development and test (receivers on this machine), no in production. */
  BIDBOND_WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1', 'true', 'false']).optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  dataDir: string;
  isProduction: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are treated as unset: `FOO= bidbond start` should not mean "FOO is ''".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const c = parsed.data;
  if (c.BIDBOND_ENV === 'production') {
    const missing = (['DATABASE_URL', 'REDIS_URL', 'BIDBOND_TRUST_ROOTS', 'BIDBOND_SIGNING_P12'] as const).filter((k) => !c[k]);
    if (missing.length) throw new ConfigError(missing.map((k) => `${k}: required when BIDBOND_ENV=production`));
  }
  return { ...c, dataDir: path.resolve(c.BIDBOND_DATA_DIR), isProduction: c.BIDBOND_ENV === 'production' };
}
