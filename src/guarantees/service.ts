// The use cases of e-guarantees: issuance and the issuers' events (signed webhooks), verification
// (验真) and claims (R10, R12). Every guarantee an issuer signs is recorded, including those that
// fail a rule (status `rejected`, with every check), as long as its section and bidder can be
// identified; one that names no known section or no registered bidder cannot be stored against
// them and is answered 422 with rule R7.
import type { Knex } from 'knex';
import { appendAudit, takePendingAudit } from '../audit/service';
import type { Tx } from '../db/knex';
import { BadRequest, Conflict, NotFound, RuleViolation, Unprocessable, assert } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount, parseAmount } from '../domain/money';
import { checkR12Ground, r18TendereeMayLearnSecurities, type RuleCheck } from '../domain/rules';
import { reductionAuditData } from '../domain/creditReduction';
import { requirementFor } from '../credit/service';
import { businessDate } from '../domain/time';
import type { Caller } from '../http/auth';
import { CertificateRetiredAtClaim, type WebhookSender } from '../http/webhookAuth';
import { claimEventValues, firstAnswer, onceForEvent, recordAnswerValues, requestHashOf, type WebhookEventKey } from '../http/webhookReplay';
import { findIssuer, findSection, findTenderee, issuersQuery, type IssuerRow, type SectionRow } from '../registry/repo';
import { actorOf } from '../registry/service';
import { findLifecycleSection, r12FactsOf } from '../sections/repo';
import { voucherRefsOfSubjects } from '../vouchers/repo';
import { requestVoucher } from '../vouchers/requests';
import { queueIssuerMessage } from './messages';
import { presentApplication, presentGuarantee } from './present';
import { canSee } from './read';
import * as repo from './repo';
import {
  checkAmendment,
  checkGuarantee,
  checkR7AnswersApplication,
  checkR7OneLive,
  factsOf,
  inForceStatuses,
  isLegalTransition,
  type ClaimReason,
  type GuaranteeFacts,
  type SectionFacts,
} from './rules';
import type { ApplicationEventBody, GuaranteeEventBody, IssuanceBody } from './schemas';

export type WebhookAnswer = { status: number; body: unknown; replayed: boolean };

export async function sectionFacts(tx: Tx, s: SectionRow): Promise<SectionFacts> {
  const tenderee = await findTenderee(tx, s.tenderee_id);
  assert(tenderee, `section ${s.id} has no tenderee`);
  return sectionFactsOf(s, tenderee.uscc);
}

// ---- issuance --------------------------------------------------------------------------------

/** The first answer to an event is stored and replayed as it was, so it is presented here. The
 *  event id is claimed in the statement that reads what the issuance is judged on, and the answer
 *  stored in the statement that inserts the guarantee. */
export async function receiveIssuance(tx: Knex.Transaction, sender: WebhookSender, body: IssuanceBody, rawBody: Buffer): Promise<WebhookAnswer> {
  const key = { sender, eventId: body.eventId };
  const requestHash = requestHashOf(rawBody);
  const ctx = await repo.claimIssuance(tx, claimEventValues(key, requestHash), issuanceLookup(sender, body));
  if (!ctx.signedCurrent) throw new CertificateRetiredAtClaim();
  if (!ctx.claimed) return firstAnswer(tx, key, requestHash);
  return { ...(await issue(tx, sender, body, ctx, key)), replayed: false };
}

async function issue(tx: Knex.Transaction, sender: WebhookSender, body: IssuanceBody, ctx: repo.IssuanceContext, key: WebhookEventKey): Promise<{ status: number; body: unknown }> {
  const judged = await judgeIssuance(tx, sender, body, ctx);
  const { guarantee, answer } = await recordGuarantee(tx, judged.row, judged.checks, ctx, key);
  await finishIssuance(tx, body, judged, guarantee);
  return answer;
}

/** An issuance that arrived with others (issuanceGroups.ts). */
export interface IssuanceInput {
  sender: WebhookSender;
  body: IssuanceBody;
  rawBody: Buffer;
}

