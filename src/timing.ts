// How long the service waits for banks and how often it asks again. Part of the runtime, not of
// any module's state: a test or the demo passes shorter values to the process it builds.

export interface RefundTiming {
  /** How long one request to the bank may take before its outcome counts as unknown. */
  bankTimeoutMs: number;
  /** First status poll after a send; doubles per poll up to pollDelayMaxMs. */
  pollDelayMs: number;
  pollDelayMaxMs: number;
  /** How long a bank must keep saying "no record" of a message we may have sent before a new
   *  attempt is safe: a request that timed out may still be arriving. */
  noRecordGraceMs: number;
  /** An attempt left in `sending` this long belongs to a worker that died mid-send. */
  sendingStaleMs: number;
  /** Pause before a new attempt after a transient rejection. */
  retryDelayMs: number;
  /** After a bank said "no record" of an instruction, how long before a new attempt is sent:
   *  far longer than any bank's queue, so an instruction that was only late has surfaced by
   *  then (and the new attempt, carrying the same end-to-end id, is refused as a duplicate if
   *  it has not). */
  retryAfterNoRecordMs: number;
  /** How long an instruction may stay without a final status before a person must look
   *  (manual handling, `status_unknown`). */
  statusHorizonMs: number;
}

/** How long a person's browser session lasts (src/users). */
export interface SessionTiming {
  /** A session unused this long is over: a console left open on an unattended desk. */
  idleTimeoutMs: number;
  /** And whatever its use, it is over this long after sign-in. */
  absoluteTimeoutMs: number;
  /** The last use is written at most this often, not on every request. */
  lastSeenRefreshMs: number;
}

export interface Timing {
  refunds: RefundTiming;
  sessions: SessionTiming;
}

export const defaultRefundTiming: RefundTiming = {
  bankTimeoutMs: 30_000,
  pollDelayMs: 5_000,
  pollDelayMaxMs: 5 * 60_000,
  noRecordGraceMs: 2 * 60_000,
  sendingStaleMs: 2 * 60_000,
  retryDelayMs: 60_000,
  retryAfterNoRecordMs: 6 * 3600_000,
  statusHorizonMs: 48 * 3600_000,
};

export const sessionIdleTimeoutMs = 30 * 60_000;
export const sessionAbsoluteTimeoutMs = 12 * 3600_000;
export const sessionLastSeenRefreshMs = 60_000;

export const defaultSessionTiming: SessionTiming = {
  idleTimeoutMs: sessionIdleTimeoutMs,
  absoluteTimeoutMs: sessionAbsoluteTimeoutMs,
  lastSeenRefreshMs: sessionLastSeenRefreshMs,
};

export const defaultTiming: Timing = { refunds: defaultRefundTiming, sessions: defaultSessionTiming };

/** The defaults with some values replaced. */
export function timingWith(overrides: { refunds?: Partial<RefundTiming>; sessions?: Partial<SessionTiming> } = {}): Timing {
  return { refunds: { ...defaultRefundTiming, ...overrides.refunds }, sessions: { ...defaultSessionTiming, ...overrides.sessions } };
}

/** Timing from the configuration: each BIDBOND_*_MS variable that is set replaces its default. */
export function timingFromEnv(env: {
  BIDBOND_BANK_TIMEOUT_MS?: number;
  BIDBOND_REFUND_POLL_DELAY_MS?: number;
  BIDBOND_REFUND_POLL_DELAY_MAX_MS?: number;
  BIDBOND_REFUND_NO_RECORD_GRACE_MS?: number;
  BIDBOND_REFUND_SENDING_STALE_MS?: number;
  BIDBOND_REFUND_RETRY_DELAY_MS?: number;
  BIDBOND_REFUND_RETRY_AFTER_NO_RECORD_MS?: number;
  BIDBOND_REFUND_STATUS_HORIZON_MS?: number;
}): Timing {
  const set = <K extends keyof RefundTiming>(k: K, v: number | undefined) => (v === undefined ? {} : { [k]: v });
  return timingWith({
    refunds: {
      ...set('bankTimeoutMs', env.BIDBOND_BANK_TIMEOUT_MS),
      ...set('pollDelayMs', env.BIDBOND_REFUND_POLL_DELAY_MS),
      ...set('pollDelayMaxMs', env.BIDBOND_REFUND_POLL_DELAY_MAX_MS),
      ...set('noRecordGraceMs', env.BIDBOND_REFUND_NO_RECORD_GRACE_MS),
      ...set('sendingStaleMs', env.BIDBOND_REFUND_SENDING_STALE_MS),
      ...set('retryDelayMs', env.BIDBOND_REFUND_RETRY_DELAY_MS),
      ...set('retryAfterNoRecordMs', env.BIDBOND_REFUND_RETRY_AFTER_NO_RECORD_MS),
      ...set('statusHorizonMs', env.BIDBOND_REFUND_STATUS_HORIZON_MS),
    },
  });
}
