// What a bank's notification came to: for one kept and worked through in batches, its progress
// and counts as the batches committed them; for one acted on at once, the answer it was given.
// The bank that sent it may ask (by a signed request, like its notifications), and so may the
// centre and the auditor; anyone else learns nothing, not even that it exists (404).
import type { Request } from 'express';
import type { Knex } from 'knex';
import { NotFound, Unauthorized } from '../errors';
import { authenticate } from '../http/auth';
import type { AppDeps } from '../http/deps';
import { enforceRateLimit } from '../http/rateLimit';
import { authenticateWebhook, webhookAuthDeps } from '../http/webhookAuth';
import type { NotificationAnswer } from './notifications';
import * as repo from './notificationsRepo';

export interface NotificationOutcome {
  object: 'notification_outcome';
  bankId: string;
  messageId: string;
  status: 'processing' | 'done';
  entries: number;
  entriesDone: number;
  accepted: number;
  duplicates: number;
  ignored: number;
  ignoredReasons: { notOurAccount: number };
  reversals: number;
  exceptions: number;
  depositIds: string[];
  hasMore: boolean;
  nextCursor: string | null;
  receivedAt: string;
  completedAt: string | null;
}

/** Roles that may read any bank's notifications. */
const readerRoles = ['centre', 'auditor'];
const signatureHeader = 'bidbond-signature';

/** The bank itself by its signature, or the centre or the auditor by key; 404 for anyone else. */
export async function authorizeOutcomeReader(req: Request, deps: AppDeps, bankId: string): Promise<void> {
  if (req.get(signatureHeader) !== undefined) {
    // A signature that is not this bank's is another party's request: it learns nothing.
    const sender = await authenticateWebhook(
      req,
      Buffer.alloc(0),
      webhookAuthDeps(deps),
      'bank',
      bankId,
    ).catch((e: unknown) => {
      if (e instanceof Unauthorized) throw new NotFound('notification', req.path);
      throw e;
    });
    if (sender.id !== bankId) throw new NotFound('notification', req.path);
    return;
  }
  const caller = await authenticate(req, deps.db);
  if (caller.role === 'none' || !readerRoles.includes(caller.role)) throw new NotFound('notification', req.path);
  await enforceRateLimit(deps.redis, deps.config.BIDBOND_QUEUE_PREFIX, caller.keyId, deps.config.BIDBOND_RATE_LIMIT_PER_MINUTE);
}

export async function notificationOutcome(db: Knex, bankId: string, messageId: string, page: { limit: number; cursor?: string }): Promise<NotificationOutcome> {
  const stored = await repo.findStoredSummary(db, bankId, messageId);
  let outcome: Omit<NotificationOutcome, 'depositIds' | 'hasMore' | 'nextCursor'>;
  if (stored) {
    outcome = {
      object: 'notification_outcome',
      bankId,
      messageId,
      status: stored.status,
      entries: stored.entries_total,
      entriesDone: stored.next_entry,
      accepted: stored.accepted,
      duplicates: stored.duplicates,
      ignored: stored.ignored,
      ignoredReasons: { notOurAccount: stored.ignored_not_our_account },
      reversals: stored.reversals,
      exceptions: stored.exceptions,
      receivedAt: stored.received_at.toISOString(),
      completedAt: stored.completed_at?.toISOString() ?? null,
    };
  } else {
    const inline = await repo.inlineAnswerOf(db, bankId, messageId);
    const answer = inline?.response_body as NotificationAnswer | undefined;
    if (!inline || inline.response_status !== 200 || answer?.object !== 'notification_receipt') throw new NotFound('notification', messageId);
    // Entries acted on (the answer does not keep how many credits its exceptions came from).
    const entries = answer.accepted + answer.duplicates + answer.reversals + answer.exceptions + (answer.ignoredReasons?.notOurAccount ?? 0);
    outcome = {
      object: 'notification_outcome',
      bankId,
      messageId,
      status: 'done',
      entries,
      entriesDone: entries,
      accepted: answer.accepted,
      duplicates: answer.duplicates,
      ignored: answer.ignored,
      ignoredReasons: { notOurAccount: answer.ignoredReasons?.notOurAccount ?? 0 },
      reversals: answer.reversals,
      exceptions: answer.exceptions,
      receivedAt: inline.created_at.toISOString(),
      completedAt: inline.created_at.toISOString(),
    };
  }
  const ids = await repo.depositIdsOfMessage(db, bankId, messageId, { limit: page.limit + 1, cursor: page.cursor });
  const hasMore = ids.length > page.limit;
  const depositIds = ids.slice(0, page.limit);
  return { ...outcome, depositIds, hasMore, nextCursor: hasMore ? depositIds[depositIds.length - 1] : null };
}
