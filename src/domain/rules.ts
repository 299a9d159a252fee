// Pure checks of DESIGN rules that need no records, each named by its rule id.
import { formatAmount } from './money';
import { addCalendarDays, toBusinessDate } from './time';

export interface RuleCheck {
  rule: string;
  ok: boolean;
  detail: string;
}

/** The cap works sections commonly set (¥800,000), for forms to offer; never applied unless
 *  the section sets it. */
export const worksDepositCapFenCommon = 80_000_000n;
/** R1: 2% = 1/50. */
const depositShareDenominator = 50n;

/** R1: deposit ≤ 2% of the estimated price (budget under government_procurement), and ≤ the
 *  section's absolute cap when it has one. Compared as deposit × 50 ≤ price, so no rounding. */
export function checkDepositCap(args: { estimatedPriceFen: bigint; depositAmountFen: bigint; capFen?: bigint | null }): RuleCheck {
  const { estimatedPriceFen, depositAmountFen, capFen } = args;
  for (const [name, v] of [['estimatedPriceFen', estimatedPriceFen], ['depositAmountFen', depositAmountFen]] as const) {
    if (typeof v !== 'bigint') throw new Error(`assertion: ${name} must be a bigint`);
  }
  if (capFen !== undefined && capFen !== null && (typeof capFen !== 'bigint' || capFen <= 0n)) {
    throw new Error('assertion: capFen must be a positive bigint');
  }
  if (depositAmountFen <= 0n) return { rule: 'R1', ok: false, detail: 'deposit amount must be greater than zero' };
  if (estimatedPriceFen <= 0n) return { rule: 'R1', ok: false, detail: 'estimated price must be greater than zero' };
  if (depositAmountFen * depositShareDenominator > estimatedPriceFen) {
    const maxFen = estimatedPriceFen / depositShareDenominator;
    return {
      rule: 'R1',
      ok: false,
      detail: `deposit ${formatAmount(depositAmountFen)} exceeds 2% of the estimated price ${formatAmount(estimatedPriceFen)} (at most ${formatAmount(maxFen)})`,
    };
  }
  if (capFen !== undefined && capFen !== null && depositAmountFen > capFen) {
    return { rule: 'R1', ok: false, detail: `deposit ${formatAmount(depositAmountFen)} exceeds the section's cap ${formatAmount(capFen)}` };
  }
  return { rule: 'R1', ok: true, detail: `deposit ${formatAmount(depositAmountFen)} is within 2% of ${formatAmount(estimatedPriceFen)}${capFen ? ` and the cap ${formatAmount(capFen)}` : ''}` };
}

/** R2: the last business date a security must still be valid on: the deadline's date plus the
 *  bid-validity days (validity runs from the deadline, its own day not counted). */
export function requiredValidUntil(bidDeadline: Date | string, bidValidityDays: number): string {
  if (!Number.isSafeInteger(bidValidityDays) || bidValidityDays < 0) throw new Error('assertion: bidValidityDays must be a non-negative integer');
  return addCalendarDays(toBusinessDate(bidDeadline), bidValidityDays);
}

/** R2: a security valid over [validFrom, validTo] (business dates, inclusive) covers the bid:
 *  it starts no later than the deadline's date and lasts until `requiredValidUntil`. */
export function checkValidityCovers(args: {
  validFrom: string;
  validTo: string;
  bidDeadline: Date | string;
  bidValidityDays: number;
}): RuleCheck {
  const validFrom = toBusinessDate(args.validFrom);
  const validTo = toBusinessDate(args.validTo);
  const deadlineDate = toBusinessDate(args.bidDeadline);
  const until = requiredValidUntil(args.bidDeadline, args.bidValidityDays);
  if (validFrom > deadlineDate) return { rule: 'R2', ok: false, detail: `valid only from ${validFrom}, after the bid deadline ${deadlineDate}` };
  if (validTo < until) return { rule: 'R2', ok: false, detail: `valid until ${validTo}, must be valid until at least ${until}` };
  return { rule: 'R2', ok: true, detail: `valid ${validFrom} to ${validTo} covers ${deadlineDate} to ${until}` };
}
