// The section lifecycle (DESIGN.md "Lifecycles"): open → opened (the roster is fixed) →
// awarded → contracted, or terminated. Each move is one transaction with its audit event, its
// roster or refunds, and the jobs that follow, so a move and its consequences never part.
import type { Knex } from 'knex';
import type { Calendar } from '../domain/calendar';
import { appendAudit, type Actor } from '../audit/service';
import { Conflict, NotFound, RuleViolation, Unprocessable, assert } from '../errors';
import { invalidateShortDeposits } from '../deposits/matching';
import { scheduleRefunds } from '../refunds/service';
import type { DepositRow } from '../deposits/repo';
import { NoRefundDeadline, r14AwardWithinLimit, awardAfterEvaluationDaysMax, type RefundReason } from '../domain/dueDates';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { Caller } from '../http/auth';
import { actorOf } from '../registry/service';
import { requestVoucher } from '../vouchers/requests';
import { releaseGuaranteesForSection, secureGuaranteesAtOpening, type RosterGuarantee } from '../guarantees/lifecycle';
import { requirementKey, requirementsFor } from '../credit/service';
import { isExempt, reductionAuditData, type RequiredSecurity } from '../domain/creditReduction';
import * as repo from './repo';
import type { LifecycleSection, RosterEntry, RosterExemption, RosterRow } from './repo';
import { isLegalSectionMove, rosterHeldOverride, rosterVerdict, sectionStatusAfter, type SectionEvent, type SectionStatus } from './rules';

export type { LifecycleSection, RosterEntry, RosterExemption, RosterRow };

/** Bidders on one roster: far above any real tender (a large one has a few thousand), low
 *  enough to hold in one transaction; 10,000 open in well under a second. */
export const rosterBiddersMax = 20_000;
/** Deposits refunded by one section event, bounded for the same reason. */
export const sectionDepositsMax = 50_000;
/** Deposits read for one roster: a few credits per bidder (top-ups, payments sent twice). */
export const rosterDepositsMax = 100_000;
/** Guarantees read for one roster: a few per bidder (a rejected one, then one that holds). */
export const rosterGuaranteesMax = 40_000;

async function lockSection(tx: Knex.Transaction, id: string, event: SectionEvent): Promise<LifecycleSection> {
  const s = await repo.lockLifecycleSection(tx, id);
  if (!s) throw new NotFound('section', id);
  if (!isLegalSectionMove(s.status as SectionStatus, event)) {
    throw new Conflict('illegal_transition', `a section in status ${s.status} cannot take the ${event}`);
  }
  return s;
}

async function moveSection(tx: Knex.Transaction, s: LifecycleSection, event: SectionEvent, fields: Partial<LifecycleSection>): Promise<void> {
  const moved = await repo.updateSectionFrom(tx, s.id, s.status, { ...fields, status: sectionStatusAfter[event] });
  assert(moved, `section ${s.id} moved from ${s.status} on ${event}`);
}

// ---- opening -------------------------------------------------------------------------------