/** Issuances that arrived together, in one transaction and a few statements for all of them:
 *  their event ids claimed and their contexts read in one, their guarantees, answers and (unless
 *  one answers an application) audit events written in another. Each is judged in arrival order
 *  as it would be alone after the ones before it: a guarantee recorded earlier in the group takes
 *  its number and, when issued, stands for its bidder on its section (R7). An issuance refused,
 *  a guarantee a unique index kept out (one committed meanwhile by another transaction), or a
 *  certificate retired since its call was authenticated throws, so the group is committed again
 *  one by one (receiveIssuance), where each gets its own answer. */
export async function receiveIssuances(tx: Knex.Transaction, units: readonly IssuanceInput[]): Promise<WebhookAnswer[]> {
  const keys = units.map((u) => ({ sender: u.sender, eventId: u.body.eventId }));
  const hashes = units.map((u) => requestHashOf(u.rawBody));
  const contexts = await repo.claimIssuances(
    tx,
    units.map((u, k) => ({ claimValues: claimEventValues(keys[k], hashes[k]), ...issuanceLookup(u.sender, u.body) })),
  );
  // A certificate retired since its call was authenticated is that call's refusal alone.
  if (contexts.some((c) => !c.signedCurrent)) throw new CertificateRetiredAtClaim();
  const answers: WebhookAnswer[] = [];
  const recorded: { judged: JudgedIssuance; guarantee: repo.GuaranteeRow; body: IssuanceBody }[] = [];
  const toInsert: Parameters<typeof repo.insertGuaranteesWith>[1][number][] = [];
  for (const [k, u] of units.entries()) {
    if (!contexts[k].claimed) {
      answers.push(await firstAnswer(tx, keys[k], hashes[k]));
      continue;
    }
    const ctx = afterEarlier(contexts[k], u.sender.id, u.body.number, recorded.map((r) => r.guarantee));
    const judged = await judgeIssuance(tx, u.sender, u.body, ctx);
    const { fresh, guarantee, answer } = newGuaranteeRecord(judged.row, [...judged.checks, checkR7OneLive(otherLive(ctx.live), judged.row.issuer_id)], ctx.now);
    recorded.push({ judged, guarantee, body: u.body });
    toInsert.push({ row: fresh, answer: { sender: u.sender, ...answer } });
    answers.push({ ...answer, replayed: false });
  }
  if (toInsert.length === 0) return answers;
  // Without an application to answer, a guarantee's audit event is all that follows its insert,
  // and it reads only what the group already holds: appended first, it is written by the
  // insert's own statement, in the same order, one round trip fewer before the group's commit.
  const auditedWithInsert = recorded.every((r) => !r.judged.application);
  if (auditedWithInsert) for (const r of recorded) await auditIssuance(tx, r.body, r.judged, r.guarantee);
  const inserted = await repo.insertGuaranteesWith(tx, toInsert, auditedWithInsert ? takePendingAudit(tx) : []);
  if (inserted !== toInsert.length) throw new Error(`${toInsert.length - inserted} of ${toInsert.length} guarantees kept out by a unique index: the group is committed again one by one`);
  if (!auditedWithInsert) for (const r of recorded) await finishIssuance(tx, r.body, r.judged, r.guarantee);
  return answers;
}

/** What the claim reads for an issuance. */
function issuanceLookup(sender: WebhookSender, body: IssuanceBody) {
  return { issuerId: sender.id, number: body.number, projectCode: body.projectCode, sectionCode: body.sectionCode, applicantUscc: body.applicant.uscc, signedWith: sender.fingerprint };
}

/** A context read before the group's guarantees were recorded, as it would read after those
 *  recorded earlier in the group. */
function afterEarlier(ctx: repo.IssuanceContext, issuerId: string, number: string, earlier: readonly repo.GuaranteeRow[]): repo.IssuanceContext {
  const numberTaken = ctx.numberTaken || earlier.some((g) => g.issuer_id === issuerId && g.number === number);
  const live = ctx.live ?? earlier.find((g) => g.section_id === ctx.section?.id && g.bidder_id === ctx.bidder?.id && !repo.notLiveStatuses.includes(g.status));
  return { ...ctx, numberTaken, live: live && { id: live.id, issuer_id: live.issuer_id } };
}

