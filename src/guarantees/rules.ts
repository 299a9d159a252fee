// Pure checks of a guarantee against its section, each named by its rule id. Every check is
// evaluated (not stopped at the first failure) so that an issuer learns all that is wrong at once.
import { bankCategoryName, sameBankForGuarantee, type GuaranteeBankMatch } from '../domain/bankCode';
import { describeRequirement, type RequiredSecurity } from '../domain/creditReduction';
import { formatAmount } from '../domain/money';
import { checkR3BeforeDeadline, checkValidityCovers, r12Grounds, type R12Ground, type RuleCheck } from '../domain/rules';

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
  /** What the applicant must secure where its credit grade reduces the section's security (R4);
   *  the section's full security when absent. */
  requirement?: RequiredSecurity;
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

/** Who stands behind a guarantee: the bidder's basic-account bank (R6) and the bank the issuer
 *  is registered as. */
export interface GuaranteeParties {
  basicAccountBankCode: string;
  /** The issuer's registered bank code; null for insurers and guarantee companies. */
  issuerBankCode: string | null;
}

/** The columns of a guarantee on record that its facts are read from. */
export interface GuaranteeFactColumns {
  kind: GuaranteeKind;
  beneficiary_uscc: string;
  project_code: string;
  section_code: string;
  amount_fen: bigint;
  valid_from: string;
  valid_to: string;
  issued_at: Date;
  issuing_bank_code: string | null;
}

/** The facts of a guarantee on record. */
export function factsOf(g: GuaranteeFactColumns): GuaranteeFacts {
  return {
    kind: g.kind,
    beneficiaryUscc: g.beneficiary_uscc,
    projectCode: g.project_code,
    sectionCode: g.section_code,
    amountFen: g.amount_fen,
    validFrom: g.valid_from,
    validTo: g.valid_to,
    issuedAt: g.issued_at,
    issuingBankCode: g.issuing_bank_code,
  };
}

/** R2: valid from no later than the deadline until deadline + bid-validity days. */
export function checkR2Validity(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  return checkValidityCovers({ validFrom: g.validFrom, validTo: g.validTo, bidDeadline: s.bidDeadline, bidValidityDays: s.bidValidityDays });
}

/** R3: issued before the bid deadline, judged as deposits are (domain/rules.ts). An issuer
 *  stamps the time of issue, so the shared check always decides here (never `undecidable`); the
 *  check kept is the plain {rule, ok, detail}. */
export function checkR3IssuedBeforeDeadline(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const { rule, ok, detail, verdict } = checkR3BeforeDeadline(g.issuedAt, s.bidDeadline, 'issued');
  if (verdict === 'undecidable') throw new Error('assertion: a guarantee is issued at a stated time, so R3 decides it');
  return { rule, ok, detail };
}

/** R4: the amount covers the required deposit, reduced for the applicant's credit grade where
 *  the section grants a reduction for it. */
export function checkR4Amount(g: GuaranteeFacts, s: SectionFacts): RuleCheck {
  const requiredFen = s.requirement?.requiredFen ?? s.depositAmountFen;
  const required = s.requirement ? describeRequirement(s.requirement) : formatAmount(requiredFen);
  const ok = g.amountFen >= requiredFen;
  return ok
    ? { rule: 'R4', ok, detail: `amount ${formatAmount(g.amountFen)} covers the required ${required}` }
    : { rule: 'R4', ok, detail: `amount ${formatAmount(g.amountFen)} is less than the required ${required}` };
}

/** R6: a bank guarantee comes from the bidder's basic-account bank (per section policy).
 *  Other kinds are not bank-issued, so the rule does not apply to them. The issuing branch must
 *  first be the issuer's own, whatever the policy: an issuer registered as one bank that names
 *  another bank's branch would pass R6 on a bank that never issued anything. A branch of the
 *  same head office (the R6 `bank` comparison) is its own; any other is not. */
export function checkR6IssuingBank(g: GuaranteeFacts, s: SectionFacts, parties: GuaranteeParties): RuleCheck {
  if (g.kind !== 'bank') return { rule: 'R6', ok: true, detail: `R6 does not apply to a ${g.kind} guarantee` };
  if (!g.issuingBankCode) return { rule: 'R6', ok: false, detail: 'a bank guarantee must name its issuing bank code' };
  if (!parties.issuerBankCode) return { rule: 'R6', ok: false, detail: 'the issuer has no registered bank code, so no branch can be its own' };
  const own = sameBankForGuarantee(g.issuingBankCode, parties.issuerBankCode, 'bank');
  if (!own.ok) {
    return {
      rule: 'R6',
      ok: false,
      detail: `issuing bank ${bankCategoryName(g.issuingBankCode)} ${g.issuingBankCode} is not a branch of the issuer's registered bank ${bankCategoryName(parties.issuerBankCode)} ${parties.issuerBankCode}: an issuer issues only from its own bank`,
    };
  }
  const r = sameBankForGuarantee(g.issuingBankCode, parties.basicAccountBankCode, s.guaranteeBankMatch);
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
export function checkGuarantee(g: GuaranteeFacts, s: SectionFacts, parties: GuaranteeParties): RuleCheck[] {
  return [
    checkR2Validity(g, s),
    checkR3IssuedBeforeDeadline(g, s),
    checkR4Amount(g, s),
    checkR6IssuingBank(g, s, parties),
    checkR7Beneficiary(g, s),
    checkR8KindAccepted(g, s),
  ];
}

/** What an amendment may change is re-checked against the rules it can break. */
export function checkAmendment(g: GuaranteeFacts, s: SectionFacts): RuleCheck[] {
  return [checkR2Validity(g, s), checkR4Amount(g, s)];
}

/** R12: a claim is made on the same grounds, and the same facts, as a forfeiture. */
export const claimReasons = r12Grounds;
export type ClaimReason = R12Ground;

/** R7: one guarantee secures one bidder on one section. The detail goes back to the issuing
 *  issuer and is stored with its guarantee: it names the other guarantee only when that one is
 *  the same issuer's own record. Another issuer's guarantee id would tell a competitor who
 *  secured this bid with whom. `other.issuerId` undefined: the other guarantee is not known
 *  (it committed meanwhile), and is named no more than another issuer's. */
export function checkR7OneLive(other: { id: string; issuerId?: string } | undefined, issuerId: string): RuleCheck {
  if (!other) return { rule: 'R7', ok: true, detail: 'one guarantee per bidder and section: no other guarantee for this bidder here' };
  return other.issuerId === issuerId
    ? { rule: 'R7', ok: false, detail: `one guarantee per bidder and section: your guarantee ${other.id} already secures this bidder here` }
    : { rule: 'R7', ok: false, detail: 'one guarantee per bidder and section: this bidder is already secured by another guarantee here' };
}

/** R7: an issuance naming an application answers it only for that section, bidder and kind. */
export function checkR7AnswersApplication(a: { id: string; sectionId: string; bidderId: string; kind: GuaranteeKind }, g: { sectionId: string; bidderId: string; kind: GuaranteeKind }): RuleCheck {
  const ok = a.sectionId === g.sectionId && a.bidderId === g.bidderId && a.kind === g.kind;
  return { rule: 'R7', ok, detail: ok ? `answers application ${a.id}` : `does not answer application ${a.id} (another section, bidder or kind)` };
}

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
