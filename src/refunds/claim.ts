// Step 1 of the executor (executor.ts), for a whole payment message: one transaction moves up to
// refundsPerMessageMax due refunds of one bank scheduled → submitted (guarded, SKIP LOCKED, so
// two workers never put one refund in two messages), computes each one's amounts, reserves each
// one's money with its own journal (Dr deposit liability, interest — from the bank's interest
// income first —, late fee / Cr refunds in flight), records the message and one attempt per
// refund (the refund's own end-to-end id), and audits each. Nothing has left for the bank yet.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { businessDate } from '../domain/time';
import { depositAccountSpec, refundsInFlightAccountSpec, type AccountSpec, type JournalInput } from '../ledger';
import type { CreditRow, DepositRow } from '../deposits/repo';
import { findBank, type BankRow, type SectionRow } from '../registry/repo';
import type { Runtime } from '../runtime';
import { enqueueBankSubmit } from './enqueue';
import { interestFundingOfMany } from './interestIncome';
import { postNewJournals } from './journals';
import * as mrepo from './messagesRepo';
import type * as repo from './repo';
import { principalOnly, r13RefundAmounts, r17Payee, rateTables, refundAttemptsMax, type RefundAmounts } from './rules';

/** Refunds carried by one payment message. A bank's own cap (transfersPerMessageMax of its
 *  adapter) is lower for some protocols; the smaller of the two applies. */
export const refundsPerMessageMax = 1_000;
/** Refunds whose attempts are spent, moved to a person per claim that found nothing to send. */
export const exhaustedParkedPerClaimMax = 500;
export const lateFeeExpenseAccountSpec: AccountSpec = { code: 'late_fee_expense', type: 'expense' };

export interface ClaimedMessage {
  messageId: string;
  bank: BankRow;
  /** The attempts, in message order, each with its refund as claimed. */
  items: { attempt: repo.AttemptRow; refund: repo.RefundRow }[];
  /** The claim took as many refunds as a message carries: more may be waiting. */
  full: boolean;
}

async function byId<T extends { id: string }>(tx: Knex.Transaction, table: string, ids: string[]): Promise<Map<string, T>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, T>();
  for (let i = 0; i < unique.length; i += 2_000) {
    for (const r of (await tx(table).whereIn('id', unique.slice(i, i + 2_000))) as T[]) out.set(r.id, r);
  }
  return out;
}