interface JudgedIssuance {
  row: Omit<repo.NewGuarantee, 'id' | 'status' | 'checks'>;
  /** Every check but R7's one live guarantee, which is decided where the guarantee is written. */
  checks: RuleCheck[];
  application?: repo.ApplicationRow;
  requirement: Awaited<ReturnType<typeof requirementFor>>;
}

/** The guarantee an issuance asks to record, and how it fares against the rules. */
async function judgeIssuance(tx: Knex.Transaction, sender: WebhookSender, body: IssuanceBody, ctx: repo.IssuanceContext): Promise<JudgedIssuance> {
  const issuer = ctx.issuer;
  assert(issuer, `webhook sender ${sender.id} is not an issuer`);
  const { section, bidder, application } = await identifyIssuance(tx, issuer, body, ctx);
  const facts = issuanceFacts(issuer, body);
  const requirement = await requirementFor(tx, section, bidder.id);
  const checks = checkGuarantee(facts, { ...sectionFactsOf(section, section.tenderee_uscc), requirement }, { basicAccountBankCode: bidder.basic_bank_code, issuerBankCode: issuer.bank_code });
  if (application) {
    checks.push(checkR7AnswersApplication(
      { id: application.id, sectionId: application.section_id, bidderId: application.bidder_id, kind: application.kind },
      { sectionId: section.id, bidderId: bidder.id, kind: body.kind },
    ));
  }
  const row: JudgedIssuance['row'] = {
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
    issuing_bank_code: facts.issuingBankCode ?? null,
    issued_at: facts.issuedAt,
    document_sha256: body.documentSha256,
    event_id: body.eventId,
    certificate_fingerprint: sender.fingerprint,
  };
  return { row, checks, application, requirement };
}

/** Once the guarantee is written: its application answered, and the audit events. */
async function finishIssuance(tx: Knex.Transaction, body: IssuanceBody, judged: JudgedIssuance, g: repo.GuaranteeRow): Promise<void> {
  const actor = { type: 'issuer' as const, id: g.issuer_id };
  const { application } = judged;
  if (application) {
    // The application is answered: the guarantee exists, whether it passed the rules or not.
    assert(await repo.updateApplicationFrom(tx, application.id, ['submitted', 'sent'], 'issued', { guarantee_id: g.id }), `application ${application.id} changed under its lock`);
    await appendAudit(tx, { actor, action: 'guarantee_application.issued', entityType: 'guarantee_application', entityId: application.id, data: { guaranteeId: g.id } });
  }
  await auditIssuance(tx, body, judged, g);
}

/** The guarantee's own audit event: issued or rejected, and why. */
async function auditIssuance(tx: Knex.Transaction, body: IssuanceBody, judged: JudgedIssuance, g: repo.GuaranteeRow): Promise<void> {
  await appendAudit(tx, {
    actor: { type: 'issuer', id: g.issuer_id },
    action: g.status === 'issued' ? 'guarantee.issued' : 'guarantee.rejected',
    entityType: 'guarantee',
    entityId: g.id,
    data: { number: g.number, sectionId: g.section_id, bidderId: g.bidder_id, amountFen: g.amount_fen, failed: g.checks.filter((c) => !c.ok).map((c) => c.rule), eventId: body.eventId, creditReduction: reductionAuditData(judged.requirement) },
  });
}

type IssuanceSection = NonNullable<repo.IssuanceContext['section']>;
type IssuanceBidder = NonNullable<repo.IssuanceContext['bidder']>;

/** What the issuance is about. Without a known section, a registered applicant, a number of its
 *  own and (when it names one) an open application to this issuer, nothing can be recorded. */
