// Failed sign-ins that anyone can cause without end (an unknown login, a locked or disabled
// account) reach the shared audit chain bounded, as refused webhooks do (src/http/refusalBudget.ts).
// A wrong password for a real account is audited every time: the lock-out bounds those to a few
// per account and quarter-hour.
import type Redis from 'ioredis';
import { RefusalBudget, type RefusalSummary } from '../http/refusalBudget';

export const signInFailedAuditWindowSeconds = 60;
export const signInFailedAuditEventsPerWindowMax = 120;
/** Failures not yet summarised in an event are kept this long per address. */
export const signInFailedPendingSeconds = 3600;

const failures = new RefusalBudget('sign-in-failed', {
  windowSeconds: signInFailedAuditWindowSeconds,
  eventsPerWindowMax: signInFailedAuditEventsPerWindowMax,
  pendingSeconds: signInFailedPendingSeconds,
});

export type FailureSummary = RefusalSummary;

/** Counts a failure and says whether to audit it, with the summary to write. */
export function countSignInFailure(redis: Redis, keyPrefix: string, address: string, reason: string, now: Date): Promise<FailureSummary | undefined> {
  return failures.count(redis, keyPrefix, address, reason, now);
}
