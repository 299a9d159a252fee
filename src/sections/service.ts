// The section lifecycle (DESIGN.md "Lifecycles"): open → opened (the roster is fixed) →
// awarded → contracted, or terminated. Each move is one transaction with its audit event, its
// roster or refunds, and the jobs that follow, so a move and its consequences never part.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { Conflict, NotFound, RuleViolation, Unprocessable, assert } from '../errors';
import { invalidateShortDeposits } from '../deposits/matching';
import { scheduleRefund } from '../deposits/refunds';
import type { DepositRow } from '../deposits/repo';
import { NoRefundDeadline, r14AwardWithinLimit, awardAfterEvaluationDaysMax, type RefundReason } from '../domain/dueDates';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { Caller } from '../http/auth';
import { actorOf } from '../registry/service';
import * as registryRepo from '../registry/repo';
import type { SectionRow } from '../registry/repo';
import { requestVoucher } from '../vouchers/requests';
import { releaseGuaranteesForSection, secureGuaranteesAtOpening, type RosterGuarantee } from '../guarantees/lifecycle';
import { isLegalSectionMove, rosterVerdict, sectionStatusAfter, type RosterStatus, type SectionEvent, type SectionStatus } from './rules';

/** Bidders on one roster: far above any real tender, low enough to hold in one transaction. */
export const rosterBiddersMax = 5_000;
/** Deposits refunded by one section event, bounded for the same reason. */
export const sectionDepositsMax = 20_000;

export interface RosterEntry {
  bidderId: string;
  name: string;
  uscc: string;
  security: 'cash' | 'guarantee' | null;
  status: RosterStatus;
  rules: string[];
  amountFen: bigint | null;
  depositIds: string[];
  guaranteeId: string | null;
  /** Printed on the voucher: the number a reader can verify with the issuer. */
  guaranteeNumber: string | null;
}

export interface RosterRow {
  id: string;
  section_id: string;
  opened_at: Date;
  required_deposit_fen: bigint;
  entries: (Omit<RosterEntry, 'amountFen'> & { amountFen: string | null })[];
  voucher_id: string | null;
  opened_by: string;
  created_at: Date;
}

export type LifecycleSection = SectionRow & {
  winner_bidder_id: string | null;
  opened_at: Date | null;
  evaluation_report_at: Date | null;
  award_notice_at: Date | null;
  contract_signed_at: Date | null;
  terminated_at: Date | null;
  termination_reason: string | null;
};

async function lockSection(tx: Knex.Transaction, id: string, event: SectionEvent): Promise<LifecycleSection> {
  const s = (await tx<LifecycleSection>('sections').where({ id }).forUpdate().first()) as LifecycleSection | undefined;
  if (!s) throw new NotFound('section', id);
  if (!isLegalSectionMove(s.status as SectionStatus, event)) {
    throw new Conflict('illegal_transition', `a section in status ${s.status} cannot take the ${event}`);
  }
  return s;
}

async function moveSection(tx: Knex.Transaction, s: LifecycleSection, event: SectionEvent, fields: Record<string, unknown>): Promise<void> {
  const n = await tx('sections').where({ id: s.id, status: s.status }).update({ ...fields, status: sectionStatusAfter[event] });
  assert(n === 1, `section ${s.id} moved from ${s.status} on ${event}`);
}

// ---- opening -------------------------------------------------------------------------------

export async function openSection(tx: Knex.Transaction, caller: Caller, sectionId: string, now = new Date()): Promise<{ roster: RosterRow; voucherId: string }> {
  const s = await lockSection(tx, sectionId, 'opening');
  if (now < s.bid_deadline) {
    throw new Conflict('before_deadline', `the bids open at or after the deadline ${s.bid_deadline.toISOString()}`, 'R3');
  }
  const actor = actorOf(caller);
  // R4: whatever is still short at the deadline never secured the bid and goes back.
  await invalidateShortDeposits(tx, sectionId, now);
  // R8: guarantees still covering R2 become secured; the guarantees capability says which.
  const guarantees = new Map((await secureGuaranteesAtOpening(tx, sectionId)).map((g) => [g.bidderId, g]));
  const entries = await computeRoster(tx, s, guarantees);
  await moveSection(tx, s, 'opening', { opened_at: now });
  const id = newId('rsn');
  const stored = entries.map((e) => ({ ...e, amountFen: e.amountFen === null ? null : e.amountFen.toString() }));
  await tx('rosters').insert({ id, section_id: sectionId, opened_at: now, required_deposit_fen: s.deposit_amount_fen, entries: JSON.stringify(stored), opened_by: caller.keyId });
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
        rules: e.rules,
      })),
    },
  });
  await tx('rosters').where({ id }).update({ voucher_id: voucherId });
  await appendAudit(tx, {
    actor,
    action: 'section.opened',
    entityType: 'section',
    entityId: sectionId,
    data: { rosterId: id, voucherId, secured: entries.filter((e) => e.status === 'secured').map((e) => e.bidderId), bidders: entries.length },
  });
  return { roster: (await findRoster(tx, sectionId))!, voucherId };
}

