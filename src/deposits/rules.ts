// The checks a cash deposit passes or fails, each named by its rule id. Pure: no I/O, no clock.
import { assert } from '../errors';
import { formatAmount } from '../domain/money';
import { checkR3BeforeDeadline, type R3Check, type R3Timing } from '../domain/rules';
import { normalizeName, sameName } from '../domain/names';
import type { Caller } from '../http/auth';

export interface RuleCheck {
  rule: 'R3' | 'R4' | 'R5' | 'R11' | 'R16';
  ok: boolean;
  detail: string;
}

/** R3: a deposit counts only if the bank booked it before the bid deadline (the booking time,
 *  not when we heard of it: a late notification of a timely payment is timely). A booking given
 *  as a date only is bounded by its notice (domain/rules.ts): on the deadline's day with no
 *  notice before the deadline it is `undecidable` and held for the centre. */
export function r3BookedBeforeDeadline(bookedAt: Date, bidDeadline: Date, timing: R3Timing = {}): R3Check {
  return checkR3BeforeDeadline(bookedAt, bidDeadline, 'booked', timing);
}

/** What a section's lifecycle says about taking a credit. */
export interface SectionEndFacts {
  status: string;
  contractSignedAt: Date | null;
  terminatedAt: Date | null;
}

/** R11, R16: a section past its contract (contracted, closed) or terminated has nothing left for
 *  a deposit to secure, and every deposit on it has been or is being refunded; a credit to it
 *  must not wait for an event that has already happened: it goes straight back to its source.
 *  Undefined while the section can still be secured. */
export function checkSectionTakesCredits(s: SectionEndFacts): RuleCheck | undefined {
  if (s.status === 'terminated') {
    const when = s.terminatedAt ? ` on ${s.terminatedAt.toISOString()}` : '';
    return { rule: 'R16', ok: false, detail: `the section was terminated${when}: it has nothing left to secure and every deposit on it is refunded, so this credit is returned to its source` };
  }
  if (s.status === 'contracted' || s.status === 'closed') {
    const when = s.contractSignedAt ? ` on ${s.contractSignedAt.toISOString()}` : '';
    return { rule: 'R11', ok: false, detail: `the section is ${s.status} (contract signed${when}): every deposit on it is refunded, so this credit is returned to its source` };
  }
  return undefined;
}

/** R3: the deposit waits for the centre's decision on R3 (a date-only booking it could not
 *  judge), as opposed to a deposit held for another reason (a returned refund waiting for a
 *  decision on where it goes, R17): nothing failed, and its R3 check did not pass. */
export function heldOnR3(d: { status: string; checks: { rule: string; ok: boolean }[]; failed_rules: string[] }): boolean {
  return d.status === 'held' && d.failed_rules.length === 0 && d.checks.some((c) => c.rule === 'R3' && !c.ok);
}

/** R5: paid from the bidder's registered basic account: the account number exactly, the name
 *  after normalising width, spacing and Latin case (names.ts). */
export function r5FromBasicAccount(
  debtor: { accountNumber: string; name: string },
  basic: { number: string; name: string },
): RuleCheck {
  const numberOk = debtor.accountNumber === basic.number;
  const nameOk = sameName(debtor.name, basic.name);
  if (numberOk && nameOk) return { rule: 'R5', ok: true, detail: 'paid from the registered basic account' };
  const problems: string[] = [];
  if (!numberOk) problems.push(`payer account ${debtor.accountNumber || '(none)'} is not the basic account ${basic.number}`);
  if (!nameOk) problems.push(`payer name ${JSON.stringify(normalizeName(debtor.name))} is not the basic-account name ${JSON.stringify(normalizeName(basic.name))}`);
  return { rule: 'R5', ok: false, detail: problems.join('; ') };
}

/** R4 (currency part): the required amount is in CNY; a credit in anything else cannot count
 *  towards it and is returned as it came. */
export function r4Currency(currency: string): RuleCheck | undefined {
  return currency === 'CNY' ? undefined : { rule: 'R4', ok: false, detail: `credited in ${currency}, the deposit is required in CNY` };
}

export type R4Outcome =
  /** The total is still short of the requirement: the credit waits (status received). */
  | { kind: 'short'; totalFen: bigint; check: RuleCheck }
  /** This credit brings the total to the requirement: every waiting credit becomes valid and
   *  anything above the requirement is returned. */
  | { kind: 'complete'; totalFen: bigint; excessFen: bigint; check: RuleCheck }
  /** The requirement was already met: all of this credit is excess. */
  | { kind: 'surplus'; totalFen: bigint; excessFen: bigint; check: RuleCheck };

/** R4: the bidder's credits for the section add up; the deposit secures the bid once their
 *  total reaches the required amount, and any excess is returned. */
export function r4Total(args: { requiredFen: bigint; securedFen: bigint; waitingFen: bigint; creditFen: bigint }): R4Outcome {
  const { requiredFen, securedFen, waitingFen, creditFen } = args;
  if (requiredFen < 0n || securedFen < 0n || waitingFen < 0n || creditFen <= 0n) throw new Error('assertion: R4 amounts out of range');
  // Nothing required: the bidder's credit grade exempts it (信用免缴), so none of its money secures
  // anything and all of it goes back as excess, never held nor kept.
  if (requiredFen === 0n) {
    return {
      kind: 'surplus',
      totalFen: securedFen + creditFen,
      excessFen: creditFen,
      check: { rule: 'R4', ok: true, detail: `nothing is required of an exempt bidder; all ${formatAmount(creditFen)} of this credit is excess and returned` },
    };
  }
  const req = formatAmount(requiredFen);
  if (securedFen >= requiredFen) {
    return {
      kind: 'surplus',
      totalFen: securedFen + creditFen,
      excessFen: creditFen,
      check: { rule: 'R4', ok: true, detail: `the required ${req} was already secured; all ${formatAmount(creditFen)} of this credit is excess and returned` },
    };
  }
  const totalFen = securedFen + waitingFen + creditFen;
  if (totalFen < requiredFen) {
    return { kind: 'short', totalFen, check: { rule: 'R4', ok: false, detail: `credited ${formatAmount(totalFen)} of the required ${req}; awaiting a top-up` } };
  }
  const excessFen = totalFen - requiredFen;
  return {
    kind: 'complete',
    totalFen,
    excessFen,
    check: {
      rule: 'R4',
      ok: true,
      detail: excessFen > 0n ? `credited ${formatAmount(totalFen)} of the required ${req}; the excess ${formatAmount(excessFen)} is returned` : `credited ${formatAmount(totalFen)}, the required ${req}`,
    },
  };
}

/** R12: the only reasons a deposit may be kept (实施条例 35, 74). */
export { r12Grounds as forfeitReasons, type R12Ground as ForfeitReason } from '../domain/rules';

/** Which deposits a caller may see. */
export type DepositScope = { kind: 'all' } | { kind: 'bidder'; bidderId: string } | { kind: 'tenderee'; tendereeId: string };

/** R18: before opening only the centre, the auditor and the bidder itself learn who paid; a
 *  tenderee sees the deposits of its own sections once they are opened. */
export function r18DepositScope(caller: Caller): DepositScope {
  if (caller.role === 'bidder') return { kind: 'bidder', bidderId: caller.bidderId! };
  if (caller.role === 'tenderee') return { kind: 'tenderee', tendereeId: caller.tendereeId! };
  assert(caller.role === 'centre' || caller.role === 'auditor', `role ${caller.role} may list deposits`);
  return { kind: 'all' };
}
