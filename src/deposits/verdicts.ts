// What a matched credit is, by the rules (R3, R4, R5, and R11/R16 for a finished section), from
// facts already read: pure, so one credit and a batch of thousands are judged by the same code.
import { describeRequirement, requiredSecurity, type RequiredSecurity } from '../domain/creditReduction';
import type { SectionRow } from '../registry/repo';
import type { StoredCheck } from './repo';
import { checkSectionTakesCredits, r3BookedBeforeDeadline, r4Total, r5FromBasicAccount, type R4Outcome, type RuleCheck } from './rules';

/** The ledger reference of a bank entry: one journal per entry, ever. */
export const creditJournalRef = (bankId: string, entryRef: string) => `${bankId}:${entryRef}`;

/** A deposit of the same bidder on the same section that counts towards R4: valid, or received
 *  and waiting for a top-up. */
export interface Standing {
  id: string;
  status: 'valid' | 'received';
  amount_fen: bigint;
  excess_fen: bigint;
  checks: StoredCheck[];
}

export type Verdict =
  /** Failed R3, R4 (currency or short after the opening) or R5, or came to a section with
   *  nothing left to secure (R11, R16): it never secures the bid and goes back whole (R15). */
  | { status: 'invalid'; checks: RuleCheck[]; failed: string[] }
  /** R3 cannot be decided (a date-only booking on the deadline's day, not notified before the
   *  deadline): it secures nothing and is not returned until the centre decides. */
  | { status: 'held'; checks: RuleCheck[]; reason: string }
  /** Passed, but the bidder's total is still short (R4): it waits for a top-up. */
  | { status: 'received'; checks: RuleCheck[]; r4: Extract<R4Outcome, { kind: 'short' }>; required: RequiredSecurity }
  /** Passed and the total reaches the requirement: the waiting credits become valid with it. */
  | { status: 'valid'; checks: RuleCheck[]; r4: Exclude<R4Outcome, { kind: 'short' }>; waiting: Standing[]; required: RequiredSecurity };

export interface CreditFacts {
  bookedAt: Date;
  bookingDateOnly: boolean;
  /** When the notice reached us; null for a credit recovered from a statement. */
  notifiedAt: Date | null;
  amountFen: bigint;
  debtor: { accountNumber: string; name: string };
}

/** The section's full security: what R4 asks of a bidder no credit reduction applies to. */
export const fullRequirement = (section: Pick<SectionRow, 'deposit_amount_fen' | 'bid_deadline'>): RequiredSecurity =>
  requiredSecurity({ depositAmountFen: section.deposit_amount_fen, bidDeadline: section.bid_deadline, creditReductions: [] }, []);

/** R11/R16, then R3 and R5, then R4 against `others` (the bidder's standing deposits on the
 *  section, oldest first) and `required`, the bidder's requirement (its credit reduction). */
export function judgeCredit(section: SectionRow, basic: { number: string; name: string }, credit: CreditFacts, others: Standing[], required: RequiredSecurity = fullRequirement(section)): Verdict {
  const ended = checkSectionTakesCredits({ status: section.status, contractSignedAt: section.contract_signed_at, terminatedAt: section.terminated_at });
  if (ended) return { status: 'invalid', checks: [ended], failed: [ended.rule] };
  const r3 = r3BookedBeforeDeadline(credit.bookedAt, section.bid_deadline, { dateOnly: credit.bookingDateOnly, notifiedAt: credit.notifiedAt });
  const r3Check: RuleCheck = { rule: r3.rule, ok: r3.ok, detail: r3.detail };
  const checks: RuleCheck[] = [r3Check, r5FromBasicAccount(credit.debtor, basic)];
  // An R3 that cannot be decided is not a failure; a credit failing another rule goes back
  // whatever R3 would have said.
  const failed = checks.filter((c) => !c.ok && !(c === r3Check && r3.verdict === 'undecidable')).map((c) => c.rule);
  if (failed.length > 0) return { status: 'invalid', checks, failed };
  if (r3.verdict === 'undecidable') return { status: 'held', checks, reason: r3.detail };
  return r4Verdict(section, others, credit.amountFen, checks, required);
}

/** R4 on a credit that passed R3 and R5 (`checks`), against the bidder's other deposits on the
 *  section. After the opening a credit still short can never be topped up in time: it goes
 *  back, as the opening returned those short at the deadline (`invalidateShortDeposits`). */
export function r4Verdict(section: SectionRow, others: Standing[], creditFen: bigint, checks: RuleCheck[], required: RequiredSecurity = fullRequirement(section)): Verdict {
  const securedFen = others.filter((d) => d.status === 'valid').reduce((s, d) => s + d.amount_fen - d.excess_fen, 0n);
  // An exempt bidder's waiting credits (paid before its grade exempted it) are not topped up
  // into securing a bid that needs nothing: they keep waiting and go back whole at the opening.
  const waiting = required.requiredFen === 0n ? [] : others.filter((d) => d.status === 'received');
  const waitingFen = waiting.reduce((s, d) => s + d.amount_fen, 0n);
  const r4 = r4Total({ requiredFen: required.requiredFen, securedFen, waitingFen, creditFen });
  // The check names the reduction and its finding: the deposit's record says why less was enough.
  if (required.reduction) r4.check.detail = `${r4.check.detail}; required ${describeRequirement(required)}`;
  if (r4.kind === 'short' && section.opened_at !== null) {
    const short: RuleCheck = { rule: 'R4', ok: false, detail: `${r4.check.detail.replace(/; awaiting a top-up$/, '')}: short of the requirement, and the bids were opened ${section.opened_at.toISOString()}` };
    return { status: 'invalid', checks: [...checks, short], failed: ['R4'] };
  }
  const all = [...checks, r4.check];
  if (r4.kind === 'short') return { status: 'received', checks: all, r4, required };
  return { status: 'valid', checks: all, r4, waiting, required };
}

/** A waiting deposit's checks once a later credit tops it up to the requirement (R4). */
export function toppedUpChecks(w: Standing, byDepositId: string, v: Extract<Verdict, { status: 'valid' }>): StoredCheck[] {
  return [...w.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: true, detail: `topped up by ${byDepositId}: ${v.r4.check.detail}` }];
}
