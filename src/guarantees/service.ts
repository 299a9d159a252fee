// Issuance and issuer events. Every guarantee an issuer signs is recorded, including those that
// fail a rule (status `rejected`, with every check), as long as its section and bidder can be
// identified; one that names no known section or no registered bidder cannot be stored against
// them and is answered 422 with rule R7.
import type { Knex } from 'knex';
import type { z } from 'zod';
import { appendAudit } from '../audit/service';
import { BadRequest, Conflict, NotFound, RuleViolation, Unprocessable, assert } from '../errors';
import { newId } from '../domain/ids';
import { parseAmount } from '../domain/money';
import type { RuleCheck } from '../domain/rules';
import type { WebhookSender } from '../http/webhookAuth';
import { onceForEvent } from '../http/webhookReplay';
import { findBidderByUscc, findIssuer, findSection, findTenderee, type SectionRow } from '../registry/repo';
import * as repo from './repo';
import { presentApplication, presentGuarantee } from './present';
import { checkAmendment, checkGuarantee, isLegalTransition, type GuaranteeFacts, type SectionFacts } from './rules';
import { applicationEventBody, guaranteeEventBody, issuanceBody, type IssuanceBody } from './schemas';

export type WebhookAnswer = { status: number; body: unknown; replayed: boolean };