/** Every bidder that tried to secure the section: a virtual account, a credit, a guarantee or
 *  an application for one. */
async function computeRoster(tx: Knex.Transaction, s: LifecycleSection, guarantees: Map<string, RosterGuarantee>): Promise<RosterEntry[]> {
  const bidderIds = (
    await tx.raw(
      `SELECT bidder_id FROM deposit_accounts WHERE section_id = ?
       UNION SELECT bidder_id FROM deposits WHERE section_id = ? AND bidder_id IS NOT NULL
       UNION SELECT bidder_id FROM guarantees WHERE section_id = ?
       UNION SELECT bidder_id FROM guarantee_applications WHERE section_id = ?
       ORDER BY 1 LIMIT ?`,
      [s.id, s.id, s.id, s.id, rosterBiddersMax + 1],
    )
  ).rows.map((r: { bidder_id: string }) => r.bidder_id) as string[];
  assert(bidderIds.length <= rosterBiddersMax, `section ${s.id} has more than ${rosterBiddersMax} bidders`);
  const entries: RosterEntry[] = [];
  for (const bidderId of bidderIds) {
    const bidder = (await registryRepo.findBidder(tx, bidderId))!;
    const deposits = (await tx<DepositRow>('deposits').where({ section_id: s.id, bidder_id: bidderId }).orderBy('id')) as DepositRow[];
    const rg = guarantees.get(bidderId);
    const g = rg ? await tx('guarantees').where({ id: rg.guaranteeId }).first() : undefined;
    const withdrawn = !!(await tx('withdrawals').where({ section_id: s.id, bidder_id: bidderId }).first());
    const verdict = rosterVerdict({
      requiredFen: s.deposit_amount_fen,
      deposits: deposits.map((d) => ({ id: d.id, status: d.status, amountFen: d.amount_fen, excessFen: d.excess_fen, failedRules: d.failed_rules })),
      guarantee:
        rg && g ? { id: g.id, number: g.number, status: rg.status === 'secured' ? 'secured' : 'rejected', amountFen: g.amount_fen, failedRules: rg.rules } : undefined,
      withdrawn,
    });
    entries.push({
      bidderId,
      name: bidder.name,
      uscc: bidder.uscc,
      security: verdict.security,
      status: verdict.status,
      rules: verdict.rules,
      amountFen: verdict.amountFen ?? null,
      depositIds: deposits.map((d) => d.id),
      guaranteeId: g?.id ?? null,
      guaranteeNumber: g?.number ?? null,
    });
  }
  return entries;
}

export const findRoster = (tx: Knex | Knex.Transaction, sectionId: string) => tx<RosterRow>('rosters').where({ section_id: sectionId }).first() as Promise<RosterRow | undefined>;

// ---- refunds owed by section events -------------------------------------------------------

/** Deposits of a section still held for their bidder: valid (or, on termination, still being
 *  checked), not forfeited, and with no refund of their secured part scheduled yet (an
 *  `excess` refund returns only the part above the requirement, R4). */
async function depositsOwed(tx: Knex.Transaction, sectionId: string, statuses: string[], bidderFilter?: (bidderId: string) => boolean): Promise<DepositRow[]> {
  const rows = (await tx<DepositRow>('deposits')
    .where({ section_id: sectionId })
    .whereIn('status', statuses)
    .whereNotExists(tx('refunds').select(tx.raw('1')).whereRaw('refunds.deposit_id = deposits.id').whereNot('refunds.reason', 'excess'))
    .orderBy('id')
    .limit(sectionDepositsMax + 1)) as DepositRow[];
  assert(rows.length <= sectionDepositsMax, `section ${sectionId} holds more than ${sectionDepositsMax} deposits`);
  return rows.filter((d) => d.amount_fen - d.excess_fen > 0n && (!bidderFilter || bidderFilter(d.bidder_id!)));
}