export async function openSection(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, now = new Date()): Promise<{ roster: RosterRow; voucherId: string }> {
  const s = await lockSection(tx, sectionId, 'opening');
  if (now < s.bid_deadline) {
    throw new Conflict('before_deadline', `the bids open at or after the deadline ${s.bid_deadline.toISOString()}`, 'R3');
  }
  const actor = actorOf(caller);
  // R4: whatever is still short at the deadline never secured the bid and goes back.
  await invalidateShortDeposits(tx, calendar, sectionId, now);
  // R8: guarantees still covering R2 become secured; the guarantees capability says which.
  const guarantees = new Map((await secureGuaranteesAtOpening(tx, sectionId)).map((g) => [g.bidderId, g]));
  const { entries, exemptions } = await computeRoster(tx, s, guarantees);
  await moveSection(tx, s, 'opening', { opened_at: now });
  const id = newId('rsn');
  // The PDF is rendered and signed by the vouchers queue; the opening only asks for it, so the
  // roster is fixed and answered without waiting for a document of thousands of lines.
  const voucherId = await requestVoucher(tx, {
    kind: 'opening_roster',
    subjectType: 'roster',
    subjectId: id,
    sectionId,
    data: {
      openedAt: now.toISOString(),
      bidDeadline: s.bid_deadline.toISOString(),
      requiredDepositFen: s.deposit_amount_fen,
      entries: entries.map((e) => ({
        bidder: { name: e.name, uscc: e.uscc },
        security: e.security ?? 'none',
        status: e.status,
        ...(e.amountFen !== null ? { amountFen: e.amountFen } : {}),
        ...(e.guaranteeNumber ? { reference: e.guaranteeNumber } : e.depositIds.length ? { reference: e.depositIds.join(', ') } : {}),
        ...(e.exemption ? { exemption: { grade: e.exemption.grade, source: e.exemption.source, validFrom: e.exemption.validFrom, validTo: e.exemption.validTo } } : {}),
        rules: e.rules,
      })),
    },
  });
  const roster = await repo.insertRoster(tx, {
    id,
    section_id: sectionId,
    opened_at: now,
    required_deposit_fen: s.deposit_amount_fen,
    entries: entries.map((e) => ({ ...e, amountFen: e.amountFen === null ? null : e.amountFen.toString() })),
    voucher_id: voucherId,
    opened_by: caller.keyId,
  });
  await appendAudit(tx, {
    actor,
    action: 'section.opened',
    entityType: 'section',
    entityId: sectionId,
    data: {
      rosterId: id,
      voucherId,
      secured: entries.filter((e) => e.status === 'secured').map((e) => e.bidderId),
      bidders: entries.length,
      // R4: who secured nothing because its grade at the deadline exempted it, on whose finding.
      ...(exemptions.length > 0 ? { exempt: exemptions.map((x) => ({ bidderId: x.bidderId, ...reductionAuditData(x.requirement) })) } : {}),
    },
  });
  return { roster, voucherId };
}

/** The roster: each bidder that tried to secure the section, and the verdict on its security.
 *  Read in a fixed number of queries whatever the number of bidders, judged in memory. With it,
 *  the bidders the roster shows exempt and the requirement that exempted each. */
async function computeRoster(
  tx: Knex.Transaction,
  s: LifecycleSection,
  guarantees: Map<string, RosterGuarantee>,
): Promise<{ entries: RosterEntry[]; exemptions: { bidderId: string; requirement: RequiredSecurity }[] }> {
  const bidders = await repo.rosterBidders(tx, s.id, rosterBiddersMax);
  const depositsByBidder = new Map<string, repo.RosterDepositRow[]>();
  for (const d of await repo.rosterDeposits(tx, s.id, rosterDepositsMax)) {
    const list = depositsByBidder.get(d.bidder_id!);
    if (list) list.push(d);
    else depositsByBidder.set(d.bidder_id!, [d]);
  }
  // R4: each bidder's requirement, reduced (or waived) for the credit grade it holds at the
  // deadline: the deadline fixed now, the findings on record now, never those at payment.
  const requirements = await requirementsFor(tx, bidders.map((b) => ({ section: s, bidderId: b.bidder_id })));
  const guaranteeRows = guarantees.size > 0 ? new Map((await repo.rosterGuarantees(tx, s.id, rosterGuaranteesMax)).map((g) => [g.id, g])) : new Map<string, repo.RosterGuaranteeRow>();
  const exemptions: { bidderId: string; requirement: RequiredSecurity }[] = [];
  const entries = bidders.map((b) => {
    const rg = guarantees.get(b.bidder_id);
    const requirement = requirements.get(requirementKey(s.id, b.bidder_id))!;
    const entry = rosterEntryOf(requirement, b, depositsByBidder.get(b.bidder_id) ?? [], rg, rg ? guaranteeRows.get(rg.guaranteeId) : undefined);
    if (entry.exemption) exemptions.push({ bidderId: b.bidder_id, requirement });
    return entry;
  });
  return { entries, exemptions };
}

/** The exemption a bidder's line stands on: its grade at the deadline waives the whole security
 *  and it took part (asked for its sub-account, paid, or had a guarantee issued). */