async function identifyIssuance(
  tx: Knex.Transaction,
  issuer: Pick<IssuerRow, 'id' | 'kind'>,
  body: IssuanceBody,
  ctx: repo.IssuanceContext,
): Promise<{ section: IssuanceSection; bidder: IssuanceBidder; application?: repo.ApplicationRow }> {
  if (issuer.kind !== body.kind) {
    throw new Unprocessable('issuer_kind_mismatch', `issuer ${issuer.id} issues ${issuer.kind} guarantees, not ${body.kind}`, 'kind');
  }
  const { section, bidder } = ctx;
  if (!section) {
    throw new RuleViolation('R7', 'section_unknown', `no section ${body.projectCode}/${body.sectionCode}: the guarantee cannot be recorded against a section`, 'sectionCode');
  }
  if (!bidder) {
    throw new RuleViolation('R7', 'applicant_not_registered', `applicant ${body.applicant.uscc} is not a registered bidder: the guarantee cannot be recorded against one`, 'applicant.uscc');
  }
  if (ctx.numberTaken) throw numberTaken(issuer.id, body.number);
  if (!body.applicationId) return { section, bidder };
  const application = await repo.findApplicationForUpdate(tx, body.applicationId);
  if (!application || application.issuer_id !== issuer.id) {
    throw new Unprocessable('unknown_application', `no application ${body.applicationId} was sent to this issuer`, 'applicationId');
  }
  if (!['submitted', 'sent'].includes(application.status)) {
    throw new Conflict('illegal_transition', `application ${application.id} is ${application.status}; it cannot be answered again`);
  }
  return { section, bidder, application };
}

function issuanceFacts(issuer: Pick<IssuerRow, 'bank_code'>, body: IssuanceBody): GuaranteeFacts {
  return {
    kind: body.kind,
    beneficiaryUscc: body.beneficiary.uscc,
    projectCode: body.projectCode,
    sectionCode: body.sectionCode,
    amountFen: parseAmount(body.amount),
    validFrom: body.validFrom,
    validTo: body.validTo,
    issuedAt: new Date(body.issuedAt),
    // A bank that names no branch issues from the one it is registered as; one it names must be
    // its own (R6 checks it).
    issuingBankCode: body.kind === 'bank' ? (body.issuingBankCode ?? issuer.bank_code) : (body.issuingBankCode ?? null),
  };
}

const numberTaken = (issuerId: string, number: string) => new Conflict('guarantee_number_exists', `issuer ${issuerId} already issued a guarantee numbered ${number}`, 'R7');

const otherLive = (g: { id: string; issuer_id: string } | undefined) => (g ? { id: g.id, issuerId: g.issuer_id } : undefined);

/** A new guarantee with all its checks, `issued` when all hold and `rejected` otherwise, as the
 *  database will hold it once written at `now`, and the answer that presents it. */
function newGuaranteeRecord(row: Omit<repo.NewGuarantee, 'id' | 'status' | 'checks'>, checks: RuleCheck[], now: Date) {
  const fresh: repo.NewGuarantee = { ...row, id: newId('gty'), status: checks.every((c) => c.ok) ? 'issued' : 'rejected', checks };
  // As the database stores it: created and updated at the transaction's time, nothing claimed
  // or released yet.
  const guarantee: repo.GuaranteeRow = {
    ...fresh,
    claim_reason: null,
    claim_amount_fen: null,
    claimed_by: null,
    claimed_at: null,
    release_reason: null,
    released_at: null,
    created_at: now,
    updated_at: now,
  };
  // Recorded by the statement that writes it: nothing can have attested it yet.
  return { fresh, guarantee, answer: { status: 201, body: presentGuarantee(guarantee, []) as unknown } };
}

/** Stores the guarantee with its checks and R7's one-live check, `issued` when all hold and
 *  `rejected` otherwise, with the webhook's answer in the same statement. When another guarantee
 *  for the bidder and section commits meanwhile, the partial unique index keeps this one out; it
 *  is then recorded rejected under R7. */