async function scheduleFor(tx: Knex.Transaction, deposits: DepositRow[], reason: RefundReason, eventAt: Date, actor: Actor): Promise<string[]> {
  const ids: string[] = [];
  for (const d of deposits) {
    const { refund } = await scheduleRefund(tx, { depositId: d.id, reason, principalFen: d.amount_fen - d.excess_fen, eventAt, actor });
    ids.push(refund.id);
  }
  return ids;
}

// ---- award -----------------------------------------------------------------------------------

export interface AwardInput {
  winnerBidderId: string;
  evaluationReportAt: string;
  noticeAt: string;
}

export async function awardSection(tx: Knex.Transaction, caller: Caller, sectionId: string, input: AwardInput): Promise<{ section: LifecycleSection; refundIds: string[] }> {
  const s = await lockSection(tx, sectionId, 'award');
  if (!r14AwardWithinLimit(input.evaluationReportAt, input.noticeAt)) {
    throw new RuleViolation(
      'R14',
      'award_outside_evaluation_limit',
      `the award must come within ${awardAfterEvaluationDaysMax} days after the evaluation report (and not before it)`,
      'noticeAt',
    );
  }
  const roster = await findRoster(tx, sectionId);
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
    refundIds = await scheduleFor(tx, owed, 'award_non_winner', noticeAt, actor);
  }
  await appendAudit(tx, { actor, action: 'section.awarded', entityType: 'section', entityId: sectionId, data: { ...input, refundIds } });
  return { section: (await findLifecycleSection(tx, sectionId))!, refundIds };
}

// ---- contract ----------------------------------------------------------------------------------

export async function recordContract(tx: Knex.Transaction, caller: Caller, sectionId: string, input: { signedAt: string }): Promise<{ section: LifecycleSection; refundIds: string[]; releasedGuaranteeIds: string[] }> {
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
  const refundIds = await scheduleFor(tx, owed, 'contract', signedAt, actor);
  const releasedGuaranteeIds = await releaseGuaranteesForSection(tx, sectionId, 'contract', actor);
  await appendAudit(tx, { actor, action: 'section.contracted', entityType: 'section', entityId: sectionId, data: { signedAt: input.signedAt, refundIds, releasedGuaranteeIds } });
  return { section: (await findLifecycleSection(tx, sectionId))!, refundIds, releasedGuaranteeIds };
}

// ---- termination -------------------------------------------------------------------------------

export async function terminateSection(tx: Knex.Transaction, caller: Caller, sectionId: string, input: { reason: string }, now = new Date()): Promise<{ section: LifecycleSection; refundIds: string[]; releasedGuaranteeIds: string[] }> {
  const s = await lockSection(tx, sectionId, 'termination');
  await moveSection(tx, s, 'termination', { terminated_at: now, termination_reason: input.reason });
  const actor = actorOf(caller);
  // R16: every deposit goes back at once, those still being checked included.
  const owed = await depositsOwed(tx, sectionId, ['valid', 'received']);
  let refundIds: string[];
  try {
    refundIds = await scheduleFor(tx, owed, 'termination', now, actor);
  } catch (e) {
    if (e instanceof NoRefundDeadline) throw new Unprocessable('no_refund_deadline', e.message);
    throw e;
  }
  const releasedGuaranteeIds = await releaseGuaranteesForSection(tx, sectionId, 'termination', actor);
  await appendAudit(tx, { actor, action: 'section.terminated', entityType: 'section', entityId: sectionId, data: { reason: input.reason, refundIds, releasedGuaranteeIds, total: formatAmount(owed.reduce((t, d) => t + d.amount_fen - d.excess_fen, 0n)) } });
  return { section: (await findLifecycleSection(tx, sectionId))!, refundIds, releasedGuaranteeIds };
}

export const findLifecycleSection = (tx: Knex | Knex.Transaction, id: string) => tx<LifecycleSection>('sections').where({ id }).first() as Promise<LifecycleSection | undefined>;