export async function claimMessage(rt: Runtime, bankId: string, f: { first?: string; limit: number; now: Date }): Promise<ClaimedMessage | null> {
  const { now } = f;
  return rt.db.transaction(async (tx) => {
    const bank = (await findBank(tx, bankId))!;
    const refunds = await mrepo.claimDueRefunds(tx, bankId, { limit: f.limit, attemptsMax: refundAttemptsMax, first: f.first, now });
    if (refunds.length === 0) {
      // A scheduled refund whose attempts are spent waits for a person (it got here through a
      // path that did not move it to manual, e.g. a limit lowered between releases).
      await mrepo.parkExhaustedAt(tx, bankId, { attemptsMax: refundAttemptsMax, manualReason: `no settlement after ${refundAttemptsMax} attempts`, limit: exhaustedParkedPerClaimMax, now });
      return null;
    }
    const ids = refunds.map((r) => r.id);
    const deposits = await byId<DepositRow>(tx, 'deposits', refunds.map((r) => r.deposit_id));
    const credits = await byId<CreditRow>(tx, 'credits', [...deposits.values()].map((d) => d.credit_id));
    const sections = await byId<SectionRow>(tx, 'sections', refunds.flatMap((r) => { const s = r.section_id ?? deposits.get(r.deposit_id)!.section_id; return s ? [s] : []; }));
    const history = new Map<string, repo.AttemptRow[]>();
    for (const a of await mrepo.attemptsOfRefunds(tx, ids)) history.set(a.refund_id, [...(history.get(a.refund_id) ?? []), a]);
    const decisions = await mrepo.latestAccountDecisions(tx, ids);
    const rates = rateTables(rt.tables);
    const plans = refunds.map((refund) => {
      const deposit = deposits.get(refund.deposit_id)!;
      const earlier = history.get(refund.id) ?? [];
      // One end-to-end id is one instruction for one amount: every attempt after the first sends
      // the first one's amounts, so whichever of them the bank executes pays the same.
      // A refund whose payment came back (退汇) owes exactly what came back, and sends it again
      // under a new end-to-end id: the first attempt under that id takes the returned payment's
      // amounts.
      const returned = earlier.filter((a) => a.status === 'settled' && a.end_to_end_id !== refund.end_to_end_id).at(-1);
      const first = earlier.find((a) => a.end_to_end_id === refund.end_to_end_id) ?? returned;
      const sectionId = refund.section_id ?? deposit.section_id;
      const section = sectionId ? sections.get(sectionId) : undefined;
      // A credit returned from suspense belongs to no section and secured no bid.
      const amounts: RefundAmounts = first
        ? { principalFen: first.principal_fen, interestFen: first.interest_fen, lateFeeFen: first.late_fee_fen, totalFen: first.amount_fen, interestFrom: first.interest_from, valueDate: first.value_date }
        : section
        ? r13RefundAmounts({ principalFen: refund.principal_fen, creditValueDate: credits.get(deposit.credit_id)!.value_date, valueDate: businessDate(now), dueBy: refund.due_by, regime: section.regime, rates })
        : principalOnly(refund.principal_fen, businessDate(now));
      const seq = earlier.reduce((m, a) => Math.max(m, a.seq), 0) + 1;
      return { refund, deposit, returned, amounts, seq, attemptId: newId('att'), creditor: r17Payee(refund, decisions.get(refund.id)) };
    });
    // R13 interest comes from the interest the bank paid on the trust account, as far as it
    // goes; the rest is the centre's expense (interestIncome.ts). A payment sent again after a
    // return pays interest already charged once, out of the deposit's liability.
    const funding = await interestFundingOfMany(tx, bank.id, plans.map((p) => (p.returned ? 0n : p.amounts.interestFen)));
    const journals: JournalInput[] = plans.map((p, i) => {
      const liability = depositAccountSpec(p.deposit.id, bank.id, p.deposit.section_id ?? undefined);
      const inFlight = { account: refundsInFlightAccountSpec(bank.id), amountFen: -p.amounts.totalFen };
      return {
        kind: 'refund_reserve',
        ref: p.attemptId,
        memo: `refund ${p.refund.id} attempt ${p.seq}`,
        postings: p.returned
          ? // The returned money (interest and late fee included) was credited back to the
            // deposit's liability when it came back (returns.ts): it is paid from there, whole.
            [{ account: liability, amountFen: p.amounts.totalFen }, inFlight]
          : [
              { account: liability, amountFen: p.amounts.principalFen },
              ...funding[i],
              ...(p.amounts.lateFeeFen > 0n ? [{ account: lateFeeExpenseAccountSpec, amountFen: p.amounts.lateFeeFen }] : []),
              inFlight,
            ],
      };
    });
    const journalIds = await postNewJournals(tx, journals);
    // ISO 20022 ids are at most 35 characters, cn-h2h batch numbers 32. The message id is new per
    // message; each end-to-end id is its refund's (for life, unless a payment came back), so the
    // bank can refuse a second payment of any one refund.
    const messageId = `M${newId('att').slice('att_'.length)}`;
    // If this worker dies before the bank answers, the sweep asks the bank after this.
    const nextPollAt = new Date(Date.now() + rt.timing.refunds.sendingStaleMs);
    await mrepo.insertMessage(tx, { id: messageId, bank_id: bank.id, transfers: plans.length, next_poll_at: nextPollAt });
    const attempts = await mrepo.insertAttempts(
      tx,
      plans.map((p, i) => ({
        id: p.attemptId,
        refund_id: p.refund.id,
        seq: p.seq,
        end_to_end_id: p.refund.end_to_end_id,
        message_id: messageId,
        principal_fen: p.amounts.principalFen,
        interest_fen: p.amounts.interestFen,
        late_fee_fen: p.amounts.lateFeeFen,
        amount_fen: p.amounts.totalFen,
        value_date: p.amounts.valueDate,
        interest_from: p.amounts.interestFrom,
        creditor_account_number: p.creditor.number,
        creditor_account_name: p.creditor.name,
        creditor_bank_code: p.creditor.bankCode ?? null,
        reserve_journal_id: journalIds[i],
        next_poll_at: nextPollAt,
      })),
    );
    const attemptById = new Map(attempts.map((a) => [a.id, a]));
    const full = plans.length >= f.limit;
    // More may be waiting: the next message is claimed by another job while this one is sent.
    if (full) await enqueueBankSubmit(tx, bank.id, messageId);
    for (const p of plans) {
      await appendAudit(tx, {
        actor: { type: 'system' },
        action: 'refund.submitted',
        entityType: 'refund',
        entityId: p.refund.id,
        data: {
          attemptId: p.attemptId,
          seq: p.seq,
          endToEndId: p.refund.end_to_end_id,
          messageId,
          principal: formatAmount(p.amounts.principalFen),
          interest: formatAmount(p.amounts.interestFen),
          lateFee: formatAmount(p.amounts.lateFeeFen),
          valueDate: p.amounts.valueDate,
        },
      });
    }
    return { messageId, bank, items: plans.map((p) => ({ attempt: attemptById.get(p.attemptId)!, refund: p.refund })), full };
  });
}
