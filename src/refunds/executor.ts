// Executes scheduled refunds through the deposit bank. The order of steps is what keeps money
// safe when processes die or banks time out:
//   1. claim: one transaction moves the refund scheduled → submitted (guarded), records the
//      attempt with its amounts and ids, and reserves the money in the ledger
//      (Dr deposit liability, interest, late fee / Cr refunds in flight);
//   2. send, after commit: the instruction exists in our records before the bank can see it;
//   3. an unknown outcome (timeout, 5xx, crash) is never sent again: we ask the bank for status
//      until it answers. Only when it says it has no record of the message is a new attempt,
//      with new ids, safe;
//   4. the final status settles (Dr in flight / Cr trust) or reverses the reservation.
// Every step is a guarded state change, so a job run twice, or by two workers, acts once.
import { appendAudit } from '../audit/service';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankUnreachable, type BankAdapter, type TransactionStatus, type TransferBatch } from '../banks/types';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import {
  depositAccountSpec,
  interestExpenseAccountSpec,
  postJournal,
  refundsInFlightAccountSpec,
  reverseJournal,
  type AccountSpec,
} from '../ledger';
import type { BankRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import type { RefundTiming } from '../timing';
import { principalOnly, rateTables, refundAmounts } from './amounts';
import { enqueueAttemptPoll, enqueueRefundSubmit } from './enqueue';
import { settle } from './settle';
import * as repo from './repo';

/** Attempts per refund (since the last recorded decision) before a person must look at it. */
export const refundAttemptsMax = 5;
/** R17: the account is gone or is not the payer's: another try cannot succeed, and paying
 *  anywhere else needs a recorded decision. */
export const permanentRejectReasons: readonly string[] = ['AC01', 'AC04', 'BE01'];
/** A file the bank says it already has: the earlier copy is what it acts on. */
export const duplicateMessageReasons: readonly string[] = ['DU01', 'DUPL'];
export const lateFeeExpenseAccountSpec: AccountSpec = { code: 'late_fee_expense', type: 'expense' };
export const attemptErrorCharsMax = 500;

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

const later = (ms: number) => new Date(Date.now() + ms);
const trimError = (e: unknown) => String((e as Error)?.message ?? e).slice(0, attemptErrorCharsMax);

// ---- 1. claim ------------------------------------------------------------------------------

interface Claimed {
  attempt: repo.AttemptRow;
  refund: repo.RefundRow;
  bank: BankRow;
}

async function claim(rt: Runtime, refundId: string, now: Date): Promise<Claimed | null> {
  return rt.db.transaction(async (tx) => {
    const claimed = (await tx('refunds')
      .where({ id: refundId, status: 'scheduled' })
      .where('attempts_count', '<', refundAttemptsMax)
      .update({ status: 'submitted', attempts_count: tx.raw('attempts_count + 1'), updated_at: now })
      .returning('*')) as repo.RefundRow[];
    if (claimed.length === 0) {
      // A scheduled refund whose attempts are spent waits for a person (it got here through a
      // path that did not move it to manual, e.g. a limit lowered between releases).
      await tx('refunds')
        .where({ id: refundId, status: 'scheduled' })
        .where('attempts_count', '>=', refundAttemptsMax)
        .update({ status: 'manual', manual_reason: `no settlement after ${refundAttemptsMax} attempts`, updated_at: now });
      return null;
    }
    const refund = claimed[0];
    const deposit = await tx('deposits').where({ id: refund.deposit_id }).first();
    const credit = await tx('credits').where({ id: deposit.credit_id }).first();
    const section = await tx('sections').where({ id: refund.section_id ?? deposit.section_id }).first('regime');
    const bank = (await tx<BankRow>('banks').where({ id: refund.bank_id }).first())!;
    // A credit returned from suspense secured no bid: no deposit interest is owed on it (R13
    // speaks of bid deposits), only the money itself goes back.
    const amounts = section
      ? refundAmounts({ principalFen: refund.principal_fen, creditValueDate: credit.value_date, valueDate: businessDate(now), dueBy: refund.due_by, regime: section.regime, rates: rateTables(rt.tables) })
      : principalOnly(refund.principal_fen, businessDate(now));
    // R17: where the money came from, unless a person recorded a decision for another account.
    const decided = await repo.latestAccountDecision(tx, refund.id);
    const creditor = decided
      ? { number: decided.account_number!, name: decided.account_name!, bankCode: decided.account_bank_code }
      : { number: refund.creditor_account_number, name: refund.creditor_account_name, bankCode: refund.creditor_bank_code };
    const seqRow = await tx('refund_attempts').where({ refund_id: refund.id }).max({ seq: 'seq' }).first();
    const seq = Number(seqRow?.seq ?? 0) + 1;
    const attemptId = newId('att');
    const body = attemptId.slice('att_'.length);
    const postings = [
      { account: depositAccountSpec(deposit.id, bank.id, deposit.section_id ?? undefined), amountFen: amounts.principalFen },
      ...(amounts.interestFen > 0n ? [{ account: interestExpenseAccountSpec, amountFen: amounts.interestFen }] : []),
      ...(amounts.lateFeeFen > 0n ? [{ account: lateFeeExpenseAccountSpec, amountFen: amounts.lateFeeFen }] : []),
      { account: refundsInFlightAccountSpec(bank.id), amountFen: -amounts.totalFen },
    ];
    const reserve = await postJournal(tx, { kind: 'refund_reserve', ref: attemptId, memo: `refund ${refund.id} attempt ${seq}`, postings });
    assert(reserve.created, `reserve journal for ${attemptId} is new`);
    const [attempt] = (await tx('refund_attempts')
      .insert({
        id: attemptId,
        refund_id: refund.id,
        seq,
        // ISO 20022 ids are at most 35 characters; both are unique per attempt, never reused.
        end_to_end_id: `E${body}`,
        message_id: `M${body}`,
        status: 'sending',
        principal_fen: amounts.principalFen,
        interest_fen: amounts.interestFen,
        late_fee_fen: amounts.lateFeeFen,
        amount_fen: amounts.totalFen,
        value_date: amounts.valueDate,
        interest_from: amounts.interestFrom,
        creditor_account_number: creditor.number,
        creditor_account_name: creditor.name,
        creditor_bank_code: creditor.bankCode ?? null,
        reserve_journal_id: reserve.journal.id,
        // If this worker dies before the bank answers, the sweep asks the bank after this.
        next_poll_at: later(rt.timing.refunds.sendingStaleMs),
      })
      .returning('*')) as repo.AttemptRow[];
    await appendAudit(tx, {
      actor: { type: 'system' },
      action: 'refund.submitted',
      entityType: 'refund',
      entityId: refund.id,
      data: {
        attemptId,
        seq,
        endToEndId: attempt.end_to_end_id,
        messageId: attempt.message_id,
        principal: formatAmount(amounts.principalFen),
        interest: formatAmount(amounts.interestFen),
        lateFee: formatAmount(amounts.lateFeeFen),
        valueDate: amounts.valueDate,
      },
    });
    return { attempt, refund, bank };
  });
}

// ---- 2. send -------------------------------------------------------------------------------

export function batchOf(c: Claimed, now: Date): TransferBatch {
  return {
    messageId: c.attempt.message_id,
    createdAt: now,
    requestedExecutionDate: businessDate(now),
    debtor: { accountNumber: c.bank.trust_account_number, name: c.bank.trust_account_name, bankCode: c.bank.bank_code },
    transfers: [
      {
        endToEndId: c.attempt.end_to_end_id,
        amountFen: c.attempt.amount_fen,
        currency: 'CNY',
        creditor: { accountNumber: c.attempt.creditor_account_number, name: c.attempt.creditor_account_name, bankCode: c.attempt.creditor_bank_code ?? undefined },
        remittance: `投标保证金退还 ${c.refund.id}`,
      },
    ],
  };
}

export type SubmitOutcome = 'not_claimable' | 'sent' | 'unknown' | 'settled' | 'rejected' | 'manual' | 'no_record' | 'not_in_flight';

/** The `refunds/submit` job: claims the refund if it is still scheduled, then sends it once. */
export async function submitRefund(rt: Runtime, refundId: string, now = new Date()): Promise<SubmitOutcome> {
  const c = await claim(rt, refundId, now);
  if (!c) return 'not_claimable';
  rt.outbox.kick();
  let result;
  try {
    result = await adapterFor(rt, c.bank).sendTransfers(batchOf(c, now));
  } catch (e) {
    // Timeout, 5xx, reset, an answer we cannot read: the bank may have the instruction. Never
    // resend; ask for status.
    await markUnknown(rt, c.attempt, e);
    return 'unknown';
  }
  const tx = result.report?.transactions.find((t) => t.endToEndId === c.attempt.end_to_end_id);
  if (!result.accepted) {
    const reason = result.report?.groupReasonCode ?? tx?.reasonCode;
    if (reason && duplicateMessageReasons.includes(reason)) {
      await markUnknown(rt, c.attempt, new Error(`bank reports a duplicate (${reason})`));
      return 'unknown';
    }
    return applyStatus(rt, c.attempt.id, { endToEndId: c.attempt.end_to_end_id, outcome: 'rejected', bankStatus: result.report?.groupStatus ?? 'RJCT', reasonCode: reason, reasonText: tx?.reasonText });
  }
  if (tx && (tx.outcome === 'settled' || tx.outcome === 'rejected')) return applyStatus(rt, c.attempt.id, tx);
  await rt.db.transaction(async (trx) => {
    const n = await trx('refund_attempts')
      .where({ id: c.attempt.id, status: 'sending' })
      .update({ status: 'sent', sent_at: new Date(), bank_status: tx?.bankStatus ?? result.report?.groupStatus ?? null, next_poll_at: later(pollDelayFor(rt.timing.refunds, 0)), updated_at: new Date() });
    if (n === 1) await enqueueAttemptPoll(trx, c.attempt.id, 1, pollDelayFor(rt.timing.refunds, 0));
  });
  rt.outbox.kick();
  return 'sent';
}

async function markUnknown(rt: Runtime, attempt: repo.AttemptRow, e: unknown): Promise<void> {
  rt.log.warn({ attemptId: attempt.id, err: trimError(e), unreachable: e instanceof BankUnreachable }, 'refund instruction outcome unknown; will ask the bank for status');
  await rt.db.transaction(async (tx) => {
    const n = await tx('refund_attempts')
      .where({ id: attempt.id, status: 'sending' })
      .update({ status: 'sent_unknown', unknown_since: new Date(), last_error: trimError(e), next_poll_at: later(pollDelayFor(rt.timing.refunds, 0)), updated_at: new Date() });
    if (n === 1) await enqueueAttemptPoll(tx, attempt.id, 1, pollDelayFor(rt.timing.refunds, 0));
  });
  rt.outbox.kick();
}

// ---- 3. poll ---------------------------------------------------------------------------------

export type PollOutcome = 'not_in_flight' | 'pending' | 'settled' | 'rejected' | 'manual' | 'no_record' | 'unreachable';

/** The `bank-status/poll` job: asks the bank what became of an attempt in flight. */
export async function pollAttempt(rt: Runtime, attemptId: string, now = new Date()): Promise<PollOutcome> {
  const attempt = await repo.findAttempt(rt.db, attemptId);
  if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight';
  // A worker may still be sending this one; its own answer decides.
  if (attempt.status === 'sending' && now.getTime() - attempt.created_at.getTime() < rt.timing.refunds.sendingStaleMs) {
    await reschedulePoll(rt, attempt, { lastError: null });
    return 'pending';
  }
  const refund = (await repo.findRefund(rt.db, attempt.refund_id))!;
  const bank = (await rt.db<BankRow>('banks').where({ id: refund.bank_id }).first())!;
  let status: TransactionStatus;
  try {
    const report = await adapterFor(rt, bank).getStatus(attempt.message_id, [attempt.end_to_end_id]);
    status = report.transactions.find((t) => t.endToEndId === attempt.end_to_end_id) ?? { endToEndId: attempt.end_to_end_id, outcome: 'unknown', bankStatus: '' };
  } catch (e) {
    await reschedulePoll(rt, attempt, { lastError: trimError(e) });
    return 'unreachable';
  }
  if (status.outcome === 'settled' || status.outcome === 'rejected') return applyStatus(rt, attemptId, status);
  if (status.outcome === 'unknown' && attempt.status !== 'sent') {
    // The bank never confirmed receipt and says it has no record. Only once that has held for
    // the grace period (a request that timed out may still be on its way) is a new attempt safe.
    const since = (attempt.unknown_since ?? attempt.created_at).getTime();
    if (now.getTime() - since >= rt.timing.refunds.noRecordGraceMs) return applyStatus(rt, attemptId, status);
  }
  await reschedulePoll(rt, attempt, { bankStatus: status.bankStatus || null, lastError: null });
  return 'pending';
}

async function reschedulePoll(rt: Runtime, attempt: repo.AttemptRow, f: { bankStatus?: string | null; lastError: string | null }): Promise<void> {
  const delay = pollDelayFor(rt.timing.refunds, attempt.polls + 1);
  await rt.db.transaction(async (tx) => {
    const n = await tx('refund_attempts')
      .where({ id: attempt.id, polls: attempt.polls })
      .whereIn('status', repo.inFlightAttemptStatuses as string[])
      .update({
        polls: attempt.polls + 1,
        next_poll_at: later(delay),
        updated_at: new Date(),
        ...(f.bankStatus !== undefined ? { bank_status: f.bankStatus } : {}),
        ...(f.lastError !== null ? { last_error: f.lastError } : {}),
      });
    if (n === 1) await enqueueAttemptPoll(tx, attempt.id, attempt.polls + 2, delay);
  });
  rt.outbox.kick();
}

// ---- 4. final status -----------------------------------------------------------------------

/** Applies a final answer (or "no record") to an attempt in flight, once. */
export async function applyStatus(rt: Runtime, attemptId: string, status: TransactionStatus): Promise<'settled' | 'rejected' | 'manual' | 'no_record' | 'not_in_flight'> {
  const outcome = await rt.db.transaction(async (tx) => {
    const attempt = (await tx<repo.AttemptRow>('refund_attempts').where({ id: attemptId }).forUpdate().first()) as repo.AttemptRow | undefined;
    if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight' as const;
    const refund = (await tx<repo.RefundRow>('refunds').where({ id: attempt.refund_id }).forUpdate().first())!;
    assert(refund.status === 'submitted', `refund ${refund.id} with an attempt in flight is submitted, not ${refund.status}`);
    const now = new Date();
    if (status.outcome === 'settled') return settle(rt, tx, attempt, refund, status, now);
    const finalStatus = status.outcome === 'rejected' ? 'rejected' : 'no_record';
    await tx('refund_attempts').where({ id: attempt.id }).update({
      status: finalStatus,
      bank_status: status.bankStatus || null,
      reason_code: status.reasonCode ?? null,
      reason_text: status.reasonText?.slice(0, attemptErrorCharsMax) ?? null,
      finished_at: now,
      next_poll_at: null,
      updated_at: now,
    });
    // Nothing left the trust account: the reservation is undone.
    await reverseJournal(tx, attempt.reserve_journal_id, `refund ${refund.id} attempt ${attempt.seq} ${finalStatus} ${status.reasonCode ?? ''}`.trim());
    const permanent = finalStatus === 'rejected' && !!status.reasonCode && permanentRejectReasons.includes(status.reasonCode);
    const exhausted = refund.attempts_count >= refundAttemptsMax;
    const next = permanent || exhausted ? 'manual' : 'scheduled';
    const manualReason = permanent
      ? `R17: the bank rejected the payee account (${status.reasonCode}); a person must decide where the money goes`
      : exhausted
        ? `no settlement after ${refundAttemptsMax} attempts (last: ${status.reasonCode ?? finalStatus})`
        : null;
    await tx('refunds').where({ id: refund.id, status: 'submitted' }).update({ status: next, last_reason_code: status.reasonCode ?? null, manual_reason: manualReason, updated_at: now });
    if (next === 'scheduled') await enqueueRefundSubmit(tx, refund.id, attempt.seq + 1, finalStatus === 'no_record' ? 0 : rt.timing.refunds.retryDelayMs);
    await appendAudit(tx, {
      actor: { type: 'system' },
      action: next === 'manual' ? 'refund.manual' : 'refund.retry_scheduled',
      entityType: 'refund',
      entityId: refund.id,
      data: { attemptId: attempt.id, attemptStatus: finalStatus, reasonCode: status.reasonCode ?? null, reason: manualReason },
    });
    return next === 'manual' ? ('manual' as const) : finalStatus === 'no_record' ? ('no_record' as const) : ('rejected' as const);
  });
  rt.outbox.kick();
  return outcome;
}
