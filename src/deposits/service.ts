// Deposit use cases a caller starts: sub-accounts, withdrawals (R9, R10), forfeiture (R12) and
// reading with the seal of R18.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert, Conflict, NotFound, RuleViolation, Unprocessable } from '../errors';
import { formatAmount } from '../domain/money';
import { makeVirtualAccount } from '../domain/virtualAccount';
import type { Caller } from '../http/auth';
import { findBank, findBidder, findSectionForUpdate, type SectionRow } from '../registry/repo';
import { actorOf } from '../registry/service';
import { depositAccount, forfeitPayableAccountSpec, postJournal } from '../ledger';
import * as repo from './repo';
import { scheduleRefund } from './refunds';

export const forfeitReasons = ['withdrawal_after_deadline', 'refused_to_sign', 'conditions_at_signing', 'no_performance_security', 'false_documents'] as const;
export type ForfeitReason = (typeof forfeitReasons)[number];
/** The winner's own failures at signing (实施条例 74): only after the award names it. */
const winnerReasons: readonly ForfeitReason[] = ['refused_to_sign', 'conditions_at_signing', 'no_performance_security'];
const awardedStatuses = ['awarded', 'contracted', 'closed'];

/** A bidder acts only for itself; anything else is answered as if the section did not exist. */
function requireSelfOrCentre(caller: Caller, bidderId: string, sectionId: string): void {
  if (caller.role === 'bidder' && caller.bidderId !== bidderId) throw new NotFound('section', sectionId);
}

async function lockSection(tx: Knex.Transaction, sectionId: string): Promise<SectionRow> {
  const section = await findSectionForUpdate(tx, sectionId);
  if (!section) throw new NotFound('section', sectionId);
  return section;
}

export async function openDepositAccount(tx: Knex.Transaction, caller: Caller, sectionId: string, bidderId: string, now = new Date()) {
  requireSelfOrCentre(caller, bidderId, sectionId);
  const existing = await repo.findDepositAccount(tx, sectionId, bidderId);
  if (existing) return { account: existing, created: false };
  const section = await tx<SectionRow>('sections').where({ id: sectionId }).first();
  if (!section) throw new NotFound('section', sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  if (!section.accepted_security.includes('cash') || !section.deposit_bank_id) {
    throw new Unprocessable('cash_not_accepted', 'this section does not accept cash deposits', 'sectionId');
  }
  if (section.status !== 'open' || now >= section.bid_deadline) throw new Conflict('section_closed', 'the section no longer takes deposits: the bid deadline has passed', 'R3');
  const bank = (await findBank(tx, section.deposit_bank_id))!;
  const [{ serial }] = (await tx.raw("SELECT nextval('virtual_account_serial_seq') AS serial")).rows as { serial: bigint }[];
  const number = makeVirtualAccount(bank.virtual_account_prefix, serial);
  // Two requests at once: one inserts, the other finds the row the first committed.
  const inserted = await tx('deposit_accounts')
    .insert({ virtual_account: number, bank_id: bank.id, section_id: sectionId, bidder_id: bidderId, serial })
    .onConflict(['section_id', 'bidder_id'])
    .ignore()
    .returning('*');
  if (inserted.length === 0) return { account: (await repo.findDepositAccount(tx, sectionId, bidderId))!, created: false };
  await appendAudit(tx, { actor: actorOf(caller), action: 'deposit_account.opened', entityType: 'section', entityId: sectionId, data: { bidderId, virtualAccount: number, bankId: bank.id } });
  return { account: inserted[0] as repo.DepositAccountRow, created: true };
}

/** R9 / R10. A second withdrawal is 409: the first is the bidder's written notice and its date
 *  fixes the refund deadline, which a later one must not move. */
export async function withdraw(tx: Knex.Transaction, caller: Caller, sectionId: string, bidderId: string, now = new Date()) {
  requireSelfOrCentre(caller, bidderId, sectionId);
  const section = await lockSection(tx, sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  if (['terminated', 'closed', 'contracted'].includes(section.status)) throw new Conflict('section_finished', `the section is ${section.status}`);
  const afterDeadline = now >= section.bid_deadline;
  const inserted = await tx('withdrawals')
    .insert({ section_id: sectionId, bidder_id: bidderId, withdrawn_at: now, after_deadline: afterDeadline, recorded_by: caller.keyId })
    .onConflict(['section_id', 'bidder_id'])
    .ignore()
    .returning('*');
  if (inserted.length === 0) throw new Conflict('already_withdrawn', 'this bidder has already withdrawn from the section');
  const refunds: repo.RefundRow[] = [];
  if (!afterDeadline) {
    // R9: everything the bidder paid that still secures (or was building up to securing) the
    // bid goes back; excess and invalid credits already have their own refunds.
    const deposits = (await repo.depositsOf(tx, sectionId, bidderId)).filter((d) => d.status === 'valid' || d.status === 'received');
    for (const d of deposits) {
      const principalFen = d.amount_fen - d.excess_fen;
      if (principalFen === 0n) continue;
      const { refund } = await scheduleRefund(tx, { depositId: d.id, reason: 'withdrawal', principalFen, eventAt: now, actor: actorOf(caller) });
      refunds.push(refund);
    }
  }
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: afterDeadline ? 'withdrawal.after_deadline' : 'withdrawal.before_deadline',
    entityType: 'section',
    entityId: sectionId,
    data: { bidderId, withdrawnAt: now.toISOString(), afterDeadline, refundIds: refunds.map((r) => r.id), rule: afterDeadline ? 'R10' : 'R9' },
  });
  return { withdrawal: inserted[0] as repo.WithdrawalRow, refunds };
}