function exemptionOf(r: RequiredSecurity, b: repo.RosterBidderRow): RosterExemption | null {
  if (!b.took_part || b.withdrawn || !r.reduction || !isExempt(r)) return null;
  const g = r.reduction;
  return { grade: g.grade, source: g.source, validFrom: g.validFrom, validTo: g.validTo, gradeId: g.gradeSeq.toString() };
}

/** One bidder's line: the verdict of R3, R4, R8 and R9 on its deposits and guarantee. */
function rosterEntryOf(requirement: RequiredSecurity, b: repo.RosterBidderRow, deposits: repo.RosterDepositRow[], rg: RosterGuarantee | undefined, g: repo.RosterGuaranteeRow | undefined): RosterEntry {
  const exemption = exemptionOf(requirement, b);
  const verdict = rosterVerdict({
    requiredFen: requirement.requiredFen,
    deposits: deposits.map((d) => ({ id: d.id, status: d.status, amountFen: d.amount_fen, excessFen: d.excess_fen, failedRules: d.failed_rules })),
    guarantee: rg && g ? { id: g.id, number: g.number, status: rg.status === 'secured' ? 'secured' : 'rejected', amountFen: g.amount_fen, failedRules: rg.rules } : undefined,
    withdrawn: b.withdrawn,
    exempt: exemption !== null,
  });
  const held = rosterHeldOverride(verdict, deposits, b.withdrawn);
  return {
    bidderId: b.bidder_id,
    name: b.name,
    uscc: b.uscc,
    security: held?.security ?? verdict.security,
    status: held?.status ?? verdict.status,
    rules: held?.rules ?? verdict.rules,
    amountFen: held ? held.amountFen : verdict.amountFen ?? null,
    depositIds: deposits.map((d) => d.id),
    guaranteeId: g?.id ?? null,
    guaranteeNumber: g?.number ?? null,
    exemption,
  };
}

/** R18: the roster names who secured the section, so a tenderee sees its own sections' only,
 *  and there is none before the opening. Others' sections answer as absent. */
export async function getVisibleRoster(tx: Knex | Knex.Transaction, caller: Caller, sectionId: string): Promise<RosterRow> {
  const section = await repo.findLifecycleSection(tx, sectionId);
  if (!section || (caller.role === 'tenderee' && section.tenderee_id !== caller.tendereeId)) throw new NotFound('section', sectionId);
  const roster = await repo.findRoster(tx, sectionId);
  if (!roster) throw new NotFound('roster');
  return roster;
}

// ---- refunds owed by section events -------------------------------------------------------

/** Deposits of a section still held for their bidder: valid (or, on termination, still being
 *  checked), not forfeited, and with no refund of their secured part scheduled yet (an
 *  `excess` refund returns only the part above the requirement, R4). */
async function depositsOwed(tx: Knex.Transaction, sectionId: string, statuses: string[], bidderFilter?: (bidderId: string) => boolean): Promise<DepositRow[]> {
  const rows = await repo.depositsWithoutRefund(tx, sectionId, statuses, sectionDepositsMax);
  return rows.filter((d) => d.amount_fen - d.excess_fen > 0n && (!bidderFilter || bidderFilter(d.bidder_id!)));
}

async function scheduleFor(tx: Knex.Transaction, calendar: Calendar, deposits: DepositRow[], reason: RefundReason, eventAt: Date, actor: Actor): Promise<string[]> {
  // One batch for the whole section: a contract or a termination owes a refund to every bidder.
  const scheduled = await scheduleRefunds(tx, calendar, deposits.map((d) => ({ depositId: d.id, reason, principalFen: d.amount_fen - d.excess_fen, eventAt, actor })));
  return scheduled.map((r) => r.refund.id);
}

// ---- award -----------------------------------------------------------------------------------

export interface AwardInput {
  winnerBidderId: string;
  evaluationReportAt: string;
  noticeAt: string;
}

