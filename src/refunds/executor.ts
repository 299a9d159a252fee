// Executes scheduled refunds through the deposit bank. The order of steps is what keeps money
// safe when processes die or banks time out:
//   1. claim (claim.ts): one transaction moves the due refunds of a bank scheduled → submitted
//      (guarded), records one payment message and, per refund, an attempt with its amounts and
//      its own end-to-end id, and reserves each refund's money in the ledger with its own journal
//      (Dr deposit liability, interest — from the bank's interest income first —, late fee /
//      Cr refunds in flight);
//   2. send, after commit: the instructions exist in our records before the bank can see them.
//      One message (pain.001 with one transaction per refund, or a cn-h2h batch) carries up to
//      refundsPerMessageMax refunds;
//   3. an unknown outcome of the message (timeout, 5xx, crash) is never sent again: we ask the
//      bank for the message's status until it answers, one inquiry per message. When it says it
//      has no record of a refund's instruction for the grace period, a new attempt is held back
//      for hours (`retryAfterNoRecordMs`), then sent in a new message with the refund's one
//      end-to-end id: a bank that still held the first instruction refuses the second as a
//      duplicate (DUPL, per transaction), and we follow the first instead of paying twice;
//   4. each transaction's final status settles its refund (Dr in flight / Cr trust) or reverses
//      its reservation, one refund at a time in the ledger, so a message the bank accepted in
//      part settles what it accepted; an instruction with no final status past
//      `statusHorizonMs` goes to a person;
//   5. a settled payment the payee's bank sends back (退汇, returns.ts) waits for a person; a
//      retry then goes under a new end-to-end id (rules.ts `endToEndIdAfterReturn`), the only
//      case in which a refund's id changes, since the old id's one payment is provably over.
// Every step is a guarded state change, so a job run twice, or by two workers, acts once, and
// every age is measured on the database's clock.
import { appendAudit } from '../audit/service';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankUnreachable, type BankAdapter, type StatusReport, type TransactionStatus, type TransferBatch } from '../banks/types';
import { assert } from '../errors';
import { businessDate } from '../domain/time';
import { reverseJournal } from '../ledger';
import { findBank, type BankRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import type { RefundTiming } from '../timing';
import { claimMessage, refundsPerMessageMax, type ClaimedMessage } from './claim';
import { enqueueMessagePoll, enqueueRefundSubmit } from './enqueue';
import * as mrepo from './messagesRepo';
import { settleMany, type Settlement } from './settle';
import * as repo from './repo';
import { r17AfterFailedAttempt, refundAttemptsMax } from './rules';

export { lateFeeExpenseAccountSpec, refundsPerMessageMax } from './claim';

/** A file or instruction the bank says it already has: the earlier copy is what it acts on. */
export const duplicateMessageReasons: readonly string[] = ['DU01', 'DUPL'];
/** Earlier messages asked about per refund and poll; attempts per refund are bounded well below this. */
export const statusMessagesPerPollMax = 10;
/** Earlier messages asked about per poll of one message, across its refunds. */
export const earlierMessagesPerPollMax = 50;
export const attemptErrorCharsMax = 500;
/** Attempts given a final status per transaction: a message's settlement is committed in parts. */
export const statusesPerTransactionMax = 1_000;

const pollBackoffDoublingsMax = 6;

export function pollDelayFor(timing: RefundTiming, polls: number): number {
  return Math.min(timing.pollDelayMs * 2 ** Math.min(polls, pollBackoffDoublingsMax), timing.pollDelayMaxMs);
}

export function adapterFor(rt: Runtime, bank: BankRow): BankAdapter {
  return createBankAdapter({
    protocol: protocolOfAdapter(bank.adapter),
    endpoint: bank.endpoint,
    sign: (b) => rt.signer.sign(b),
    timeoutMs: rt.timing.refunds.bankTimeoutMs,
  });
}

/** Refunds per message at this bank: ours, or the protocol's lower cap. */
export function messageSizeFor(rt: Runtime, bank: BankRow): number {
  return Math.min(refundsPerMessageMax, adapterFor(rt, bank).transfersPerMessageMax);
}

const later = (ms: number) => new Date(Date.now() + ms);
const trimError = (e: unknown) => String((e as Error)?.message ?? e).slice(0, attemptErrorCharsMax);

// ---- 2. send -------------------------------------------------------------------------------

export function batchOf(c: ClaimedMessage, now: Date): TransferBatch {
  return {
    messageId: c.messageId,
    createdAt: now,
    requestedExecutionDate: businessDate(now),
    debtor: { accountNumber: c.bank.trust_account_number, name: c.bank.trust_account_name, bankCode: c.bank.bank_code },
    transfers: c.items.map(({ attempt, refund }) => ({
      endToEndId: attempt.end_to_end_id,
      amountFen: attempt.amount_fen,
      currency: 'CNY' as const,
      creditor: { accountNumber: attempt.creditor_account_number, name: attempt.creditor_account_name, bankCode: attempt.creditor_bank_code ?? undefined },
      remittance: `投标保证金退还 ${refund.id}`,
    })),
  };
}

export type SubmitOutcome = 'not_claimable' | 'sent' | 'unknown' | 'settled' | 'rejected' | 'manual' | 'no_record' | 'not_in_flight';
type FinalOutcome = 'settled' | 'rejected' | 'manual' | 'no_record' | 'not_in_flight';

/** The `refunds/submit` job for one refund: claims a message of its bank's due refunds, this one
 *  first when it is still scheduled, and sends it once. Returns what became of this refund. */
export async function submitRefund(rt: Runtime, refundId: string, now = new Date()): Promise<SubmitOutcome> {
  const refund = await repo.findRefund(rt.db, refundId);
  // Most jobs of a large schedule find their refund already in a message: one read, no claim.
  if (!refund || refund.status !== 'scheduled') return 'not_claimable';
  const outcome = (await submitDue(rt, refund.bank_id, { first: refundId, now })).get(refundId);
  if (outcome) return outcome;
  // The claim passes over rows another transaction holds (SKIP LOCKED, so that two workers never
  // wait for each other). Held at that moment by something other than a claim (a person's retry
  // refused, a status being applied), this job's refund is still due once the holder is done:
  // claimed again now, not left to the minute sweep. Held by another claim, it is in that
  // message, and this job is done.
  if (!(await repo.claimableOnceFree(rt.db, refundId, refundAttemptsMax))) return 'not_claimable';
  const again = (await submitDue(rt, refund.bank_id, { first: refundId, now })).get(refundId);
  if (again) return again;
  // Held once more: the job's back-off tries again.
  throw new Error(`refund ${refundId} is due but was held by another transaction at two claims in a row`);
}

/** The `refunds/submit` job for a bank: one message of whatever is due there. When the message
 *  is full, the claim queued the next job, which claims the next message while this one is on
 *  the wire. */
export async function submitDue(rt: Runtime, bankId: string, f: { first?: string; now?: Date } = {}): Promise<Map<string, SubmitOutcome>> {
  const now = f.now ?? new Date();
  const bank = await findBank(rt.db, bankId);
  if (!bank) return new Map();
  const c = await claimMessage(rt, bankId, { first: f.first, limit: messageSizeFor(rt, bank), now });
  if (!c) return new Map();
  if (c.full) rt.outbox.kick();
  const byAttempt = await sendMessage(rt, c, now);
  return new Map(c.items.map(({ attempt, refund }) => [refund.id, byAttempt.get(attempt.id) ?? 'sent']));
}

/** Sends a claimed message once and records what the bank answered, transaction by transaction. */
export async function sendMessage(rt: Runtime, c: ClaimedMessage, now: Date): Promise<Map<string, SubmitOutcome>> {
  const out = new Map<string, SubmitOutcome>();
  const attemptIds = c.items.map((i) => i.attempt.id);
  let result;
  try {
    result = await adapterFor(rt, c.bank).sendTransfers(batchOf(c, now));
  } catch (e) {
    // Timeout, 5xx, reset, an answer we cannot read: the bank may have the whole message. Never
    // resend; ask for its status.
    await markUnknown(rt, c.messageId, attemptIds, e);
    for (const id of attemptIds) out.set(id, 'unknown');
    return out;
  }
  const report = result.report;
  const byEndToEnd = new Map((report?.transactions ?? []).map((t) => [t.endToEndId, t]));
  const groupReason = report?.groupReasonCode;
  if (!result.accepted && groupReason && duplicateMessageReasons.includes(groupReason)) {
    await markUnknown(rt, c.messageId, attemptIds, new Error(`bank reports the message as a duplicate (${groupReason})`));
    for (const id of attemptIds) out.set(id, 'unknown');
    return out;
  }
  const sent: { id: string; bankStatus: string | null }[] = [];
  const duplicates: string[] = [];
  const finals: { attemptId: string; status: TransactionStatus }[] = [];
  for (const { attempt } of c.items) {
    const tx = byEndToEnd.get(attempt.end_to_end_id);
    // The bank holds an earlier instruction with this end-to-end id: that one decides.
    if (tx?.reasonCode && duplicateMessageReasons.includes(tx.reasonCode)) duplicates.push(attempt.id);
    else if (!result.accepted) {
      // Refused (a file the bank could not take, or every transaction of it): not paid.
      const reasonCode = groupReason ?? tx?.reasonCode;
      finals.push({ attemptId: attempt.id, status: { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: report?.groupStatus ?? 'RJCT', ...(reasonCode ? { reasonCode } : {}), ...(tx?.reasonText ? { reasonText: tx.reasonText } : {}) } });
    } else if (tx && (tx.outcome === 'settled' || tx.outcome === 'rejected')) finals.push({ attemptId: attempt.id, status: tx });
    else sent.push({ id: attempt.id, bankStatus: tx?.bankStatus ?? report?.groupStatus ?? null });
  }
  const lateIds = await markMessageAnswered(rt, c.messageId, report?.groupStatus ?? null, sent, duplicates);
  for (const s of sent) out.set(s.id, 'sent');
  for (const d of duplicates) out.set(d, 'unknown');
  if (lateIds.length > 0) {
    rt.log.warn({ messageId: c.messageId, attempts: lateIds.length }, 'the bank acknowledged attempts already given up; their next attempts follow them');
  }
  for (const [id, o] of await applyStatuses(rt, c.messageId, finals)) out.set(id, o);
  return out;
}

/** The bank's answer to a message it took: the message sent, the acknowledged attempts sent,
 *  those it holds an earlier instruction for (DUPL) followed as unknown, and a first poll.
 *  Returns the attempts that were already given up as "no record" while on the way. */
async function markMessageAnswered(rt: Runtime, messageId: string, groupStatus: string | null, sent: { id: string; bankStatus: string | null }[], duplicates: string[]): Promise<string[]> {
  const delay = pollDelayFor(rt.timing.refunds, 0);
  const now = new Date();
  const late = await rt.db.transaction(async (tx) => {
    await mrepo.markMessageSent(tx, messageId, { bankStatus: groupStatus, nextPollAt: later(delay), now });
    const moved = await mrepo.markAttemptsSent(tx, sent, now);
    await mrepo.markAttemptsUnknown(tx, duplicates, { lastError: 'the bank already holds an instruction with this end-to-end id (DUPL); following it', now });
    const lateIds = sent.filter((s) => !moved.has(s.id)).map((s) => s.id);
    if (lateIds.length > 0) {
      // This worker was paused or slow past every grace: these attempts were already given up
      // as "no record" while their instructions were still on the way. The bank has them now,
      // so each refund's next attempt goes at once and follows its instruction as a duplicate.
      const refunds = await tx('refund_attempts').whereIn('id', lateIds).pluck('refund_id');
      for (const refundId of refunds) await repo.releaseHold(tx, refundId);
    }
    if (moved.size + duplicates.length > 0) await enqueueMessagePoll(tx, messageId, 1, delay);
    else await mrepo.finishMessageIfDone(tx, messageId, now);
    return lateIds;
  });
  rt.outbox.kick();
  return late;
}

async function markUnknown(rt: Runtime, messageId: string, attemptIds: string[], e: unknown): Promise<void> {
  rt.log.warn({ messageId, attempts: attemptIds.length, err: trimError(e), unreachable: e instanceof BankUnreachable }, 'payment message outcome unknown; will ask the bank for status');
  const delay = pollDelayFor(rt.timing.refunds, 0);
  await rt.db.transaction(async (tx) => {
    const now = new Date();
    const n = await mrepo.markMessageUnknown(tx, messageId, { lastError: trimError(e), nextPollAt: later(delay), now });
    await mrepo.markAttemptsUnknown(tx, attemptIds, { lastError: trimError(e), now });
    if (n === 1) await enqueueMessagePoll(tx, messageId, 1, delay);
  });
  rt.outbox.kick();
}

// ---- 3. poll ---------------------------------------------------------------------------------

export type PollOutcome = 'not_in_flight' | 'pending' | 'settled' | 'rejected' | 'manual' | 'no_record' | 'unreachable';

/** What the bank says of the refund's end-to-end id across every message it was sent in: one
 *  settlement anywhere settles it; an instruction still pending anywhere keeps us waiting; a
 *  rejection counts only for the current message (an earlier one's rejection is what made this
 *  attempt), and a DUPL refusal is not a rejection but a pointer to the earlier instruction. */
export function combinedStatus(current: string, endToEndId: string, byMessage: { messageId: string; status: TransactionStatus | undefined }[]): TransactionStatus {
  const found = byMessage.filter((m) => m.status && !(m.status.reasonCode && duplicateMessageReasons.includes(m.status.reasonCode)));
  const settled = found.find((m) => m.status!.outcome === 'settled');
  if (settled) return settled.status!;
  const pending = found.find((m) => m.status!.outcome === 'pending');
  if (pending) return pending.status!;
  const mine = found.find((m) => m.messageId === current && m.status!.outcome === 'rejected');
  if (mine) return mine.status!;
  const duplicate = byMessage.find((m) => m.messageId === current && m.status?.reasonCode && duplicateMessageReasons.includes(m.status.reasonCode));
  // Refused as a duplicate, and no earlier message known to the bank: keep asking.
  if (duplicate) return { endToEndId, outcome: 'pending', bankStatus: duplicate.status!.bankStatus };
  return { endToEndId, outcome: 'unknown', bankStatus: '' };
}

/** The `bank-status/poll` job: asks the bank once what became of a message in flight, and gives
 *  each of its refunds still in flight the answer about its own transaction. */
export async function pollMessage(rt: Runtime, messageId: string): Promise<Map<string, PollOutcome>> {
  const out = new Map<string, PollOutcome>();
  const message = await mrepo.findMessage(rt.db, messageId);
  if (!message || !mrepo.inFlightMessageStatuses.includes(message.status)) return out;
  const attempts = await mrepo.inFlightAttemptsOf(rt.db, messageId);
  if (attempts.length === 0) {
    await rt.db.transaction((tx) => mrepo.finishMessageIfDone(tx, messageId, new Date()));
    return out;
  }
  // A worker may still be sending this one; its own answer decides.
  if (message.status === 'sending' && Math.min(...attempts.map((a) => a.since_created_ms)) < rt.timing.refunds.sendingStaleMs) {
    await reschedulePoll(rt, message, { lastError: null });
    for (const a of attempts) out.set(a.id, 'pending');
    return out;
  }
  const bank = (await findBank(rt.db, message.bank_id))!;
  const byMessage = new Map<string, { messageId: string; status: TransactionStatus | undefined }[]>();
  let report: StatusReport;
  try {
    const adapter = adapterFor(rt, bank);
    report = await adapter.getStatus(messageId, attempts.map((a) => a.end_to_end_id));
    const current = new Map(report.transactions.map((t) => [t.endToEndId, t]));
    for (const a of attempts) byMessage.set(a.id, [{ messageId, status: current.get(a.end_to_end_id) }]);
    // Refunds sent before under the same end-to-end id: the earlier messages may be the ones the
    // bank acted on. Asked once per message, about every refund of ours it carried.
    const retried = attempts.filter((a) => a.seq > 1 && current.get(a.end_to_end_id)?.outcome !== 'settled');
    const earlier = await mrepo.earlierMessagesOf(rt.db, retried, statusMessagesPerPollMax - 1);
    const asked = new Map<string, typeof attempts>();
    for (const a of retried) {
      for (const m of earlier.get(a.refund_id) ?? []) {
        if (!asked.has(m) && asked.size >= earlierMessagesPerPollMax) continue;
        asked.set(m, [...(asked.get(m) ?? []), a]);
      }
    }
    for (const [m, carried] of asked) {
      const r = await adapter.getStatus(m, carried.map((a) => a.end_to_end_id));
      const found = new Map(r.transactions.map((t) => [t.endToEndId, t]));
      for (const a of carried) byMessage.get(a.id)!.push({ messageId: m, status: found.get(a.end_to_end_id) });
    }
  } catch (e) {
    await reschedulePoll(rt, message, { lastError: trimError(e) });
    for (const a of attempts) out.set(a.id, 'unreachable');
    return out;
  }
  const finals: { attemptId: string; status: TransactionStatus; giveUp?: boolean }[] = [];
  let pending = 0;
  for (const a of attempts) {
    const status = combinedStatus(messageId, a.end_to_end_id, byMessage.get(a.id)!);
    if (status.outcome === 'settled' || status.outcome === 'rejected') finals.push({ attemptId: a.id, status });
    // The bank never confirmed receipt and says it has no record. Only once that has held for
    // the grace period (a request that timed out may still be on its way) is a new attempt
    // considered, and even then it is held back (retryAfterNoRecordMs).
    else if (status.outcome === 'unknown' && a.status !== 'sent' && a.since_unknown_ms >= rt.timing.refunds.noRecordGraceMs) finals.push({ attemptId: a.id, status });
    else if (a.since_created_ms >= rt.timing.refunds.statusHorizonMs) finals.push({ attemptId: a.id, status, giveUp: true });
    else {
      pending++;
      out.set(a.id, 'pending');
    }
  }
  if (pending > 0) await reschedulePoll(rt, message, { bankStatus: report.groupStatus ?? null, lastError: null });
  for (const [id, o] of await applyStatuses(rt, messageId, finals)) out.set(id, o);
  return out;
}

/** One attempt's view of its message's poll (the tests' and the old jobs' entry point). */
export async function pollAttempt(rt: Runtime, attemptId: string): Promise<PollOutcome> {
  const attempt = await repo.findAttempt(rt.db, attemptId);
  if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight';
  return (await pollMessage(rt, attempt.message_id)).get(attemptId) ?? 'not_in_flight';
}

async function reschedulePoll(rt: Runtime, message: mrepo.MessageRow, f: { bankStatus?: string | null; lastError: string | null }): Promise<void> {
  const delay = pollDelayFor(rt.timing.refunds, message.polls + 1);
  await rt.db.transaction(async (tx) => {
    const n = await mrepo.countMessagePoll(tx, message, { nextPollAt: later(delay), bankStatus: f.bankStatus, lastError: f.lastError, now: new Date() });
    if (n === 1) await enqueueMessagePoll(tx, message.id, message.polls + 2, delay);
  });
  rt.outbox.kick();
}

// ---- 4. final status -----------------------------------------------------------------------

/** Applies a final answer (or "no record") to an attempt in flight, once. */
export async function applyStatus(rt: Runtime, attemptId: string, status: TransactionStatus): Promise<FinalOutcome> {
  const attempt = await repo.findAttempt(rt.db, attemptId);
  if (!attempt) return 'not_in_flight';
  return (await applyStatuses(rt, attempt.message_id, [{ attemptId, status }])).get(attemptId) ?? 'not_in_flight';
}

/** Applies final answers to attempts of one message, each once: settled ones settle together,
 *  the others each reverse their own reservation. `giveUp`: no final status within the horizon. */
export async function applyStatuses(rt: Runtime, messageId: string, finals: { attemptId: string; status: TransactionStatus; giveUp?: boolean }[]): Promise<Map<string, FinalOutcome>> {
  const out = new Map<string, FinalOutcome>();
  for (let i = 0; i < finals.length; i += statusesPerTransactionMax) {
    const part = finals.slice(i, i + statusesPerTransactionMax);
    await rt.db.transaction(async (tx) => {
      const { attempts, refunds } = await mrepo.lockInFlight(tx, part.map((p) => p.attemptId));
      const locked = new Map(attempts.map((a) => [a.id, a]));
      const now = new Date();
      const settlements: Settlement[] = [];
      for (const p of part) {
        const attempt = locked.get(p.attemptId);
        if (!attempt) {
          out.set(p.attemptId, 'not_in_flight');
          continue;
        }
        const refund = refunds.get(attempt.refund_id)!;
        assert(refund.status === 'submitted', `refund ${refund.id} with an attempt in flight is submitted, not ${refund.status}`);
        if (p.giveUp) out.set(p.attemptId, await giveUpOnStatus(rt, tx, attempt, refund, p.status, now));
        else if (p.status.outcome === 'settled') {
          settlements.push({ attempt, refund, status: p.status });
          out.set(p.attemptId, 'settled');
        } else out.set(p.attemptId, await failAttempt(rt, tx, attempt, refund, p.status, now));
      }
      await settleMany(rt, tx, settlements, now);
      await mrepo.finishMessageIfDone(tx, messageId, now);
    });
  }
  rt.outbox.kick();
  return out;
}

/** A rejection or "no record": nothing left the trust account for this refund. */
async function failAttempt(rt: Runtime, tx: Parameters<typeof reverseJournal>[0], attempt: repo.AttemptRow, refund: repo.RefundRow, status: TransactionStatus, now: Date): Promise<FinalOutcome> {
  const finalStatus = status.outcome === 'rejected' ? 'rejected' : 'no_record';
  await repo.finishAttempt(tx, attempt.id, {
    status: finalStatus,
    bankStatus: status.bankStatus || null,
    reasonCode: status.reasonCode ?? null,
    reasonText: status.reasonText?.slice(0, attemptErrorCharsMax) ?? null,
    now,
  });
  // The reservation is undone.
  await reverseJournal(tx, attempt.reserve_journal_id, `refund ${refund.id} attempt ${attempt.seq} ${finalStatus} ${status.reasonCode ?? ''}`.trim());
  const { next, manualCode, manualReason } = r17AfterFailedAttempt({ attemptStatus: finalStatus, reasonCode: status.reasonCode, attemptsCount: refund.attempts_count });
  const holdMs = finalStatus === 'no_record' ? rt.timing.refunds.retryAfterNoRecordMs : rt.timing.refunds.retryDelayMs;
  await repo.moveAfterFailedAttempt(tx, refund.id, { status: next, holdMs, lastReasonCode: status.reasonCode ?? null, manualCode, manualReason, now });
  if (next === 'scheduled') await enqueueRefundSubmit(tx, refund.id, attempt.seq + 1, holdMs);
  await appendAudit(tx, {
    actor: { type: 'system' },
    action: next === 'manual' ? 'refund.manual' : 'refund.retry_scheduled',
    entityType: 'refund',
    entityId: refund.id,
    data: { attemptId: attempt.id, messageId: attempt.message_id, attemptStatus: finalStatus, reasonCode: status.reasonCode ?? null, reason: manualReason },
  });
  return next === 'manual' ? 'manual' : finalStatus;
}

/** Past `statusHorizonMs` without a final answer a person must look: the attempt ends, its
 *  reservation is undone (if the bank pays it after all, reconciliation shows the debit), and the
 *  refund waits in manual handling as `status_unknown`. A retry carries the same end-to-end id,
 *  so the bank still cannot pay twice. */
async function giveUpOnStatus(rt: Runtime, tx: Parameters<typeof reverseJournal>[0], attempt: repo.AttemptRow, refund: repo.RefundRow, last: TransactionStatus, now: Date): Promise<'manual'> {
  await repo.finishAttempt(tx, attempt.id, { status: 'no_record', bankStatus: last.bankStatus || null, reasonCode: 'status_unknown', reasonText: `no final status within ${Math.round(rt.timing.refunds.statusHorizonMs / 3600_000)} h`, now });
  await reverseJournal(tx, attempt.reserve_journal_id, `refund ${refund.id} attempt ${attempt.seq}: no final status from the bank`);
  const manualReason = `the bank gave no final status for end-to-end id ${attempt.end_to_end_id} within the horizon; ask the bank, then retry (the same end-to-end id is sent again) or decide`;
  await repo.moveAfterFailedAttempt(tx, refund.id, { status: 'manual', holdMs: 0, lastReasonCode: 'status_unknown', manualCode: 'status_unknown', manualReason, now });
  await appendAudit(tx, { actor: { type: 'system' }, action: 'refund.manual', entityType: 'refund', entityId: refund.id, data: { attemptId: attempt.id, messageId: attempt.message_id, attemptStatus: 'no_record', reasonCode: 'status_unknown', reason: manualReason } });
  return 'manual';
}