async function recordGuarantee(
  tx: Knex.Transaction,
  row: Omit<repo.NewGuarantee, 'id' | 'status' | 'checks'>,
  checks: RuleCheck[],
  ctx: repo.IssuanceContext,
  key: WebhookEventKey,
): Promise<{ guarantee: repo.GuaranteeRow; answer: { status: number; body: unknown } }> {
  const attempt = async (oneLive: RuleCheck) => {
    const { fresh, guarantee, answer } = newGuaranteeRecord(row, [...checks, oneLive], ctx.now);
    const inserted = await repo.insertGuaranteeWith(tx, fresh, recordAnswerValues(key, answer));
    return inserted ? { guarantee, answer } : undefined;
  };
  const first = await attempt(checkR7OneLive(otherLive(ctx.live), row.issuer_id));
  if (first) return first;
  if (await repo.findGuaranteeByNumber(tx, row.issuer_id, row.number)) throw numberTaken(row.issuer_id, row.number);
  const winner = await repo.findLiveGuarantee(tx, row.section_id, row.bidder_id);
  // The index kept this one out, so another guarantee is live even if it is not visible here.
  const second = await attempt(checkR7OneLive(otherLive(winner) ?? { id: 'another guarantee' }, row.issuer_id));
  if (!second) throw numberTaken(row.issuer_id, row.number);
  return second;
}

/** The facts of a section that a guarantee is judged against. */
export function sectionFactsOf(
  s: Pick<SectionRow, 'project_code' | 'section_code' | 'deposit_amount_fen' | 'bid_deadline' | 'bid_validity_days' | 'accepted_security' | 'guarantee_bank_match'>,
  tendereeUscc: string,
): SectionFacts {
  return {
    projectCode: s.project_code,
    sectionCode: s.section_code,
    tendereeUscc,
    depositAmountFen: s.deposit_amount_fen,
    bidDeadline: s.bid_deadline,
    bidValidityDays: s.bid_validity_days,
    acceptedSecurity: s.accepted_security,
    guaranteeBankMatch: s.guarantee_bank_match,
  };
}

// ---- the issuer's events ---------------------------------------------------------------------