/** Webhook bodies arrive raw (their bytes are signed); parse and validate them here. */
export function parseWebhookBody<T>(schema: z.ZodType<T>, rawBody: Buffer | undefined): T {
  let json: unknown;
  try {
    json = JSON.parse((rawBody ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new BadRequest('malformed_json', 'the request body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.length ? issue.path.join('.') : 'body';
    throw new BadRequest(issue.code === 'unrecognized_keys' ? 'unknown_field' : 'invalid_field', `${param}: ${issue.message}`, param);
  }
  return parsed.data;
}

export async function sectionFacts(tx: Knex | Knex.Transaction, s: SectionRow): Promise<SectionFacts> {
  const tenderee = await findTenderee(tx, s.tenderee_id);
  assert(tenderee, `section ${s.id} has no tenderee`);
  return {
    projectCode: s.project_code,
    sectionCode: s.section_code,
    tendereeUscc: tenderee.uscc,
    depositAmountFen: s.deposit_amount_fen,
    bidDeadline: s.bid_deadline,
    bidValidityDays: s.bid_validity_days,
    acceptedSecurity: s.accepted_security,
    guaranteeBankMatch: s.guarantee_bank_match,
  };
}

export function factsOf(g: repo.GuaranteeRow): GuaranteeFacts {
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

export async function receiveIssuance(tx: Knex.Transaction, sender: WebhookSender, rawBody: Buffer | undefined): Promise<WebhookAnswer> {
  const body = parseWebhookBody(issuanceBody, rawBody);
  return onceForEvent(tx, sender, body.eventId, rawBody!, () => issue(tx, sender, body));
}

async function issue(tx: Knex.Transaction, sender: WebhookSender, body: IssuanceBody): Promise<{ status: number; body: unknown }> {
  const issuer = await findIssuer(tx, sender.id);
  assert(issuer, `webhook sender ${sender.id} is not an issuer`);
  if (issuer.kind !== body.kind) {
    throw new Unprocessable('issuer_kind_mismatch', `issuer ${issuer.id} issues ${issuer.kind} guarantees, not ${body.kind}`, 'kind');
  }
  const section = await tx<SectionRow>('sections').where({ project_code: body.projectCode, section_code: body.sectionCode }).first();
  if (!section) {
    throw new RuleViolation('R7', 'section_unknown', `no section ${body.projectCode}/${body.sectionCode}: the guarantee cannot be recorded against a section`, 'sectionCode');
  }
  const bidder = await findBidderByUscc(tx, body.applicant.uscc);
  if (!bidder) {
    throw new RuleViolation('R7', 'applicant_not_registered', `applicant ${body.applicant.uscc} is not a registered bidder: the guarantee cannot be recorded against one`, 'applicant.uscc');
  }
  if (await repo.findGuaranteeByNumber(tx, issuer.id, body.number)) {
    throw new Conflict('guarantee_number_exists', `issuer ${issuer.id} already issued a guarantee numbered ${body.number}`, 'R7');
  }
  const application = body.applicationId ? await repo.findApplicationForUpdate(tx, body.applicationId) : undefined;
  if (body.applicationId && (!application || application.issuer_id !== issuer.id)) {
    throw new Unprocessable('unknown_application', `no application ${body.applicationId} was sent to this issuer`, 'applicationId');
  }
  if (application && !['submitted', 'sent'].includes(application.status)) {
    throw new Conflict('illegal_transition', `application ${application.id} is ${application.status}; it cannot be answered again`);
  }

  const facts: GuaranteeFacts = {
    kind: body.kind,
    beneficiaryUscc: body.beneficiary.uscc,
    projectCode: body.projectCode,
    sectionCode: body.sectionCode,
    amountFen: parseAmount(body.amount),
    validFrom: body.validFrom,
    validTo: body.validTo,
    issuedAt: new Date(body.issuedAt),
    // A bank issues from its own registered branch unless it names another of its branches.
    issuingBankCode: body.kind === 'bank' ? (body.issuingBankCode ?? issuer.bank_code) : (body.issuingBankCode ?? null),
  };
  const checks: RuleCheck[] = checkGuarantee(facts, await sectionFacts(tx, section), bidder.basic_bank_code);
  if (application) {
    const answers = application.section_id === section.id && application.bidder_id === bidder.id && application.kind === body.kind;
    checks.push({
      rule: 'R7',
      ok: answers,
      detail: answers ? `answers application ${application.id}` : `does not answer application ${application.id} (another section, bidder or kind)`,
    });
  }
  const live = await repo.findLiveGuarantee(tx, section.id, bidder.id);
  checks.push(oneLiveCheck(live?.id));

  const row = {
    issuer_id: issuer.id,
    number: body.number,
    kind: body.kind,
    application_id: application?.id ?? null,
    section_id: section.id,
    bidder_id: bidder.id,
    applicant_uscc: body.applicant.uscc,
    applicant_name: body.applicant.name,
    beneficiary_uscc: body.beneficiary.uscc,
    beneficiary_name: body.beneficiary.name,
    project_code: body.projectCode,
    section_code: body.sectionCode,
    amount_fen: facts.amountFen,
    currency: body.currency,
    valid_from: body.validFrom,
    valid_to: body.validTo,
    issuing_bank_code: facts.issuingBankCode,
    issued_at: facts.issuedAt,
    document_sha256: body.documentSha256,
    event_id: body.eventId,
    certificate_fingerprint: sender.fingerprint,
  };
  const insert = async (rowChecks: RuleCheck[]) => {
    const id = newId('gty');
    const status = rowChecks.every((c) => c.ok) ? 'issued' : 'rejected';
    // No conflict target: both the number and the one-live-guarantee index count, and a
    // unique violation would abort the transaction.
    const inserted = await tx('guarantees').insert({ ...row, id, status, checks: JSON.stringify(rowChecks) }).onConflict().ignore().returning('id');
    return inserted.length ? id : undefined;
  };
  let id = await insert(checks);
  if (!id) {
    if (await repo.findGuaranteeByNumber(tx, issuer.id, body.number)) {
      throw new Conflict('guarantee_number_exists', `issuer ${issuer.id} already issued a guarantee numbered ${body.number}`, 'R7');
    }
    // Another guarantee for this bidder and section committed meanwhile: this one is recorded,
    // but rejected under R7.
    const winner = await repo.findLiveGuarantee(tx, section.id, bidder.id);
    id = await insert([...checks.filter((c) => !(c.rule === 'R7' && c.detail.startsWith('one guarantee'))), oneLiveCheck(winner?.id ?? 'another guarantee')]);
    if (!id) throw new Conflict('guarantee_number_exists', `issuer ${issuer.id} already issued a guarantee numbered ${body.number}`, 'R7');
  }
  const g = (await repo.findGuarantee(tx, id))!;
  if (application) {
    // The application is answered: the guarantee exists, whether it passed the rules or not.
    await tx('guarantee_applications').where({ id: application.id }).update({ status: 'issued', guarantee_id: g.id, updated_at: tx.fn.now() });
    await appendAudit(tx, { actor: { type: 'issuer', id: issuer.id }, action: 'guarantee_application.issued', entityType: 'guarantee_application', entityId: application.id, data: { guaranteeId: g.id } });
  }
  await appendAudit(tx, {
    actor: { type: 'issuer', id: issuer.id },
    action: g.status === 'issued' ? 'guarantee.issued' : 'guarantee.rejected',
    entityType: 'guarantee',
    entityId: g.id,
    data: { number: g.number, sectionId: g.section_id, bidderId: g.bidder_id, amountFen: g.amount_fen, failed: g.checks.filter((c) => !c.ok).map((c) => c.rule), eventId: body.eventId },
  });
  return { status: 201, body: presentGuarantee(g) };
}

function oneLiveCheck(otherId: string | undefined): RuleCheck {
  return otherId
    ? { rule: 'R7', ok: false, detail: `one guarantee per bidder and section: ${otherId} already secures this bidder here` }
    : { rule: 'R7', ok: true, detail: 'one guarantee per bidder and section: no other guarantee for this bidder here' };
}

export async function receiveGuaranteeEvent(tx: Knex.Transaction, sender: WebhookSender, number: string, rawBody: Buffer | undefined, now = new Date()): Promise<WebhookAnswer> {
  const body = parseWebhookBody(guaranteeEventBody, rawBody);
  return onceForEvent(tx, sender, body.eventId, rawBody!, async () => {
    const g = await repo.findGuaranteeByNumberForUpdate(tx, sender.id, number);
    if (!g) throw new NotFound('guarantee', number);
    if (!isLegalTransition(g.status, body.type)) {
      throw new Conflict('illegal_transition', `a ${g.status} guarantee cannot be ${body.type}`);
    }
    const section = (await findSection(tx, g.section_id))!;
    const actor = { type: 'issuer' as const, id: sender.id };
    let update: Partial<repo.GuaranteeRow> = {};
    let data: Record<string, unknown> = {};
    if (body.type === 'amended') {
      if (body.amount === undefined && body.validFrom === undefined && body.validTo === undefined && body.documentSha256 === undefined) {
        throw new BadRequest('missing_field', 'an amendment changes at least one of amount, validFrom, validTo, documentSha256');
      }
      const facts = { ...factsOf(g) };
      if (body.amount !== undefined) facts.amountFen = parseAmount(body.amount);
      if (body.validFrom !== undefined) facts.validFrom = body.validFrom;
      if (body.validTo !== undefined) facts.validTo = body.validTo;
      if (facts.validFrom > facts.validTo) throw new BadRequest('invalid_field', 'validFrom is after validTo', 'validFrom');
      const rechecked = checkAmendment(facts, await sectionFacts(tx, section));
      const failed = rechecked.filter((c) => !c.ok);
      // A failing amendment is refused and the guarantee stays as it was: the issuer's original
      // commitment still stands, and recording the guarantee as rejected would punish the bidder
      // for an amendment it may not have asked for.
      if (failed.length) {
        throw new RuleViolation(failed[0].rule, 'amendment_breaks_rules', failed.map((c) => `${c.rule}: ${c.detail}`).join('; '), undefined, { checks: rechecked });
      }
      const byRule = new Map(rechecked.map((c) => [c.rule, c]));
      update = {
        amount_fen: facts.amountFen,
        valid_from: facts.validFrom,
        valid_to: facts.validTo,
        document_sha256: body.documentSha256 ?? g.document_sha256,
        checks: JSON.stringify(g.checks.map((c) => byRule.get(c.rule) ?? c)) as never,
      };
      data = { amountFen: facts.amountFen, validFrom: facts.validFrom, validTo: facts.validTo, documentSha256: update.document_sha256 };
    } else if (body.type === 'cancelled') {
      // R2: a security must stay valid from the deadline through the bid validity; cancelling it
      // at or after the deadline would leave the bid unsecured when it must be secured.
      if (now.getTime() >= section.bid_deadline.getTime()) {
        throw new Conflict('cancel_after_deadline', `the bid deadline ${section.bid_deadline.toISOString()} has passed; the guarantee must stay valid (R2)`, 'R2');
      }
      data = { reason: body.reason ?? null };
    } else if (body.type === 'claim_paid') {
      data = { amountFen: body.amount ? parseAmount(body.amount) : g.claim_amount_fen, paidAt: body.paidAt ?? null };
    } else {
      data = { reason: body.reason ?? null };
    }
    const ok = await repo.updateGuaranteeStatus(tx, g.id, g.status, body.type, update);
    assert(ok, `guarantee ${g.id} changed under its row lock`);
    await repo.recordGuaranteeEvent(tx, { guaranteeId: g.id, type: body.type, from: g.status, to: body.type, eventId: body.eventId, data });
    await appendAudit(tx, { actor, action: `guarantee.${body.type}`, entityType: 'guarantee', entityId: g.id, data: { ...data, from: g.status, eventId: body.eventId } });
    return { status: 200, body: presentGuarantee((await repo.findGuarantee(tx, g.id))!) };
  });
}

export async function receiveApplicationEvent(tx: Knex.Transaction, sender: WebhookSender, applicationId: string, rawBody: Buffer | undefined): Promise<WebhookAnswer> {
  const body = parseWebhookBody(applicationEventBody, rawBody);
  return onceForEvent(tx, sender, body.eventId, rawBody!, async () => {
    const a = await repo.findApplicationForUpdate(tx, applicationId);
    if (!a || a.issuer_id !== sender.id) throw new NotFound('guarantee application', applicationId);
    if (!['submitted', 'sent'].includes(a.status)) throw new Conflict('illegal_transition', `a ${a.status} application cannot be declined`);
    await tx('guarantee_applications').where({ id: a.id, status: a.status }).update({ status: 'declined', decline_reason: body.reason, updated_at: tx.fn.now() });
    await appendAudit(tx, { actor: { type: 'issuer', id: sender.id }, action: 'guarantee_application.declined', entityType: 'guarantee_application', entityId: a.id, data: { reason: body.reason, eventId: body.eventId } });
    return { status: 200, body: presentApplication((await repo.findApplication(tx, a.id))!) };
  });
}
