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
}

export interface Timing {
  refunds: RefundTiming;
}

export const defaultRefundTiming: RefundTiming = {
  bankTimeoutMs: 30_000,
  pollDelayMs: 5_000,
  pollDelayMaxMs: 5 * 60_000,
  noRecordGraceMs: 2 * 60_000,
  sendingStaleMs: 2 * 60_000,
  retryDelayMs: 60_000,
};

export const defaultTiming: Timing = { refunds: defaultRefundTiming };

/** The defaults with some values replaced. */
export function timingWith(overrides: { refunds?: Partial<RefundTiming> } = {}): Timing {
  return { refunds: { ...defaultRefundTiming, ...overrides.refunds } };
}
