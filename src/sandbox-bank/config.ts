// Configuration of the sandbox bank. Everything an operator or an outside checker sets comes
// from the environment (DESIGN.md "Banks"); tests build the same object directly. Every limit
// the simulator applies is a named constant here so that a reader finds them in one place.
import path from 'node:path';
import { InvalidRateTable, percentToMillionths } from '../domain/interest';

export type SandboxNotifyProtocol = 'iso20022' | 'cn-h2h';

export interface SandboxConfig {
  /** 0 picks a free port (tests). */
  port: number;
  host: string;
  /** PostgreSQL holding the simulator's own state (never the service's tables). */
  databaseUrl: string;
  /** Schema for that state; tests give each server its own so parallel files never meet. */
  schema: string;
  /** The service's POST /v1/banks/:id/notifications; without it credits queue up undelivered. */
  notifyUrl?: string;
  /** Format of pushed credit notifications: camt.054.001.08 or the cn-h2h credit notice. */
  protocol: SandboxNotifyProtocol;
  /** The trust account (投标保证金专户) that virtual sub-accounts book into; created at start. */
  trustAccount?: { number: string; name: string; bankCode: string };
  /** A payment to any number starting with this is a payment into the trust account. */
  virtualPrefix?: string;
  dataDir: string;
  /** PEM paths; without them the development PKI under <dataDir>/pki is used. */
  signingKeyPath?: string;
  signingCertPath?: string;
  /** How long an accepted payment instruction waits before it settles. */
  settleDelayMs: number;
  notify: NotifyRetryPolicy;
  /** How long a "timed out" payment submission keeps the HTTP response back (fault timeoutRate). */
  timeoutHangMs: number;
  /** How long a settled instruction hit by lostStatusRate still reports as pending. */
  lostStatusMs: number;
  /** Annual rate of the demand-deposit interest paid on the trust account each quarter, as a
   *  percent string ("0.35"), read as millionths of one like the service's rate tables. */
  interestRatePercent: string;
  interestRateMillionths: bigint;
  /** The time the quarterly 结息 check goes by (bookings always use the database's clock):
   *  tests move it to a 结息 day instead of waiting for one. */
  clock: () => Date;
  logger: SandboxLogger;
}

/** Where the simulator reports what it does not answer to anyone (parked notices, loop errors). */
export interface SandboxLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

const silentLogger: SandboxLogger = { info: () => {}, warn: () => {}, error: () => {} };
const consoleLogger: SandboxLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m, err) => console.error(m, err ?? ''),
};

export interface NotifyRetryPolicy {
  /** First retry delay; doubles with each failed attempt up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** After this many failed attempts a notification is parked (visible, retried only on demand). */
  attemptsMax: number;
  requestTimeoutMs: number;
}

export const sandboxPortDefault = 4100;
export const sandboxSchemaDefault = 'sandbox_bank';
export const sandboxDataDirDefault = './.data/sandbox';
/** A CNAPS-shaped code (valid ISO 7064 MOD 11,10 check digit) for the trust account's branch
 *  when SANDBOX_TRUST_BANK_CODE is not given. */
export const sandboxBankCodeDefault = '102100099996';
export const trustAccountNameDefault = 'bidbond 投标保证金专户';
export const settleDelayMsDefault = 200;
export const notifyBackoffBaseMsDefault = 1_000;
/** The named ceiling of the exponential backoff: a service that is down for hours is still
 *  tried every few minutes, not once a day. */
export const notifyBackoffMaxMsDefault = 5 * 60_000;
/** ~12 attempts reach the 5-minute ceiling after about 17 minutes in total; beyond this a
 *  notification is parked so that a permanently failing endpoint does not retry forever. */
export const notifyAttemptsMaxDefault = 20;
export const notifyRequestTimeoutMsDefault = 10_000;
/** Longer than any sensible client timeout (the adapters use tens of seconds). */
export const timeoutHangMsDefault = 65_000;
export const lostStatusMsDefault = 3_000;
/** The PBoC benchmark rate for demand deposits (活期), which banks' own rates are quoted from. */
export const interestRatePercentDefault = '0.35';