export async function awardSection(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, input: AwardInput): Promise<{ section: LifecycleSection; refundIds: string[] }> {
  const s = await lockSection(tx, sectionId, 'award');
  if (!r14AwardWithinLimit(input.evaluationReportAt, input.noticeAt)) {
    throw new RuleViolation(
      'R14',
      'award_outside_evaluation_limit',
      `the award must come within ${awardAfterEvaluationDaysMax} days after the evaluation report (and not before it)`,
      'noticeAt',
    );
  }
  const roster = await repo.findRoster(tx, sectionId);
  assert(roster, `an opened section ${sectionId} has a roster`);
  const winner = roster.entries.find((e) => e.bidderId === input.winnerBidderId);
  if (!winner || winner.status !== 'secured') {
    throw new Unprocessable('winner_not_secured', 'the winner must be a bidder the opening roster shows as secured', 'winnerBidderId');
  }
  const noticeAt = new Date(input.noticeAt);
  await moveSection(tx, s, 'award', { winner_bidder_id: input.winnerBidderId, evaluation_report_at: new Date(input.evaluationReportAt), award_notice_at: noticeAt });
  const actor = actorOf(caller);
  let refundIds: string[] = [];
  // R11: under government procurement non-winners do not wait for the contract.
  if (s.regime === 'government_procurement') {
    const owed = await depositsOwed(tx, sectionId, ['valid'], (b) => b !== input.winnerBidderId);
    refundIds = await scheduleFor(tx, calendar, owed, 'award_non_winner', noticeAt, actor);
  }
  await appendAudit(tx, { actor, action: 'section.awarded', entityType: 'section', entityId: sectionId, data: { ...input, refundIds } });
  return { section: (await repo.findLifecycleSection(tx, sectionId))!, refundIds };
}

// ---- contract ----------------------------------------------------------------------------------

export async function recordContract(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, input: { signedAt: string }): Promise<{ section: LifecycleSection; refundIds: string[]; releasedGuaranteeIds: string[] }> {
  const s = await lockSection(tx, sectionId, 'contract');
  const signedAt = new Date(input.signedAt);
  if (s.award_notice_at && signedAt < s.award_notice_at) {
    throw new Unprocessable('contract_before_award', 'the contract cannot be signed before the award notice', 'signedAt');
  }
  await moveSection(tx, s, 'contract', { contract_signed_at: signedAt });
  const actor = actorOf(caller);
  // R11: the winner (and under tendering_law everyone else) is refunded from the contract.
  // Under government procurement the non-winners' refunds were scheduled at the award; any
  // deposit still held (validated since) is refunded now rather than never.
  const owed = await depositsOwed(tx, sectionId, ['valid']);
  const refundIds = await scheduleFor(tx, calendar, owed, 'contract', signedAt, actor);
  const releasedGuaranteeIds = await releaseGuaranteesForSection(tx, sectionId, 'contract', actor);
  await appendAudit(tx, { actor, action: 'section.contracted', entityType: 'section', entityId: sectionId, data: { signedAt: input.signedAt, refundIds, releasedGuaranteeIds } });
  return { section: (await repo.findLifecycleSection(tx, sectionId))!, refundIds, releasedGuaranteeIds };
}

// ---- termination -------------------------------------------------------------------------------

export async function terminateSection(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, input: { reason: string }, now = new Date()): Promise<{ section: LifecycleSection; refundIds: string[]; releasedGuaranteeIds: string[] }> {
  const s = await lockSection(tx, sectionId, 'termination');
  await moveSection(tx, s, 'termination', { terminated_at: now, termination_reason: input.reason });
  const actor = actorOf(caller);
  // R16: every deposit goes back at once, those still being checked included.
  const owed = await depositsOwed(tx, sectionId, ['valid', 'received']);
  let refundIds: string[];
  try {
    refundIds = await scheduleFor(tx, calendar, owed, 'termination', now, actor);
  } catch (e) {
    if (e instanceof NoRefundDeadline) throw new Unprocessable('no_refund_deadline', e.message);
    throw e;
  }
  const releasedGuaranteeIds = await releaseGuaranteesForSection(tx, sectionId, 'termination', actor);
  await appendAudit(tx, { actor, action: 'section.terminated', entityType: 'section', entityId: sectionId, data: { reason: input.reason, refundIds, releasedGuaranteeIds, total: formatAmount(owed.reduce((t, d) => t + d.amount_fen - d.excess_fen, 0n)) } });
  return { section: (await repo.findLifecycleSection(tx, sectionId))!, refundIds, releasedGuaranteeIds };
}

