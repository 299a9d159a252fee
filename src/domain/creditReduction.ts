// Reductions of the bid security by credit grade (按信用等级降低投标保证金): a section declares,
// when it is created, by how many percent the security of a bidder of each grade is reduced; the
// grade that counts is the one valid at the bid deadline. A reduction of 100% is an exemption
// (信用免缴投标保证金): the bidder secures nothing, anything it pays is excess and goes back (R4),
// and the roster shows it secured by its grade. Pure: no I/O, no clock.
import { formatAmount } from './money';
import { businessDate, compareDates } from './time';

/** Grades are short codes ("AAA", "A+", "B"), in capitals as the credit platforms publish them. */
export const creditGradeCharsMax = 16;
export const creditGradePattern = /^[A-Z][A-Z0-9+-]*$/;
/** Who found the grade: a platform's or an authority's name, with room for a document number. */
export const creditSourceCharsMax = 200;
/** A section grants a reduction to a handful of grades at most; more is a typo or junk. */
export const creditReductionsPerSectionMax = 20;
/** Percent of the security taken off; the whole of it is an exemption. */
export const creditReductionPercentMax = 100;
/** The percent that exempts a bidder entirely (免交投标保证金). */
export const creditExemptionPercent = 100;
const percentDenominator = 100n;

export interface CreditReduction {
  grade: string;
  /** Whole percent, 0–`creditReductionPercentMax`; `creditExemptionPercent` exempts. */
  percent: number;
}

/** A grade as recorded for a bidder: never overwritten, so `seq` (the order of recording) says
 *  which of two findings for the same days is the later one. */
export interface CreditGradeRecord {
  seq: bigint;
  grade: string;
  source: string;
  /** Business dates (Asia/Shanghai), both days included. */
  validFrom: string;
  validTo: string;
}

/** The grade a bidder holds at an instant: the finding whose period contains the instant's
 *  business date, and where findings overlap the one recorded last (a re-assessment supersedes
 *  the earlier finding for the days it covers, without erasing it). */
export function gradeValidAt(records: readonly CreditGradeRecord[], at: Date): CreditGradeRecord | undefined {
  const day = businessDate(at);
  let found: CreditGradeRecord | undefined;
  for (const r of records) {
    if (compareDates(r.validFrom, day) > 0 || compareDates(r.validTo, day) < 0) continue;
    if (!found || r.seq > found.seq) found = r;
  }
  return found;
}

/** The security after a reduction of `percent`: full × (100 − percent) / 100, rounded up to the
 *  fen, so that the bidder never secures less than the exact reduced share. Zero only for an
 *  exemption: a partial reduction of even one fen leaves a fen to secure. */
export function reducedAmountFen(fullFen: bigint, percent: number): bigint {
  if (typeof fullFen !== 'bigint' || fullFen <= 0n) throw new Error('assertion: the full security is a positive bigint of fen');
  if (!Number.isInteger(percent) || percent < 0 || percent > creditReductionPercentMax) {
    throw new Error(`assertion: a reduction is a whole percent from 0 to ${creditReductionPercentMax}, got ${percent}`);
  }
  const numerator = fullFen * (percentDenominator - BigInt(percent));
  const reduced = (numerator + percentDenominator - 1n) / percentDenominator;
  if (reduced < 0n || reduced > fullFen) throw new Error('assertion: a reduced security is at most the full one and never negative');
  if ((reduced === 0n) !== (percent === creditExemptionPercent)) throw new Error(`assertion: only an exemption leaves nothing to secure (${percent}% of ${fullFen} fen)`);
  return reduced;
}

/** What a bidder must secure on a section, and why. */
export interface RequiredSecurity {
  requiredFen: bigint;
  fullFen: bigint;
  /** The reduction applied, with the finding behind it; null when none applies. */
  reduction: null | { grade: string; percent: number; source: string; validFrom: string; validTo: string; gradeSeq: bigint };
}

export interface ReductionSection {
  depositAmountFen: bigint;
  bidDeadline: Date;
  creditReductions: readonly CreditReduction[];
}

/** R4's requirement for one bidder: the section's security, reduced for the grade the bidder
 *  holds at the bid deadline when the section grants that grade a reduction. A grade that has
 *  lapsed by the deadline, or that the section does not name, changes nothing. */