/** Upper bounds on what configuration may ask for, so a typo cannot stall the simulator. */
export const settleDelayMsMax = 10 * 60_000;
export const notifyAttemptsMaxLimit = 1_000;

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export class SandboxConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxConfigError';
  }
}

export type SandboxConfigInput = Partial<Omit<SandboxConfig, 'notify' | 'interestRateMillionths'>> & {
  databaseUrl: string;
  notify?: Partial<NotifyRetryPolicy>;
};

function boundedInt(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SandboxConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Fills defaults and checks bounds; the server only ever sees a complete, checked config. */
export function normalizeSandboxConfig(input: SandboxConfigInput): SandboxConfig {
  if (!input.databaseUrl) throw new SandboxConfigError('the sandbox bank needs SANDBOX_DATABASE_URL or DATABASE_URL for its state');
  const schema = input.schema ?? sandboxSchemaDefault;
  if (!schemaPattern.test(schema)) throw new SandboxConfigError(`schema must match ${schemaPattern}, got ${JSON.stringify(schema)}`);
  const protocol = input.protocol ?? 'iso20022';
  if (protocol !== 'iso20022' && protocol !== 'cn-h2h') {
    throw new SandboxConfigError(`SANDBOX_PROTOCOL must be iso20022 or cn-h2h, got ${JSON.stringify(protocol)}`);
  }
  if (input.trustAccount && !/^\d{12}$/.test(input.trustAccount.bankCode)) {
    throw new SandboxConfigError(`the trust account's bank code must be 12 digits, got ${JSON.stringify(input.trustAccount.bankCode)}`);
  }
  if (input.virtualPrefix !== undefined && !/^[0-9A-Za-z]{1,30}$/.test(input.virtualPrefix)) {
    throw new SandboxConfigError(`SANDBOX_VIRTUAL_PREFIX must be 1-30 letters or digits, got ${JSON.stringify(input.virtualPrefix)}`);
  }
  if (input.notifyUrl !== undefined) {
    try {
      new URL(input.notifyUrl);
    } catch {
      throw new SandboxConfigError(`SANDBOX_NOTIFY_URL is not a URL: ${JSON.stringify(input.notifyUrl)}`);
    }
  }
  const interestRatePercent = input.interestRatePercent ?? interestRatePercentDefault;
  let interestRateMillionths: bigint;
  try {
    interestRateMillionths = percentToMillionths(interestRatePercent);
  } catch (e) {
    if (e instanceof InvalidRateTable) throw new SandboxConfigError(`SANDBOX_INTEREST_RATE_PERCENT: ${e.message}`);
    throw e;
  }
  const notify: NotifyRetryPolicy = {
    backoffBaseMs: boundedInt(input.notify?.backoffBaseMs ?? notifyBackoffBaseMsDefault, 'notify.backoffBaseMs', 1, 3_600_000),
    backoffMaxMs: boundedInt(input.notify?.backoffMaxMs ?? notifyBackoffMaxMsDefault, 'notify.backoffMaxMs', 1, 24 * 3_600_000),
    attemptsMax: boundedInt(input.notify?.attemptsMax ?? notifyAttemptsMaxDefault, 'notify.attemptsMax', 1, notifyAttemptsMaxLimit),
    requestTimeoutMs: boundedInt(input.notify?.requestTimeoutMs ?? notifyRequestTimeoutMsDefault, 'notify.requestTimeoutMs', 1, 600_000),
  };
  return {
    port: boundedInt(input.port ?? sandboxPortDefault, 'port', 0, 65535),
    // All interfaces, like the api: a checker or the service may reach it from another container.
    host: input.host ?? '0.0.0.0',
    databaseUrl: input.databaseUrl,
    schema,
    notifyUrl: input.notifyUrl,
    protocol,
    trustAccount: input.trustAccount,
    virtualPrefix: input.virtualPrefix,
    dataDir: path.resolve(input.dataDir ?? sandboxDataDirDefault),
    signingKeyPath: input.signingKeyPath,
    signingCertPath: input.signingCertPath,
    settleDelayMs: boundedInt(input.settleDelayMs ?? settleDelayMsDefault, 'settleDelayMs', 0, settleDelayMsMax),
    notify,
    timeoutHangMs: boundedInt(input.timeoutHangMs ?? timeoutHangMsDefault, 'timeoutHangMs', 0, 3_600_000),
    lostStatusMs: boundedInt(input.lostStatusMs ?? lostStatusMsDefault, 'lostStatusMs', 0, 3_600_000),
    interestRatePercent,
    interestRateMillionths,
    clock: input.clock ?? (() => new Date()),
    // LOG_LEVEL=silent is what the test setup sets for every process.
    logger: input.logger ?? (process.env.LOG_LEVEL === 'silent' ? silentLogger : consoleLogger),
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new SandboxConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Reads the environment DESIGN.md names: SANDBOX_PORT, SANDBOX_NOTIFY_URL, SANDBOX_TRUST_ACCOUNT
 * (+ SANDBOX_TRUST_ACCOUNT_NAME, SANDBOX_TRUST_BANK_CODE), SANDBOX_VIRTUAL_PREFIX,
 * SANDBOX_PROTOCOL, SANDBOX_DATABASE_URL or DATABASE_URL, SANDBOX_SCHEMA, SANDBOX_DATA_DIR,
 * SANDBOX_SIGNING_KEY / SANDBOX_SIGNING_CERT, SANDBOX_SETTLE_DELAY_MS, SANDBOX_NOTIFY_BACKOFF_MS,
 * SANDBOX_NOTIFY_BACKOFF_MAX_MS, SANDBOX_NOTIFY_ATTEMPTS_MAX, SANDBOX_TIMEOUT_HANG_MS,
 * SANDBOX_LOST_STATUS_MS, SANDBOX_INTEREST_RATE_PERCENT, SANDBOX_HOST.
 */
export function sandboxConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const trustNumber = nonEmpty(env.SANDBOX_TRUST_ACCOUNT);
  return normalizeSandboxConfig({
    port: intFromEnv(env, 'SANDBOX_PORT'),
    host: nonEmpty(env.SANDBOX_HOST),
    databaseUrl: nonEmpty(env.SANDBOX_DATABASE_URL) ?? nonEmpty(env.DATABASE_URL) ?? '',
    schema: nonEmpty(env.SANDBOX_SCHEMA),
    notifyUrl: nonEmpty(env.SANDBOX_NOTIFY_URL),
    protocol: nonEmpty(env.SANDBOX_PROTOCOL) as SandboxNotifyProtocol | undefined,
    trustAccount: trustNumber
      ? {
          number: trustNumber,
          name: nonEmpty(env.SANDBOX_TRUST_ACCOUNT_NAME) ?? trustAccountNameDefault,
          bankCode: nonEmpty(env.SANDBOX_TRUST_BANK_CODE) ?? sandboxBankCodeDefault,
        }
      : undefined,
    virtualPrefix: nonEmpty(env.SANDBOX_VIRTUAL_PREFIX),
    dataDir: nonEmpty(env.SANDBOX_DATA_DIR),
    signingKeyPath: nonEmpty(env.SANDBOX_SIGNING_KEY),
    signingCertPath: nonEmpty(env.SANDBOX_SIGNING_CERT),
    settleDelayMs: intFromEnv(env, 'SANDBOX_SETTLE_DELAY_MS'),
    notify: {
      backoffBaseMs: intFromEnv(env, 'SANDBOX_NOTIFY_BACKOFF_MS'),
      backoffMaxMs: intFromEnv(env, 'SANDBOX_NOTIFY_BACKOFF_MAX_MS'),
      attemptsMax: intFromEnv(env, 'SANDBOX_NOTIFY_ATTEMPTS_MAX'),
      requestTimeoutMs: intFromEnv(env, 'SANDBOX_NOTIFY_TIMEOUT_MS'),
    },
    timeoutHangMs: intFromEnv(env, 'SANDBOX_TIMEOUT_HANG_MS'),
    lostStatusMs: intFromEnv(env, 'SANDBOX_LOST_STATUS_MS'),
    interestRatePercent: nonEmpty(env.SANDBOX_INTEREST_RATE_PERCENT),
  });
}
