// Executes scheduled refunds through the deposit bank. The order of steps is what keeps money
// safe when processes die or banks time out:
//   1. claim: one transaction moves the refund scheduled → submitted (guarded), records the
//      attempt with its amounts and ids, and reserves the money in the ledger
//      (Dr deposit liability, interest — from the bank's interest income first —, late fee /
//      Cr refunds in flight);
//   2. send, after commit: the instruction exists in our records before the bank can see it;
//   3. an unknown outcome (timeout, 5xx, crash) is never sent again: we ask the bank for status
//      until it answers. When it says it has no record of the message for the grace period, a
//      new attempt is held back for hours (`retryAfterNoRecordMs`), then sent with a new message
//      id and the refund's one end-to-end id: a bank that still held the first instruction
//      refuses the second as a duplicate (DUPL), and we follow the first instead of paying twice;
//   4. the final status settles (Dr in flight / Cr trust) or reverses the reservation; an
//      instruction with no final status past `statusHorizonMs` goes to a person;
//   5. a settled payment the payee's bank sends back (退汇, returns.ts) waits for a person; a
//      retry then goes under a new end-to-end id (rules.ts `endToEndIdAfterReturn`), the only
//      case in which a refund's id changes, since the old id's one payment is provably over.
// Every step is a guarded state change, so a job run twice, or by two workers, acts once, and
// every age is measured on the database's clock.
import { appendAudit } from '../audit/service';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankUnreachable, type BankAdapter, type TransactionStatus, type TransferBatch } from '../banks/types';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import {
  depositAccountSpec,
  postJournal,
  refundsInFlightAccountSpec,
  reverseJournal,
  type AccountSpec,
} from '../ledger';
import { findCredit, findDeposit } from '../deposits/repo';
import { findBank, findSection, type BankRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import type { RefundTiming } from '../timing';
import { enqueueAttemptPoll, enqueueRefundSubmit } from './enqueue';
import { interestFunding } from './interestIncome';
import { settle } from './settle';
import * as repo from './repo';
import { principalOnly, r13RefundAmounts, r17AfterFailedAttempt, r17Payee, rateTables, refundAttemptsMax } from './rules';

/** A file or instruction the bank says it already has: the earlier copy is what it acts on. */
export const duplicateMessageReasons: readonly string[] = ['DU01', 'DUPL'];
/** Earlier messages asked about per poll; attempts per refund are bounded well below this. */
export const statusMessagesPerPollMax = 10;
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
    const refund = await repo.claimScheduled(tx, refundId, refundAttemptsMax, now);
    if (!refund) {
      // A scheduled refund whose attempts are spent waits for a person (it got here through a
      // path that did not move it to manual, e.g. a limit lowered between releases).
      await repo.parkExhausted(tx, refundId, refundAttemptsMax, `no settlement after ${refundAttemptsMax} attempts`, now);
      return null;
    }
    const deposit = (await findDeposit(tx, refund.deposit_id))!;
    const credit = (await findCredit(tx, deposit.credit_id))!;
    const sectionId = refund.section_id ?? deposit.section_id;
    const section = sectionId ? await findSection(tx, sectionId) : undefined;
    const bank = (await findBank(tx, refund.bank_id))!;
    // One end-to-end id is one instruction for one amount: every attempt after the first sends
    // the first one's amounts, so whichever of them the bank executes pays the same.
    // A refund whose payment came back (退汇) owes exactly what came back, and sends it again
    // under a new end-to-end id: the first attempt under that id takes the returned payment's
    // amounts.
    const returned = await repo.lastReturnedAttempt(tx, refund.id, refund.end_to_end_id);
    const first = (await repo.firstAttemptUnder(tx, refund.id, refund.end_to_end_id)) ?? returned;
    // A credit returned from suspense belongs to no section and secured no bid.
    const amounts = first
      ? { principalFen: first.principal_fen, interestFen: first.interest_fen, lateFeeFen: first.late_fee_fen, totalFen: first.amount_fen, interestFrom: first.interest_from, valueDate: first.value_date }
      : section
      ? r13RefundAmounts({ principalFen: refund.principal_fen, creditValueDate: credit.value_date, valueDate: businessDate(now), dueBy: refund.due_by, regime: section.regime, rates: rateTables(rt.tables) })
      : principalOnly(refund.principal_fen, businessDate(now));
    const creditor = r17Payee(refund, await repo.latestAccountDecision(tx, refund.id));
    const seq = (await repo.lastAttemptSeq(tx, refund.id)) + 1;
    const attemptId = newId('att');
    const body = attemptId.slice('att_'.length);
    const liability = depositAccountSpec(deposit.id, bank.id, deposit.section_id ?? undefined);
    const postings = returned
      ? // The returned money (interest and late fee included) was credited back to the deposit's
        // liability when it came back (returns.ts): it is paid from there, whole, and the
        // interest is not charged to income or expense a second time.
        [
          { account: liability, amountFen: amounts.totalFen },
          { account: refundsInFlightAccountSpec(bank.id), amountFen: -amounts.totalFen },
        ]
      : [
          { account: liability, amountFen: amounts.principalFen },
          // R13 interest comes from the interest the bank paid on the trust account, as far as
          // it goes; the rest is the centre's expense (interestIncome.ts).
          ...(await interestFunding(tx, bank.id, amounts.interestFen)),
          ...(amounts.lateFeeFen > 0n ? [{ account: lateFeeExpenseAccountSpec, amountFen: amounts.lateFeeFen }] : []),
          { account: refundsInFlightAccountSpec(bank.id), amountFen: -amounts.totalFen },
        ];
    const reserve = await postJournal(tx, { kind: 'refund_reserve', ref: attemptId, memo: `refund ${refund.id} attempt ${seq}`, postings });
    assert(reserve.created, `reserve journal for ${attemptId} is new`);
    const attempt = await repo.insertAttempt(tx, {
      id: attemptId,
      refund_id: refund.id,
      seq,
      // ISO 20022 ids are at most 35 characters. The message id is new per attempt; the
      // end-to-end id is the refund's (for life, unless a payment came back), so the bank can
      // refuse a second payment.
      end_to_end_id: refund.end_to_end_id,
      message_id: `M${body}`,
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
    });
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
  if (tx?.reasonCode && duplicateMessageReasons.includes(tx.reasonCode)) {
    // The bank holds an earlier instruction with this end-to-end id: that one decides.
    await markUnknown(rt, c.attempt, new Error(`bank already holds an instruction with end-to-end id ${c.attempt.end_to_end_id} (${tx.reasonCode}); following it`));
    return 'unknown';
  }
  if (tx && (tx.outcome === 'settled' || tx.outcome === 'rejected')) return applyStatus(rt, c.attempt.id, tx);
  const sent = await rt.db.transaction(async (trx) => {
    const n = await repo.markAttemptSent(trx, c.attempt.id, { bankStatus: tx?.bankStatus ?? result.report?.groupStatus ?? null, nextPollAt: later(pollDelayFor(rt.timing.refunds, 0)), now: new Date() });
    if (n === 1) await enqueueAttemptPoll(trx, c.attempt.id, 1, pollDelayFor(rt.timing.refunds, 0));
    else {
      // This worker was paused or slow past every grace: the attempt was already given up as
      // "no record" while its instruction was still on the way. The bank has it now, so the
      // refund's next attempt goes at once and follows it as a duplicate.
      await repo.releaseHold(trx, c.refund.id);
    }
    return n === 1;
  });
  rt.outbox.kick();
  if (!sent) rt.log.warn({ attemptId: c.attempt.id, refundId: c.refund.id }, 'the bank acknowledged an attempt already given up; the next attempt follows it');
  return 'sent';
}