export function requiredSecurity(section: ReductionSection, records: readonly CreditGradeRecord[]): RequiredSecurity {
  const fullFen = section.depositAmountFen;
  const none: RequiredSecurity = { requiredFen: fullFen, fullFen, reduction: null };
  if (section.creditReductions.length === 0) return none;
  const held = gradeValidAt(records, section.bidDeadline);
  if (!held) return none;
  const granted = section.creditReductions.find((r) => r.grade === held.grade);
  if (!granted || granted.percent === 0) return none;
  return {
    requiredFen: reducedAmountFen(fullFen, granted.percent),
    fullFen,
    reduction: { grade: held.grade, percent: granted.percent, source: held.source, validFrom: held.validFrom, validTo: held.validTo, gradeSeq: held.seq },
  };
}

/** The bidder's grade at the deadline exempts it: it has nothing to secure (R4). */
export function isExempt(r: RequiredSecurity): boolean {
  const exempt = r.reduction !== null && r.reduction.percent === creditExemptionPercent;
  if (exempt !== (r.requiredFen === 0n)) throw new Error('assertion: nothing is required exactly when the grade exempts');
  return exempt;
}

/** The requirement in words, for rule details and instructions: the amount, and where it was
 *  reduced, from what, by how much, for which grade and on whose finding. */
export function describeRequirement(r: RequiredSecurity): string {
  if (!r.reduction) return formatAmount(r.requiredFen);
  const g = r.reduction;
  const finding = `credit grade ${g.grade}, found by ${g.source}, valid ${g.validFrom} to ${g.validTo}`;
  if (isExempt(r)) return `${formatAmount(r.requiredFen)} (exempt from the ${formatAmount(r.fullFen)} for ${finding})`;
  return `${formatAmount(r.requiredFen)} (${formatAmount(r.fullFen)} less ${g.percent}% for ${finding})`;
}

/** What an exempt bidder is told with its sub-account, in the centre's language first; null
 *  when the bidder is not exempt. */
export function exemptionNotice(r: RequiredSecurity): string | null {
  if (!r.reduction || !isExempt(r)) return null;
  const g = r.reduction;
  return (
    `免交投标保证金：信用等级 ${g.grade}（${g.source}，有效期 ${g.validFrom} 至 ${g.validTo}），应缴 ${formatAmount(r.requiredFen)} 元；如仍缴纳，全额作为多缴款项原路退回。` +
    ` Exempt from the bid security: credit grade ${g.grade} (${g.source}, valid ${g.validFrom} to ${g.validTo}) at the bid deadline; required ${formatAmount(r.requiredFen)} of ${formatAmount(r.fullFen)}; anything paid is excess and returned to its source.`
  );
}

/** The reduction as audit data: enough to find the finding again and to see its source. */
export function reductionAuditData(r: RequiredSecurity): Record<string, unknown> | null {
  if (!r.reduction) return null;
  const g = r.reduction;
  return {
    grade: g.grade,
    percent: g.percent,
    source: g.source,
    validFrom: g.validFrom,
    validTo: g.validTo,
    gradeId: g.gradeSeq.toString(),
    fullAmount: formatAmount(r.fullFen),
    required: formatAmount(r.requiredFen),
    exempt: isExempt(r),
  };
}

/** What is wrong with a section's declared reductions, or undefined: grades well formed and not
 *  repeated, percents whole and within bounds. */
export function creditReductionsProblem(list: readonly CreditReduction[]): string | undefined {
  if (list.length > creditReductionsPerSectionMax) return `at most ${creditReductionsPerSectionMax} reductions`;
  const seen = new Set<string>();
  for (const r of list) {
    if (r.grade.length > creditGradeCharsMax || !creditGradePattern.test(r.grade)) return `grade ${JSON.stringify(r.grade)} is not a credit grade (capital letters, digits, + and -, at most ${creditGradeCharsMax})`;
    if (seen.has(r.grade)) return `grade ${r.grade} is listed twice`;
    seen.add(r.grade);
    if (!Number.isInteger(r.percent) || r.percent < 0 || r.percent > creditReductionPercentMax) return `the reduction for ${r.grade} must be a whole percent from 0 to ${creditReductionPercentMax}`;
  }
  return undefined;
}
