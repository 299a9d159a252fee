// Signed messages to issuers (applications, claims, releases, extension requests). The row in issuer_messages holds
// the exact bytes; a job claims the row, POSTs it signed with the service key to the issuer's
// callbackUrl, and records every attempt. A 2xx ends it; anything else is retried with backoff
// by BullMQ up to `issuerMessageAttemptsMax`, then the message is `failed` for an operator.
import { UnrecoverableError, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { newId } from '../domain/ids';
import { toJsonSafe } from '../audit/canonical';
import type { Tx } from '../db/knex';
import { enqueueJob } from '../queue/outbox';
import type { Runtime } from '../runtime';
import * as repo from './repo';

export const issuerMessageAttemptsMax = 6;
export const issuerMessageTimeoutMs = 10_000;
/** A claimed message still `sending` after this long belonged to a worker that died. */
export const issuerMessageStuckMs = 5 * 60_000;
/** A `pending` message untouched this long lost its job (Redis emptied): queue it again. */
export const issuerMessageIdleMs = 2 * 60_000;
export const issuerMessageSweepBatchMax = 200;
const responseErrorLengthMax = 500;

export type IssuerMessageKind = 'application' | 'claim' | 'release' | 'extension_request';

const jobIdOf = (messageId: string, attempts: number) => `issuer-message.${messageId}.${attempts}`;

export async function queueIssuerMessage(
  tx: Tx,
  msg: { issuerId: string; kind: IssuerMessageKind; subjectId: string; url: string; payload: Record<string, unknown> },
): Promise<string> {
  const id = newId('evt');
  const body = JSON.stringify(toJsonSafe({ messageId: id, type: msg.kind, sentBy: 'bidbond', ...msg.payload }));
  await repo.insertMessage(tx, { id, issuer_id: msg.issuerId, kind: msg.kind, subject_id: msg.subjectId, url: msg.url, body });
  await enqueueJob(tx, { queue: 'issuer-messages', name: 'send', jobId: jobIdOf(id, 0), payload: { messageId: id } });
  return id;
}

/** One delivery attempt. Returns when delivered or nothing to do; throws to make BullMQ retry. */
export async function deliverIssuerMessage(rt: Pick<Runtime, 'db' | 'signer' | 'log'>, messageId: string): Promise<'sent' | 'skipped'> {
  const msg = await repo.claimPendingMessage(rt.db, messageId);
  if (!msg) return 'skipped';
  const bytes = Buffer.from(msg.body, 'utf8');
  const started = Date.now();
  let httpStatus: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(msg.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...rt.signer.sign(bytes) },
      body: bytes,
      signal: AbortSignal.timeout(issuerMessageTimeoutMs),
      redirect: 'error',
    });
    httpStatus = res.status;
    if (!res.ok) error = `HTTP ${res.status}: ${(await res.text().catch(() => '')).slice(0, responseErrorLengthMax)}`;
    else await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    error = (e as Error).message.slice(0, responseErrorLengthMax);
  }
  const delivered = error === null;
  const exhausted = !delivered && msg.attempts >= issuerMessageAttemptsMax;
  await rt.db.transaction(async (tx) => {
    const status = delivered ? 'sent' : exhausted ? 'failed' : 'pending';
    await repo.recordMessageAttempt(tx, { messageId: msg.id, attempt: msg.attempts, httpStatus, error, durationMs: Date.now() - started, status });
    if (delivered && msg.kind === 'application') await repo.updateApplicationFrom(tx, msg.subject_id, ['submitted'], 'sent');
    if (delivered || exhausted) {
      await appendAudit(tx, {
        actor: { type: 'system' },
        action: delivered ? 'issuer_message.sent' : 'issuer_message.failed',
        entityType: 'issuer_message',
        entityId: msg.id,
        data: { kind: msg.kind, subjectId: msg.subject_id, issuerId: msg.issuer_id, attempts: msg.attempts, error },
      });
    }
  });
  if (delivered) return 'sent';
  if (exhausted) throw new UnrecoverableError(`issuer message ${msg.id} failed after ${msg.attempts} attempts: ${error}`);
  throw new Error(`issuer message ${msg.id} attempt ${msg.attempts} failed: ${error}`);
}

/** Messages whose worker died mid-send go back to pending; pending ones idle too long (their
 *  job lost with Redis, or BullMQ gave up before our limit) are queued again. */
export async function sweepIssuerMessages(rt: Pick<Runtime, 'db'>): Promise<number> {
  return rt.db.transaction(async (tx: Knex.Transaction) => {
    await repo.releaseStuckMessages(tx, issuerMessageStuckMs / 1000, issuerMessageIdleMs / 1000);
    const idle = await repo.takeIdleMessages(tx, issuerMessageIdleMs / 1000, issuerMessageSweepBatchMax);
    for (const m of idle) {
      await enqueueJob(tx, { queue: 'issuer-messages', name: 'send', jobId: `${jobIdOf(m.id, m.attempts)}.sweep${Date.now()}`, payload: { messageId: m.id } });
    }
    return idle.length;
  });
}

export async function handleSendJob(rt: Runtime, job: Job): Promise<unknown> {
  const messageId = (job.data as { messageId?: unknown }).messageId;
  if (typeof messageId !== 'string') throw new UnrecoverableError('issuer-messages/send needs a messageId');
  return deliverIssuerMessage(rt, messageId);
}
