// Applications for a guarantee through the service. What cannot qualify is refused at once
// (422/409, nothing stored: a refused application would only be noise for the issuer); the rest
// is `submitted` and sent, signed, to the issuer's callbackUrl by the issuer-messages job.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { appendAudit } from '../audit/service';
import { Conflict, NotFound, RuleViolation, Unprocessable } from '../errors';
import { sameBankForGuarantee } from '../domain/bankCode';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { describeRequirement, isExempt, reductionAuditData } from '../domain/creditReduction';
import { requirementFor } from '../credit/service';
import { requiredValidUntil } from '../domain/rules';
import { toBusinessDate } from '../domain/time';
import type { Caller } from '../http/auth';
import { paginate } from '../http/pagination';
import { bankIssuers, findBidder, findIssuer, findSection, findTenderee, type IssuerRow } from '../registry/repo';
import { actorOf } from '../registry/service';
import { queueIssuerMessage } from './messages';
import * as repo from './repo';
import type { GuaranteeKind } from './rules';

/** How many qualifying banks an R6 refusal names. */
export const qualifyingIssuersListedMax = 20;
const issuersScannedMax = 1000;

export async function createApplication(
  tx: Knex.Transaction,
  caller: Caller,
  input: { sectionId: string; issuerId: string; kind: GuaranteeKind; bidderId?: string },
  now = new Date(),
) {
  let bidderId: string;
  if (caller.role === 'bidder') {
    // A bidder applies for itself only; naming another is answered as if it did not exist.
    if (input.bidderId !== undefined && input.bidderId !== caller.bidderId) throw new NotFound('bidder', input.bidderId);
    bidderId = caller.bidderId!;
  } else {
    if (!input.bidderId) throw new Unprocessable('bidder_required', 'the centre applies on behalf of a bidder: bidderId is required', 'bidderId');
    bidderId = input.bidderId;
  }
  const bidder = await findBidder(tx, bidderId);
  if (!bidder) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  const section = await findSection(tx, input.sectionId);
  if (!section) throw new NotFound('section', input.sectionId);
  const issuer = await findIssuer(tx, input.issuerId);
  if (!issuer) throw new Unprocessable('unknown_issuer', `no issuer ${input.issuerId}`, 'issuerId');

  // R3: a guarantee must be issued before the deadline; an application after it cannot qualify.
  if (section.status !== 'open' || now.getTime() >= section.bid_deadline.getTime()) {
    throw new Conflict('section_closed', `section ${section.id} is ${section.status} and its bid deadline is ${section.bid_deadline.toISOString()}: no guarantee issued now can secure a bid (R3)`, 'R3');
  }
  if (issuer.kind !== input.kind) {
    throw new Unprocessable('issuer_kind_mismatch', `issuer ${issuer.id} issues ${issuer.kind} guarantees, not ${input.kind}`, 'kind');
  }
  if (!section.accepted_security.includes(input.kind)) {
    throw new RuleViolation('R8', 'kind_not_accepted', `the section accepts only ${section.accepted_security.join(', ')}`, 'kind');
  }
  if (input.kind === 'bank') {
    const r6 = sameBankForGuarantee(issuer.bank_code!, bidder.basic_bank_code, section.guarantee_bank_match);
    if (!r6.ok) {
      const qualifying = await qualifyingBankIssuers(tx, bidder.basic_bank_code, section.guarantee_bank_match);
      const names = qualifying.map((i) => `${i.name} (${i.id}, ${i.bank_code})`);
      throw new RuleViolation(
        'R6',
        'issuer_not_basic_account_bank',
        `${r6.detail}. ${names.length ? `Registered bank issuers that qualify: ${names.join('; ')}` : 'No registered bank issuer qualifies for this bidder.'}`,
        'issuerId',
        { qualifyingIssuers: qualifying.map((i) => ({ id: i.id, name: i.name, bankCode: i.bank_code })) },
      );
    }
  }
  if (!issuer.callback_url) throw new Unprocessable('issuer_unreachable', `issuer ${issuer.id} has no callbackUrl to receive applications`, 'issuerId');
  const live = await repo.findLiveGuarantee(tx, section.id, bidder.id);
  if (live) throw new Conflict('already_secured', `guarantee ${live.id} already secures this bidder on this section`, 'R7');

  const tenderee = (await findTenderee(tx, section.tenderee_id))!;
  const requirement = await requirementFor(tx, section, bidder.id);
  // 信用免缴: a guarantee of nothing is no guarantee; an issuer must not be asked for one. Should
  // the grade no longer hold at a postponed deadline, the bidder applies then for what it owes.
  if (isExempt(requirement)) {
    throw new RuleViolation('R4', 'exempt_from_security', `this bidder's credit grade exempts it from the security on section ${section.id}: required ${describeRequirement(requirement)}; there is nothing to guarantee`, 'sectionId');
  }
  const id = newId('app');
  await repo.insertApplication(tx, {
    id, section_id: section.id, bidder_id: bidder.id, issuer_id: issuer.id, kind: input.kind, status: 'submitted',
    requested_by_type: caller.role, requested_by_id: caller.keyId,
  });
  await queueIssuerMessage(tx, {
    issuerId: issuer.id,
    kind: 'application',
    subjectId: id,
    url: issuer.callback_url,
    payload: {
      applicationId: id,
      kind: input.kind,
      section: { id: section.id, projectCode: section.project_code, sectionCode: section.section_code, name: section.name },
      beneficiary: { uscc: tenderee.uscc, name: tenderee.name },
      amountRequired: formatAmount(requirement.requiredFen),
      creditReduction: reductionAuditData(requirement),
      currency: section.currency,
      validFromRequired: toBusinessDate(section.bid_deadline),
      validUntilRequired: requiredValidUntil(section.bid_deadline, section.bid_validity_days),
      bidDeadline: section.bid_deadline.toISOString(),
      guaranteeBankMatch: section.guarantee_bank_match,
      applicant: { uscc: bidder.uscc, name: bidder.name, basicAccount: { bankCode: bidder.basic_bank_code, name: bidder.basic_account_name } },
      answerTo: { issuance: `/v1/issuers/${issuer.id}/guarantees`, declined: `/v1/issuers/${issuer.id}/applications/${id}/events` },
    },
  });
  await appendAudit(tx, { actor: actorOf(caller), action: 'guarantee_application.submitted', entityType: 'guarantee_application', entityId: id, data: { sectionId: section.id, bidderId: bidder.id, issuerId: issuer.id, kind: input.kind } });
  return (await repo.findApplication(tx, id))!;
}

async function qualifyingBankIssuers(tx: Knex.Transaction, basicBankCode: string, policy: 'bank' | 'branch' | 'off'): Promise<IssuerRow[]> {
  const banks = await bankIssuers(tx, issuersScannedMax);
  return banks.filter((i) => i.bank_code && sameBankForGuarantee(i.bank_code, basicBankCode, policy).ok).slice(0, qualifyingIssuersListedMax);
}

/** A bidder sees only its own applications; another's answers as absent. */
export async function getVisibleApplication(db: Tx, caller: Caller, id: string): Promise<repo.ApplicationRow> {
  const a = await repo.findApplication(db, id);
  if (!a || (caller.role === 'bidder' && a.bidder_id !== caller.bidderId)) throw new NotFound('guarantee application', id);
  return a;
}

export function listApplications(db: Tx, caller: Caller, query: { limit: number; cursor?: string; sectionId?: string; bidderId?: string; status?: string }) {
  return paginate(repo.applicationsQuery(db, query, caller.role === 'bidder' ? caller.bidderId! : undefined), query, (r: repo.ApplicationRow) => r);
}
