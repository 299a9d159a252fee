// A credit the bank notified becomes a deposit, in the transaction that records it: matched to
// the bidder and section by its virtual sub-account, checked (R3, R4, R5), posted to the ledger,
// and, where it does not secure the bid or exceeds the requirement, scheduled to go back where
// it came from (R15, R17). Nothing here trusts the bank message beyond what it says happened.
// Every credit has an end: valid (refunded by a section event), invalid (returned at once,
// also when the section has nothing left to secure: R11, R16), or held for the centre where R3
// cannot be decided from a date-only booking (its decision goes through `judgeR4` and
// `announce` here, like a credit). The work itself is set-based (creditBatch.ts): one credit is
// a batch of one.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert } from '../errors';
import type { Calendar } from '../domain/calendar';
import type { CreditEntry } from '../banks/types';
import type { BankRow, SectionRow } from '../registry/repo';
import { postJournal, type AccountSpec, type PostedJournal } from '../ledger';
import { requirementFor } from '../credit/service';
import { scheduleRefunds } from '../refunds/service';
import * as repo from './repo';
import { recordCredits, trustCreditJournal, type RecordOutcome } from './creditBatch';
import { announceVerdict, receiptCreditOf, requestReceipt } from './creditEffects';
import type { RuleCheck } from './rules';
import { r4Verdict, toppedUpChecks, type Standing, type Verdict } from './verdicts';

export { creditJournalRef, type Verdict } from './verdicts';
export { creditRowFor, type RecordOutcome } from './creditBatch';
export { scheduleRefundsOwed } from './creditEffects';

/** Records one bank entry as a deposit; `calendar` dates the refunds it owes (R19).
 *  `notifiedAt` is when the bank's notice of the entry reached us, which bounds a booking given
 *  as a date only (R3: a bank books before it notifies); null for an entry recovered from a
 *  statement, which has no notice. */
export async function recordCredit(
  tx: Knex.Transaction,
  calendar: Calendar,
  bank: BankRow,
  messageId: string,
  entry: CreditEntry,
  notifiedAt: Date | null = new Date(),
): Promise<RecordOutcome> {
  const [outcome] = await recordCredits(tx, calendar, bank, [{ entry, messageId, notifiedAt }]);
  return outcome;
}

const standingOf = (deposits: repo.DepositRow[]): Standing[] =>
  deposits.filter((d): d is repo.DepositRow & { status: 'valid' | 'received' } => d.status === 'valid' || d.status === 'received');

/** R4 on a credit that passed R3 and R5 (`checks`), against the bidder's other deposits on the
 *  section and its requirement after any credit reduction (verdicts.ts, `r4Verdict`). */
export async function judgeR4(tx: Knex.Transaction, section: SectionRow, bidderId: string, creditFen: bigint, checks: RuleCheck[]): Promise<Verdict> {
  return r4Verdict(section, standingOf(await repo.depositsOf(tx, section.id, bidderId)), creditFen, checks, await requirementFor(tx, section, bidderId));
}

/** The waiting credits a valid verdict tops up (R4), the audit events of the verdict and the
 *  receipts of what became valid; the deposit's own row already carries the verdict. */
export async function announce(
  tx: Knex.Transaction,
  actor: Actor,
  d: { depositId: string; creditId: string; section: SectionRow; bidderId: string; amountFen: bigint },
  v: Verdict,
  now: Date,
): Promise<void> {
  if (v.status === 'valid') {
    for (const w of v.waiting) {
      const n = await repo.markToppedUp(tx, w.id, toppedUpChecks(w, d.depositId, v), now);
      assert(n === 1, `waiting deposit ${w.id} is still received`);
    }
  }
  await announceVerdict(tx, actor, d, v, async (id) => {
    const deposit = (await repo.findDeposit(tx, id))!;
    const credit = (await repo.findCredit(tx, deposit.credit_id))!;
    await requestReceipt(tx, { subject: deposit, credit: receiptCreditOf(credit) });
  });
}

/** The bank's booking into the trust account, in the ledger: Dr trust / Cr `counter`, once per
 *  bank entry, under the journal kind and ref reconciliation matches by the bank's reference. */
export async function postTrustCredit(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry, counter: AccountSpec, memo: string): Promise<PostedJournal> {
  const posted = await postJournal(tx, trustCreditJournal(bank, entry, counter, memo));
  // The credits row is unique on the same key, so reaching here twice is a bug.
  assert(posted.created, `entry ${entry.entryRef} posted once`);
  return posted;
}

/** For the opening: credits still short of the requirement at the deadline never secured the
 *  bid (R4) and go back to where they came from, due by `calendar` (R19). */
export async function invalidateShortDeposits(tx: Knex.Transaction, calendar: Calendar, sectionId: string, at = new Date()): Promise<string[]> {
  const waiting = await repo.lockReceivedDepositsOf(tx, sectionId);
  // One statement each for the section, whatever its size: the rows are locked above.
  const r4 = { rule: 'R4', ok: false, detail: 'the total was short of the required amount at the deadline' };
  const marked = await repo.markManyInvalid(tx, waiting.map((d) => ({ id: d.id, failedRules: ['R4'], checks: [...d.checks.filter((c) => c.rule !== 'R4'), r4] })), at);
  assert(marked === waiting.length, `short deposits of ${sectionId} changed under their lock (${marked} of ${waiting.length} marked)`);
  for (const d of waiting) {
    await appendAudit(tx, { actor: { type: 'system' }, action: 'deposit.invalid', entityType: 'deposit', entityId: d.id, data: { sectionId, bidderId: d.bidder_id, rules: ['R4'] } });
  }
  await scheduleRefunds(tx, calendar, waiting.map((d) => ({ depositId: d.id, reason: 'invalid' as const, principalFen: d.amount_fen, eventAt: at })));
  return waiting.map((d) => d.id);
}
