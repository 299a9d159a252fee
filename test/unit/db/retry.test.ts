// A transaction aborted for a deadlock or a serialization failure is run again after a short
// random pause that grows with each attempt, so that the partner it lost to goes first.
import { isLockTimeout, isRetryableAbort, retriedAfterAbort, transactionAttemptsMax, transactionRetryPauseMsMax } from '../../../src/db/retry';

const abort = (code: string) => Object.assign(new Error(`aborted ${code}`), { code });

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** Every attempt but the last aborted with `code`, on fake timers with every pause drawn as
 *  `draw`: when each attempt started, and what the last one returned (the attempt count). */
function abortedUntilLast(draw: number, code: string) {
  jest.useFakeTimers();
  jest.spyOn(Math, 'random').mockReturnValue(draw);
  const startedAt: number[] = [];
  const result = retriedAfterAbort(async () => {
    startedAt.push(Date.now());
    if (startedAt.length < transactionAttemptsMax) throw abort(code);
    return startedAt.length;
  });
  return { startedAt, result };
}

/** Every attempt throwing `failure`: what the caller got thrown, the attempts made, and the
 *  attempts `onRetry` heard of. */
async function alwaysFailing(failure: unknown) {
  let attempts = 0;
  const heard: number[] = [];
  const outcome = await retriedAfterAbort(
    async () => {
      attempts += 1;
      throw failure;
    },
    (_err, n) => heard.push(n),
  ).then(
    () => 'resolved',
    (err: unknown) => err,
  );
  return { outcome, attempts, heard };
}

describe('retriedAfterAbort', () => {
  it('runs an attempt aborted for a serialization failure again and returns what the next one returns', async () => {
    const heard: number[] = [];
    let attempts = 0;
    const value = await retriedAfterAbort(
      async () => {
        attempts += 1;
        if (attempts === 1) throw abort('40001');
        return 'done';
      },
      (_err, n) => heard.push(n),
    );
    expect({ value, attempts, heard }).toEqual({ value: 'done', attempts: 2, heard: [1] });
  });

  it('pauses before attempt n+1 for the drawn share of transactionRetryPauseMsMax times n, and not before the first', async () => {
    const { startedAt, result } = abortedUntilLast(0.5, '40P01');
    await jest.advanceTimersByTimeAsync(0);
    expect(startedAt).toHaveLength(1);
    const firstPause = 0.5 * transactionRetryPauseMsMax;
    await jest.advanceTimersByTimeAsync(firstPause - 1);
    expect(startedAt).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(startedAt).toHaveLength(2);
    // The pause before attempt 3 is twice as long.
    await jest.advanceTimersByTimeAsync(2 * firstPause - 1);
    expect(startedAt).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(transactionAttemptsMax);
    expect([startedAt[1] - startedAt[0], startedAt[2] - startedAt[1]]).toEqual([firstPause, 2 * firstPause]);
  });

  it('never pauses longer than transactionRetryPauseMsMax times n', async () => {
    // The longest pause a draw can give.
    const { startedAt, result } = abortedUntilLast(0.999_999, '40001');
    await jest.advanceTimersByTimeAsync(transactionRetryPauseMsMax);
    expect(startedAt).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(2 * transactionRetryPauseMsMax);
    await expect(result).resolves.toBe(transactionAttemptsMax);
  });

  it('with a pause of zero drawn, runs each next attempt at once', async () => {
    const { startedAt, result } = abortedUntilLast(0, '40P01');
    await jest.runAllTimersAsync();
    await expect(result).resolves.toBe(transactionAttemptsMax);
    expect(new Set(startedAt).size).toBe(1);
  });

  it('hands the last abort to the caller after transactionAttemptsMax attempts', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const failure = abort('40P01');
    const { outcome, attempts, heard } = await alwaysFailing(failure);
    expect(outcome).toBe(failure);
    expect({ attempts, heard }).toEqual({ attempts: transactionAttemptsMax, heard: Array.from({ length: transactionAttemptsMax - 1 }, (_, i) => i + 1) });
  });

  it.each([
    ['a unique violation', abort('23505')],
    ['a lock timeout', abort('55P03')],
    ['an error with no code', new Error('boom')],
    ['a thrown string', 'boom'],
  ])('runs an attempt that failed with %s once and rethrows it', async (_what, failure) => {
    const { outcome, attempts, heard } = await alwaysFailing(failure);
    expect(outcome).toBe(failure);
    expect({ attempts, heard }).toEqual({ attempts: 1, heard: [] });
  });
});

describe('isRetryableAbort', () => {
  it('is true for a deadlock (40P01) and a serialization failure (40001) only', () => {
    expect([abort('40P01'), abort('40001'), abort('40002'), abort('23505'), undefined, null, 'x'].map(isRetryableAbort)).toEqual([true, true, false, false, false, false, false]);
  });
});

describe('isLockTimeout', () => {
  it('is true for a lock wait past lock_timeout (55P03) only', () => {
    expect([abort('55P03'), abort('40P01'), abort('57014'), undefined, 'x'].map(isLockTimeout)).toEqual([true, false, false, false, false]);
  });
});
