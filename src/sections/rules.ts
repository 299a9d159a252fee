// Pure rules of the section lifecycle: who is secured at opening (R3, R4, R8) and which moves a
// section may make.
import { heldOnR3 } from '../deposits/rules';

export type SectionStatus = 'open' | 'opened' | 'awarded' | 'contracted' | 'closed' | 'terminated';
export type SectionEvent = 'opening' | 'award' | 'contract' | 'termination';

const legalFrom: Record<SectionEvent, readonly SectionStatus[]> = {
  opening: ['open'],
  award: ['opened'],
  contract: ['awarded'],
  // R16: a tender may be terminated at any point before the contract is signed.
  termination: ['open', 'opened', 'awarded'],
};
export const sectionStatusAfter: Record<SectionEvent, SectionStatus> = {
  opening: 'opened',
  award: 'awarded',
  contract: 'contracted',
  termination: 'terminated',
};

export function isLegalSectionMove(from: SectionStatus, event: SectionEvent): boolean {
  return legalFrom[event].includes(from);
}

export type RosterStatus = 'secured' | 'insufficient' | 'invalid' | 'missing';

export interface BidderSecurityFacts {
  requiredFen: bigint;
  /** Deposits of the bidder on the section, as they stand at the opening. */
  deposits: { id: string; status: string; amountFen: bigint; excessFen: bigint; failedRules: string[] }[];
  /** The bidder's guarantee on the section, if any (rejected ones included, to say why). */
  guarantee?: { id: string; number: string; status: string; amountFen: bigint; failedRules: string[] };
  withdrawn: boolean;
  /** Its grade at the bid deadline exempts it (R4 requires nothing) and it took part. */
  exempt?: boolean;
}

export interface RosterVerdict {
  security: 'cash' | 'guarantee' | 'exemption' | null;
  status: RosterStatus;
  rules: string[];
  /** The amount that counts: a valid deposit total or the guaranteed amount. */
  amountFen?: bigint;
}

const guaranteeInForce = ['issued', 'amended', 'secured'];

/** R8: a guarantee in force and a valid deposit total ≥ the requirement have equal effect. An
 *  exempt bidder (信用免缴) is secured by its grade whatever it paid or had issued: the
 *  requirement is nothing, so its money is all excess and a guarantee adds nothing to the bid. */
export function rosterVerdict(f: BidderSecurityFacts): RosterVerdict {
  if (f.withdrawn) return { security: null, status: 'missing', rules: ['R9'] };
  if (f.exempt) {
    if (f.requiredFen !== 0n) throw new Error('assertion: an exempt bidder has nothing to secure');
    return { security: 'exemption', status: 'secured', rules: ['R4'] };
  }
  const valid = f.deposits.filter((d) => d.status === 'valid');
  const cashFen = valid.reduce((s, d) => s + d.amountFen - d.excessFen, 0n);
  if (f.guarantee && guaranteeInForce.includes(f.guarantee.status)) {
    return { security: 'guarantee', status: 'secured', rules: ['R8'], amountFen: f.guarantee.amountFen };
  }
  if (valid.length > 0 && cashFen >= f.requiredFen) return { security: 'cash', status: 'secured', rules: ['R4', 'R8'], amountFen: cashFen };
  if (valid.length > 0) return { security: 'cash', status: 'insufficient', rules: ['R4'], amountFen: cashFen };
  const failed = new Set<string>();
  for (const d of f.deposits) if (d.status === 'invalid') d.failedRules.forEach((r) => failed.add(r));
  if (failed.size > 0) return { security: 'cash', status: 'invalid', rules: [...failed].sort() };
  if (f.guarantee && f.guarantee.status === 'rejected') {
    return { security: 'guarantee', status: 'invalid', rules: f.guarantee.failedRules.length ? f.guarantee.failedRules : ['R7'] };
  }
  return { security: null, status: 'missing', rules: [] };
}

/** R3: a deposit held because its booking date alone cannot say whether it beat the deadline
 *  does not secure the bid until the centre decides. Where the rest of the bidder's security
 *  does not secure it either, the roster says `insufficient` (not secured; money is there but
 *  does not count yet) naming R3, and the held deposit among its depositIds: not `invalid`, which
 *  would be a verdict nobody has given, nor `missing`, which would deny the payment. The
 *  roster's four statuses are kept (API, voucher, award check all know them). */
export function rosterHeldOverride(
  verdict: RosterVerdict,
  deposits: { status: string; checks: { rule: string; ok: boolean }[]; failed_rules: string[] }[],
  withdrawn: boolean,
): { security: 'cash'; status: 'insufficient'; rules: string[]; amountFen: bigint } | undefined {
  if (withdrawn || verdict.status === 'secured' || !deposits.some(heldOnR3)) return undefined;
  const rules = new Set(['R3', ...(verdict.status === 'insufficient' ? verdict.rules : [])]);
  return { security: 'cash', status: 'insufficient', rules: [...rules].sort(), amountFen: verdict.security === 'cash' ? verdict.amountFen ?? 0n : 0n };
}