async function markUnknown(rt: Runtime, attempt: repo.AttemptRow, e: unknown): Promise<void> {
  rt.log.warn({ attemptId: attempt.id, err: trimError(e), unreachable: e instanceof BankUnreachable }, 'refund instruction outcome unknown; will ask the bank for status');
  await rt.db.transaction(async (tx) => {
    const n = await repo.markAttemptUnknown(tx, attempt.id, { lastError: trimError(e), nextPollAt: later(pollDelayFor(rt.timing.refunds, 0)), now: new Date() });
    if (n === 1) await enqueueAttemptPoll(tx, attempt.id, 1, pollDelayFor(rt.timing.refunds, 0));
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

/** The `bank-status/poll` job: asks the bank what became of an attempt in flight. */
export async function pollAttempt(rt: Runtime, attemptId: string): Promise<PollOutcome> {
  const attempt = await repo.findAttempt(rt.db, attemptId);
  if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight';
  const ages = await repo.attemptAges(rt.db, attemptId);
  // A worker may still be sending this one; its own answer decides.
  if (attempt.status === 'sending' && ages.sinceCreatedMs < rt.timing.refunds.sendingStaleMs) {
    await reschedulePoll(rt, attempt, { lastError: null });
    return 'pending';
  }
  const refund = (await repo.findRefund(rt.db, attempt.refund_id))!;
  const bank = (await findBank(rt.db, refund.bank_id))!;
  let status: TransactionStatus;
  try {
    const adapter = adapterFor(rt, bank);
    const messages = await repo.messageIdsOf(rt.db, refund.id, attempt.end_to_end_id, statusMessagesPerPollMax);
    const byMessage = [];
    for (const messageId of messages) {
      const report = await adapter.getStatus(messageId, [attempt.end_to_end_id]);
      byMessage.push({ messageId, status: report.transactions.find((t) => t.endToEndId === attempt.end_to_end_id) });
      if (byMessage.at(-1)!.status?.outcome === 'settled') break;
    }
    status = combinedStatus(attempt.message_id, attempt.end_to_end_id, byMessage);
  } catch (e) {
    await reschedulePoll(rt, attempt, { lastError: trimError(e) });
    return 'unreachable';
  }
  if (status.outcome === 'settled' || status.outcome === 'rejected') return applyStatus(rt, attemptId, status);
  if (status.outcome === 'unknown' && attempt.status !== 'sent') {
    // The bank never confirmed receipt and says it has no record. Only once that has held for
    // the grace period (a request that timed out may still be on its way) is a new attempt
    // considered, and even then it is held back (retryAfterNoRecordMs).
    if (ages.sinceUnknownMs >= rt.timing.refunds.noRecordGraceMs) return applyStatus(rt, attemptId, status);
  }
  if (ages.sinceCreatedMs >= rt.timing.refunds.statusHorizonMs) return giveUpOnStatus(rt, attemptId, status);
  await reschedulePoll(rt, attempt, { bankStatus: status.bankStatus || null, lastError: null });
  return 'pending';
}

async function reschedulePoll(rt: Runtime, attempt: repo.AttemptRow, f: { bankStatus?: string | null; lastError: string | null }): Promise<void> {
  const delay = pollDelayFor(rt.timing.refunds, attempt.polls + 1);
  await rt.db.transaction(async (tx) => {
    const n = await repo.countPoll(tx, attempt, { nextPollAt: later(delay), bankStatus: f.bankStatus, lastError: f.lastError, now: new Date() });
    if (n === 1) await enqueueAttemptPoll(tx, attempt.id, attempt.polls + 2, delay);
  });
  rt.outbox.kick();
}

// ---- 4. final status -----------------------------------------------------------------------

/** Applies a final answer (or "no record") to an attempt in flight, once. */
export async function applyStatus(rt: Runtime, attemptId: string, status: TransactionStatus): Promise<'settled' | 'rejected' | 'manual' | 'no_record' | 'not_in_flight'> {
  const outcome = await rt.db.transaction(async (tx) => {
    const attempt = await repo.lockAttempt(tx, attemptId);
    if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight' as const;
    const refund = (await repo.lockRefund(tx, attempt.refund_id))!;
    assert(refund.status === 'submitted', `refund ${refund.id} with an attempt in flight is submitted, not ${refund.status}`);
    const now = new Date();
    if (status.outcome === 'settled') return settle(rt, tx, attempt, refund, status, now);
    const finalStatus = status.outcome === 'rejected' ? 'rejected' : 'no_record';
    await repo.finishAttempt(tx, attempt.id, {
      status: finalStatus,
      bankStatus: status.bankStatus || null,
      reasonCode: status.reasonCode ?? null,
      reasonText: status.reasonText?.slice(0, attemptErrorCharsMax) ?? null,
      now,
    });
    // Nothing left the trust account: the reservation is undone.
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
      data: { attemptId: attempt.id, attemptStatus: finalStatus, reasonCode: status.reasonCode ?? null, reason: manualReason },
    });
    return next === 'manual' ? ('manual' as const) : finalStatus === 'no_record' ? ('no_record' as const) : ('rejected' as const);
  });
  rt.outbox.kick();
  return outcome;
}

/** Past `statusHorizonMs` without a final answer a person must look: the attempt ends, its
 *  reservation is undone (if the bank pays it after all, reconciliation shows the debit), and the
 *  refund waits in manual handling as `status_unknown`. A retry carries the same end-to-end id,
 *  so the bank still cannot pay twice. */
async function giveUpOnStatus(rt: Runtime, attemptId: string, last: TransactionStatus): Promise<'manual' | 'not_in_flight'> {
  const outcome = await rt.db.transaction(async (tx) => {
    const attempt = await repo.lockAttempt(tx, attemptId);
    if (!attempt || !repo.inFlightAttemptStatuses.includes(attempt.status)) return 'not_in_flight' as const;
    const refund = (await repo.lockRefund(tx, attempt.refund_id))!;
    const now = new Date();
    await repo.finishAttempt(tx, attempt.id, { status: 'no_record', bankStatus: last.bankStatus || null, reasonCode: 'status_unknown', reasonText: `no final status within ${Math.round(rt.timing.refunds.statusHorizonMs / 3600_000)} h`, now });
    await reverseJournal(tx, attempt.reserve_journal_id, `refund ${refund.id} attempt ${attempt.seq}: no final status from the bank`);
    const manualReason = `the bank gave no final status for end-to-end id ${attempt.end_to_end_id} within the horizon; ask the bank, then retry (the same end-to-end id is sent again) or decide`;
    await repo.moveAfterFailedAttempt(tx, refund.id, { status: 'manual', holdMs: 0, lastReasonCode: 'status_unknown', manualCode: 'status_unknown', manualReason, now });
    await appendAudit(tx, { actor: { type: 'system' }, action: 'refund.manual', entityType: 'refund', entityId: refund.id, data: { attemptId: attempt.id, attemptStatus: 'no_record', reasonCode: 'status_unknown', reason: manualReason } });
    return 'manual' as const;
  });
  rt.outbox.kick();
  return outcome;
}