export async function receiveGuaranteeEvent(tx: Knex.Transaction, sender: WebhookSender, number: string, body: GuaranteeEventBody, rawBody: Buffer, now = new Date()): Promise<WebhookAnswer> {
  return onceForEvent(tx, sender, body.eventId, rawBody, async () => {
    const g = await repo.findGuaranteeByNumberForUpdate(tx, sender.id, number);
    if (!g) throw new NotFound('guarantee', number);
    if (!isLegalTransition(g.status, body.type)) {
      throw new Conflict('illegal_transition', `a ${g.status} guarantee cannot be ${body.type}`);
    }
    const section = (await findSection(tx, g.section_id))!;
    let update: Partial<repo.GuaranteeRow> = {};
    let data: Record<string, unknown>;
    if (body.type === 'amended') {
      ({ update, data } = await amendment(tx, g, section, body));
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
    assert(await repo.updateGuaranteeStatus(tx, g.id, g.status, body.type, update), `guarantee ${g.id} changed under its row lock`);
    await repo.recordGuaranteeEvent(tx, { guaranteeId: g.id, type: body.type, from: g.status, to: body.type, eventId: body.eventId, data });
    await appendAudit(tx, { actor: { type: 'issuer', id: sender.id }, action: `guarantee.${body.type}`, entityType: 'guarantee', entityId: g.id, data: { ...data, from: g.status, eventId: body.eventId } });
    return { status: 200, body: presentGuarantee((await repo.findGuarantee(tx, g.id))!, await guaranteeVouchers(tx, g.id)) };
  });
}

/** The guarantee's vouchers (verification reports, claim notice), as every answer shows them. */
async function guaranteeVouchers(tx: Tx, guaranteeId: string) {
  return (await voucherRefsOfSubjects(tx, { guarantee: [guaranteeId] })).map((v) => ({ id: v.id, kind: v.kind, status: v.status }));
}

/** An amendment is re-checked against the rules it can break (R2, R4). A failing one is refused
 *  and the guarantee stays as it was: the issuer's original commitment still stands, and
 *  recording the guarantee as rejected would punish the bidder for an amendment it may not have
 *  asked for. */
async function amendment(tx: Knex.Transaction, g: repo.GuaranteeRow, section: SectionRow, body: Extract<GuaranteeEventBody, { type: 'amended' }>) {
  if (body.amount === undefined && body.validFrom === undefined && body.validTo === undefined && body.documentSha256 === undefined) {
    throw new BadRequest('missing_field', 'an amendment changes at least one of amount, validFrom, validTo, documentSha256');
  }
  const facts = { ...factsOf(g) };
  if (body.amount !== undefined) facts.amountFen = parseAmount(body.amount);
  if (body.validFrom !== undefined) facts.validFrom = body.validFrom;
  if (body.validTo !== undefined) facts.validTo = body.validTo;
  if (facts.validFrom > facts.validTo) throw new BadRequest('invalid_field', 'validFrom is after validTo', 'validFrom');
  const rechecked = checkAmendment(facts, { ...(await sectionFacts(tx, section)), requirement: await requirementFor(tx, section, g.bidder_id) });
  const failed = rechecked.filter((c) => !c.ok);
  if (failed.length) {
    throw new RuleViolation(failed[0].rule, 'amendment_breaks_rules', failed.map((c) => `${c.rule}: ${c.detail}`).join('; '), undefined, { checks: rechecked });
  }
  const byRule = new Map(rechecked.map((c) => [c.rule, c]));
  const documentSha256 = body.documentSha256 ?? g.document_sha256;
  return {
    update: { amount_fen: facts.amountFen, valid_from: facts.validFrom, valid_to: facts.validTo, document_sha256: documentSha256, checks: g.checks.map((c) => byRule.get(c.rule) ?? c) },
    data: { amountFen: facts.amountFen, validFrom: facts.validFrom, validTo: facts.validTo, documentSha256 },
  };
}

export async function receiveApplicationEvent(tx: Knex.Transaction, sender: WebhookSender, applicationId: string, body: ApplicationEventBody, rawBody: Buffer): Promise<WebhookAnswer> {
  return onceForEvent(tx, sender, body.eventId, rawBody, async () => {
    const a = await repo.findApplicationForUpdate(tx, applicationId);
    if (!a || a.issuer_id !== sender.id) throw new NotFound('guarantee application', applicationId);
    if (!(await repo.updateApplicationFrom(tx, a.id, ['submitted', 'sent'], 'declined', { decline_reason: body.reason }))) {
      throw new Conflict('illegal_transition', `a ${a.status} application cannot be declined`);
    }
    await appendAudit(tx, { actor: { type: 'issuer', id: sender.id }, action: 'guarantee_application.declined', entityType: 'guarantee_application', entityId: a.id, data: { reason: body.reason, eventId: body.eventId } });
    return { status: 200, body: presentApplication((await repo.findApplication(tx, a.id))!) };
  });
}

// ---- verification (验真) -----------------------------------------------------------------------

/** Authentic means this issuer sent the guarantee to us through a signed webhook (every record
 *  here came that way) and, when a document hash is given, the document is the one it signed
 *  for. The report is a voucher per guarantee, hash asked and status seen, so asking the same
 *  question again returns the same report while a changed answer gets a new one. Unknown and
 *  invisible guarantees (R18) get the same plain answer and no report. A verification is asked
 *  with a GET but requests its report voucher: it runs in a transaction of its own. */
export function verifyGuarantee(db: Knex, caller: Caller, query: { issuerId: string; number: string; documentSha256?: string }, now = new Date()) {
  return db.transaction((tx) => verify(tx, caller, query, now));
}

async function verify(tx: Knex.Transaction, caller: Caller, query: { issuerId: string; number: string; documentSha256?: string }, now: Date) {
  const found = await repo.findGuaranteeByNumber(tx, query.issuerId, query.number);
  const g = found && (await canSee(tx, caller, found)) ? found : undefined;
  if (!g) {
    return {
      authentic: false,
      status: 'unknown',
      guarantee: null,
      checks: [{ rule: 'record', ok: false, detail: `no guarantee ${query.number} from issuer ${query.issuerId} is on record` }],
      voucherId: null,
    };
  }
  const checks: RuleCheck[] = [{ rule: 'signature', ok: true, detail: `issued by ${g.issuer_id} through a webhook signed with certificate ${g.certificate_fingerprint}` }];
  if (query.documentSha256 !== undefined) {
    const same = query.documentSha256 === g.document_sha256;
    checks.push({ rule: 'document', ok: same, detail: same ? 'the document is the one the issuer signed for' : 'the document differs from the one the issuer signed for' });
  }
  const today = businessDate(now);
  const inForce = inForceStatuses.includes(g.status) && g.valid_to >= today;
  checks.push({ rule: 'in_force', ok: inForce, detail: inForce ? `${g.status}, valid until ${g.valid_to}` : `${g.status}, valid ${g.valid_from} to ${g.valid_to}; not in force on ${today}` });
  checks.push(...g.checks);
  const authentic = query.documentSha256 === undefined || query.documentSha256 === g.document_sha256;
  const voucherId = await requestVoucher(tx, {
    kind: 'verification_report',
    subjectType: 'guarantee_verification',
    subjectId: `${g.id}.${query.documentSha256 ?? 'nohash'}.${g.status}`,
    sectionId: g.section_id,
    bidderId: g.bidder_id,
    data: {
      guaranteeId: g.id, issuerId: g.issuer_id, number: g.number, kind: g.kind, amountFen: g.amount_fen, validFrom: g.valid_from, validTo: g.valid_to,
      status: g.status, documentSha256: g.document_sha256, documentSha256Asked: query.documentSha256 ?? null, authentic, checks,
    },
  });
  await appendAudit(tx, { actor: actorOf(caller), action: 'guarantee.verified', entityType: 'guarantee', entityId: g.id, data: { authentic, status: g.status, voucherId } });
  return { authentic, status: g.status, guarantee: g, checks, voucherId };
}

// ---- claims ----------------------------------------------------------------------------------

/** R12 claims by the centre, on the grounds and facts a forfeiture needs (domain/rules.ts): the
 *  deadline passed, a recorded withdrawal after it, an award naming this bidder for the
 *  winner's failures. The claim and its deciding key are recorded, the issuer told (signed). */
export async function claimGuarantee(tx: Knex.Transaction, caller: Caller, guaranteeId: string, input: { reason: ClaimReason; amount: string }, now = new Date()) {
  const g = await repo.findGuaranteeForUpdate(tx, guaranteeId);
  if (!g) throw new NotFound('guarantee', guaranteeId);
  if (!isLegalTransition(g.status, 'claimed')) throw new Conflict('illegal_transition', `a ${g.status} guarantee cannot be claimed`);
  const section = (await findLifecycleSection(tx, g.section_id))!;
  const ground = checkR12Ground(input.reason, await r12FactsOf(tx, section, g.bidder_id, now));
  if (!ground.ok) throw new RuleViolation('R12', 'claim_not_allowed', ground.detail, 'reason');
  const amountFen = parseAmount(input.amount);
  if (amountFen > g.amount_fen) {
    throw new RuleViolation('R12', 'claim_exceeds_guarantee', `claim ${formatAmount(amountFen)} exceeds the guarantee amount ${formatAmount(g.amount_fen)}`, 'amount');
  }
  const claimedAt = now;
  assert(
    await repo.updateGuaranteeStatus(tx, g.id, g.status, 'claimed', { claim_reason: input.reason, claim_amount_fen: amountFen, claimed_by: caller.keyId, claimed_at: claimedAt }),
    `guarantee ${g.id} changed under its lock`,
  );
  const issuer = (await findIssuer(tx, g.issuer_id))!;
  const messageId = issuer.callback_url
    ? await queueIssuerMessage(tx, {
        issuerId: issuer.id,
        kind: 'claim',
        subjectId: g.id,
        url: issuer.callback_url,
        payload: { guaranteeId: g.id, number: g.number, reason: input.reason, amount: formatAmount(amountFen), currency: g.currency, beneficiary: { uscc: g.beneficiary_uscc, name: g.beneficiary_name }, claimedAt: claimedAt.toISOString() },
      })
    : null;
  const voucherId = await requestVoucher(tx, {
    kind: 'claim_notice',
    subjectType: 'guarantee_claim',
    subjectId: g.id,
    sectionId: g.section_id,
    bidderId: g.bidder_id,
    data: { guaranteeId: g.id, issuerId: g.issuer_id, number: g.number, reason: input.reason, amountFen, guaranteeAmountFen: g.amount_fen, decidedBy: caller.keyId, claimedAt: claimedAt.toISOString() },
  });
  await appendAudit(tx, { actor: actorOf(caller), action: 'guarantee.claimed', entityType: 'guarantee', entityId: g.id, data: { reason: input.reason, amountFen, messageId, voucherId, rule: 'R12' } });
  return { guarantee: (await repo.findGuarantee(tx, g.id))!, voucherId };
}

// ---- public verification (验真 without signing in) ----------------------------------------------

/** Issuers sharing one bank code (branches registered separately) considered for one number. */
export const publicVerifyIssuersPerCodeMax = 20;

export type PublicVerdict = 'authentic' | 'not_found';

export interface PublicGuaranteeVerification {
  object: 'public_guarantee_verification';
  verdict: PublicVerdict;
  message: { zh: string; en: string };
  guarantee: {
    number: string;
    status: string;
    inForce: boolean;
    issuer: { name: string; kind: string };
    amount: string;
    currency: string;
    validFrom: string;
    validTo: string;
    section: { projectCode: string; sectionCode: string; name: string; opened: boolean };
    /** The bidder (applicant), only once the section has opened (R18). */
    applicant: { name: string } | null;
  } | null;
}

const publicVerdictMessages = {
  authentic: { zh: '保函真实：该保函由出具机构通过签名报文向本中心报送，文件与报送时一致。', en: 'Authentic: the issuer sent this guarantee to us in a signed message, and the document is the one it signed for.' },
  not_found: {
    zh: '未找到与该文件一致的保函：请核对出具机构、保函编号，并上传出具机构交付的原始文件。',
    en: 'No matching guarantee: check the issuer and the number, and use the original file as the issuer delivered it.',
  },
};

/** Anyone holding a guarantee document can check it: by issuer (its id or its 12-digit bank
 *  code), number and the document's SHA-256. Nothing is told unless the hash matches: a wrong
 *  hash answers `not_found` exactly like an unknown number. Saying "the document differs" would
 *  confirm to anyone who saw or guessed a number that a guarantee with it exists, and through
 *  its section that a bid was secured (R18), while the holder of the genuine file gains little
 *  from it (a re-saved or scanned file has another hash anyway; the message tells them to use
 *  the original). Asked with a GET and by nobody in particular, it requests no report voucher:
 *  signed reports are for callers with a key (GET /v1/guarantees/verify). */
export async function verifyGuaranteePublicly(db: Tx, query: { issuer: string; number: string; sha256: string }, now = new Date()): Promise<PublicGuaranteeVerification> {
  const notFound: PublicGuaranteeVerification = { object: 'public_guarantee_verification', verdict: 'not_found', message: publicVerdictMessages.not_found, guarantee: null };
  const issuers = /^iss_/.test(query.issuer)
    ? [await findIssuer(db, query.issuer)].filter((i): i is IssuerRow => !!i)
    : ((await issuersQuery(db).where({ bank_code: query.issuer }).orderBy('id').limit(publicVerifyIssuersPerCodeMax)) as IssuerRow[]);
  let g: repo.GuaranteeRow | undefined;
  let issuer: IssuerRow | undefined;
  for (const i of issuers) {
    const found = await repo.findGuaranteeByNumber(db, i.id, query.number);
    if (found && found.document_sha256 === query.sha256) {
      g = found;
      issuer = i;
      break;
    }
  }
  if (!g || !issuer) return notFound;
  const section = await findSection(db, g.section_id);
  if (!section) return notFound;
  const opened = r18TendereeMayLearnSecurities({ openedAt: section.opened_at ?? null });
  return {
    object: 'public_guarantee_verification',
    verdict: 'authentic',
    message: publicVerdictMessages.authentic,
    guarantee: {
      number: g.number,
      status: g.status,
      inForce: inForceStatuses.includes(g.status) && g.valid_to >= businessDate(now),
      issuer: { name: issuer.name, kind: issuer.kind },
      amount: formatAmount(g.amount_fen),
      currency: g.currency,
      validFrom: g.valid_from,
      validTo: g.valid_to,
      section: { projectCode: section.project_code, sectionCode: section.section_code, name: section.name, opened },
      applicant: opened ? { name: g.applicant_name } : null,
    },
  };
}
