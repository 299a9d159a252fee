// Pure checks of a guarantee against its section, each named by its rule id. Every check is
// evaluated (not stopped at the first failure) so that an issuer learns all that is wrong at once.
import { sameBankForGuarantee, type GuaranteeBankMatch } from '../domain/bankCode';
import { formatAmount } from '../domain/money';
import { checkValidityCovers, type RuleCheck } from '../domain/rules';

export type { RuleCheck };
export type GuaranteeKind = 'bank' | 'insurance' | 'guarantor';

export interface SectionFacts {
  projectCode: string;
  sectionCode: string;
  tendereeUscc: string;
  depositAmountFen: bigint;
  bidDeadline: Date;
  bidValidityDays: number;
  acceptedSecurity: readonly string[];
  guaranteeBankMatch: GuaranteeBankMatch;
}

export interface GuaranteeFacts {
  kind: GuaranteeKind;
  beneficiaryUscc: string;
  projectCode: string;
  sectionCode: string;
  amountFen: bigint;
  validFrom: string;
  validTo: string;
  issuedAt: Date;
  /** Only for bank guarantees. */
  issuingBankCode?: string | null;
}

/** R2: valid from no later than the deadline until deadline + bid-validity days. */
export function checkR2Validity(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  return checkValidityCovers({ validFrom: g.validFrom, validTo: g.validTo, bidDeadline: s.bidDeadline, bidValidityDays: s.bidValidityDays });
}

/** R3: issued before the bid deadline (strictly: at the deadline is too late). */
export function checkR3IssuedBeforeDeadline(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const ok = g.issuedAt.getTime() < s.bidDeadline.getTime();
  return ok
    ? { rule: 'R3', ok, detail: `issued ${g.issuedAt.toISOString()}, before the bid deadline ${s.bidDeadline.toISOString()}` }
    : { rule: 'R3', ok, detail: `issued ${g.issuedAt.toISOString()}, not before the bid deadline ${s.bidDeadline.toISOString()}` };
}

/** R4: the amount covers the required deposit. */
export function checkR4Amount(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const ok = g.amountFen >= s.depositAmountFen;
  return ok
    ? { rule: 'R4', ok, detail: `amount ${formatAmount(g.amountFen)} covers the required ${formatAmount(s.depositAmountFen)}` }
    : { rule: 'R4', ok, detail: `amount ${formatAmount(g.amountFen)} is less than the required ${formatAmount(s.depositAmountFen)}` };
}

/** R6: a bank guarantee comes from the bidder's basic-account bank (per section policy).
 *  Other kinds are not bank-issued, so the rule does not apply to them. */
export function checkR6IssuingBank(g: GuaranteeFacts, s: SectionFacts, basicAccountBankCode: string): RuleCheck {
  if (g.kind !== 'bank') return { rule: 'R6', ok: true, detail: `R6 does not apply to a ${g.kind} guarantee` };
  if (!g.issuingBankCode) return { rule: 'R6', ok: false, detail: 'a bank guarantee must name its issuing bank code' };
  const r = sameBankForGuarantee(g.issuingBankCode, basicAccountBankCode, s.guaranteeBankMatch);
  return { rule: 'R6', ok: r.ok, detail: r.detail };
}

/** R7: beneficiary is the tenderee, and the codes name this section. */
export function checkR7Beneficiary(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const ok = g.beneficiaryUscc === s.tendereeUscc;
  return ok
    ? { rule: 'R7', ok, detail: `beneficiary ${g.beneficiaryUscc} is the section's tenderee` }
    : { rule: 'R7', ok, detail: `beneficiary ${g.beneficiaryUscc} is not the section's tenderee ${s.tendereeUscc}` };
}

/** R8: the section lists this kind of security as accepted. */
export function checkR8KindAccepted(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const ok = s.acceptedSecurity.includes(g.kind);
  return ok
    ? { rule: 'R8', ok, detail: `the section accepts ${g.kind} guarantees` }
    : { rule: 'R8', ok, detail: `the section accepts only ${s.acceptedSecurity.join(', ')}, not ${g.kind} guarantees` };
}

/** Every rule that can be judged from the guarantee and its section alone. The codes already
 *  selected the section, so they match by construction; R7's uniqueness checks need records. */
export function checkGuarantee(g: GuaranteeFacts, s: SectionFacts, basicAccountBankCode: string): RuleCheck[] {
  return [
    checkR2Validity(g, s),
    checkR3IssuedBeforeDeadline(g, s),
    checkR4Amount(g, s),
    checkR6IssuingBank(g, s, basicAccountBankCode),
    checkR7Beneficiary(g, s),
    checkR8KindAccepted(g, s),
  ];
}

/** What an amendment may change is re-checked against the rules it can break. */
export function checkAmendment(g: GuaranteeFacts, s: SectionFacts): RuleCheck[] {
  return [checkR2Validity(g, s), checkR4Amount(g, s)];
}

export const claimReasons = ['withdrawal_after_deadline', 'refused_to_sign', 'conditions_at_signing', 'no_performance_security', 'false_documents'] as const;
export type ClaimReason = (typeof claimReasons)[number];
/** R12 reasons only the winner can give; they presuppose an award. */
export const winnerClaimReasons: readonly ClaimReason[] = ['refused_to_sign', 'conditions_at_signing', 'no_performance_security'];

// The guarantee lifecycle: the legal moves and nothing else.
export type GuaranteeStatus = 'issued' | 'amended' | 'secured' | 'released' | 'claimed' | 'claim_paid' | 'claim_refused' | 'rejected' | 'cancelled' | 'expired';
export const guaranteeStatuses: readonly GuaranteeStatus[] = ['issued', 'amended', 'secured', 'released', 'claimed', 'claim_paid', 'claim_refused', 'rejected', 'cancelled', 'expired'];
/** Statuses in which a guarantee still stands for its bidder (the partial unique index too). */
export const liveStatuses: readonly GuaranteeStatus[] = ['issued', 'amended', 'secured', 'released', 'claimed', 'claim_paid', 'claim_refused'];
export const inForceStatuses: readonly GuaranteeStatus[] = ['issued', 'amended', 'secured'];

export type GuaranteeTransition = 'amended' | 'cancelled' | 'claim_paid' | 'claim_refused' | 'secured' | 'released' | 'claimed';
const legalFrom: Record<GuaranteeTransition, readonly GuaranteeStatus[]> = {
  amended: ['issued', 'amended'],
  cancelled: ['issued', 'amended'],
  secured: ['issued', 'amended'],
  released: ['issued', 'amended', 'secured'],
  claimed: ['issued', 'amended', 'secured'],
  claim_paid: ['claimed'],
  claim_refused: ['claimed'],
};

export function isLegalTransition(from: GuaranteeStatus, event: GuaranteeTransition): boolean {
  return legalFrom[event].includes(from);
}
