// A transaction PostgreSQL aborted to break a deadlock (40P01) or a serialization conflict
// (40001) did nothing: every write of it was rolled back. Running the same work again is what the
// caller would do on a 409, so a request does it itself, a bounded number of times, and only a
// request that keeps losing answers 409 concurrent_update. Work run this way must keep its
// effects inside the transaction (jobs go through the outbox), which every route's handler does.
import type { Knex } from 'knex';

/** Attempts of one unit of work, the first included. */
export const transactionAttemptsMax = 3;

/** Upper bound of the random pause before attempt n+1, times n. The partner of a deadlock is
 *  woken by the abort but may not have run yet; a retry sent at once can take the row the partner
 *  is about to update (the aborted writer's mark no longer blocks anyone) and deadlock with it a
 *  second time. A few milliseconds let the partner go first. */
export const transactionRetryPauseMsMax = 10;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const retryableCodes = new Set(['40P01', '40001']);

export function isRetryableAbort(err: unknown): boolean {
  return retryableCodes.has((err as { code?: unknown })?.code as string);
}

/** A statement that waited longer than the transaction's `lock_timeout` (55P03): not retried
 *  here, as the same wait would likely end the same way; the caller decides what to do instead. */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: unknown })?.code === '55P03';
}

/** `work` in a transaction of `db`, run again from the start when the transaction was aborted
 *  for a deadlock or a serialization failure; `onRetry` hears of each such abort. */
export function transactionRetried<T>(
  db: Knex,
  work: (tx: Knex.Transaction) => Promise<T>,
  onRetry: (err: unknown, attempt: number) => void = () => {},
): Promise<T> {
  return retriedAfterAbort(() => db.transaction(work), onRetry);
}

/** `attempt`, which runs its own transaction, run again as transactionRetried runs its work. */
export async function retriedAfterAbort<T>(attempt: () => Promise<T>, onRetry: (err: unknown, attempt: number) => void = () => {}): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryableAbort(err) || n >= transactionAttemptsMax) throw err;
      onRetry(err, n);
      await pause(Math.random() * transactionRetryPauseMsMax * n);
    }
  }
}