export async function forfeit(tx: Knex.Transaction, caller: Caller, sectionId: string, bidderId: string, reason: ForfeitReason, now = new Date()) {
  const section = await lockSection(tx, sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  if (now < section.bid_deadline) throw new RuleViolation('R12', 'forfeiture_not_allowed', 'no deposit can be forfeited before the bid deadline (a withdrawal before it is refunded, R9)');
  if (reason === 'withdrawal_after_deadline') {
    const w = await repo.findWithdrawal(tx, sectionId, bidderId);
    if (!w || !w.after_deadline) throw new RuleViolation('R12', 'forfeiture_not_allowed', 'no withdrawal after the deadline is recorded for this bidder');
  } else if (winnerReasons.includes(reason)) {
    const winner = (section as SectionRow & { winner_bidder_id?: string | null }).winner_bidder_id;
    if (!awardedStatuses.includes(section.status) || winner !== bidderId) {
      throw new RuleViolation('R12', 'forfeiture_not_allowed', `${reason} applies only to the winner of an awarded section`);
    }
  }
  const deposits = (await tx<repo.DepositRow>('deposits').where({ section_id: sectionId, bidder_id: bidderId, status: 'valid' }).forUpdate()) as repo.DepositRow[];
  if (deposits.length === 0) throw new Conflict('no_valid_deposit', 'this bidder has no valid deposit on the section to forfeit');
  const actor = actorOf(caller);
  const forfeited: { depositId: string; amountFen: bigint }[] = [];
  for (const d of deposits) {
    const committed = (await repo.refundsOfDeposit(tx, d.id)).filter((r) => r.reason !== 'excess' && r.reason !== 'invalid');
    if (committed.length > 0) throw new Conflict('refund_scheduled', `deposit ${d.id} is already being refunded (${committed[0].reason})`);
    const amountFen = d.amount_fen - d.excess_fen;
    assert(amountFen > 0n, `deposit ${d.id} secures something`);
    // The excess stays owed to the payer (its own refund); the secured part becomes the
    // tenderee's.
    await postJournal(tx, {
      kind: 'forfeiture',
      ref: d.id,
      memo: `forfeiture of ${d.id} (${reason}) to the tenderee of ${sectionId}`,
      postings: [
        { account: depositAccount(d.id), amountFen },
        { account: forfeitPayableAccountSpec(sectionId), amountFen: -amountFen },
      ],
    });
    const n = await tx('deposits').where({ id: d.id, status: 'valid' }).update({ status: 'forfeited', forfeit_reason: reason, forfeited_by: caller.keyId, forfeited_at: now, updated_at: now });
    assert(n === 1, `deposit ${d.id} moved from valid to forfeited`);
    await appendAudit(tx, { actor, action: 'deposit.forfeited', entityType: 'deposit', entityId: d.id, data: { sectionId, bidderId, reason, amount: formatAmount(amountFen), decidedBy: caller.keyId, rule: 'R12' } });
    forfeited.push({ depositId: d.id, amountFen });
  }
  return { sectionId, bidderId, reason, decidedBy: caller.keyId, decidedAt: now, forfeited };
}

/** R18: before opening only the centre, the auditor and the bidder itself learn who paid. */
export function visibilityFilter(q: Knex.QueryBuilder, caller: Caller): Knex.QueryBuilder {
  if (caller.role === 'bidder') return q.where('deposits.bidder_id', caller.bidderId!);
  if (caller.role === 'tenderee') {
    return q.whereIn('deposits.section_id', function () {
      this.select('id').from('sections').where('tenderee_id', caller.tendereeId!).whereNot('status', 'open');
    });
  }
  assert(caller.role === 'centre' || caller.role === 'auditor', `role ${caller.role} may list deposits`);
  return q;
}

export async function getVisibleDeposit(tx: Knex | Knex.Transaction, caller: Caller, id: string): Promise<repo.DepositRow> {
  const row = (await visibilityFilter(tx('deposits').where('deposits.id', id), caller).first()) as repo.DepositRow | undefined;
  if (!row) throw new NotFound('deposit', id);
  return row;
}
