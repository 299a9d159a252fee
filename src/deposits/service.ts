// Deposit use cases a caller starts: sub-accounts, withdrawals (R9, R10), forfeiture (R12),
// returning a credit held in suspense (R15), the centre's decision on a deposit held because R3
// could not be decided, and reading with the seal of R18.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert, Conflict, NotFound, RuleViolation, Unprocessable } from '../errors';
import type { Calendar } from '../domain/calendar';
import { formatAmount } from '../domain/money';
import { makeVirtualAccount } from '../domain/virtualAccount';
import type { Tx } from '../db/knex';
import type { Caller } from '../http/auth';
import { paginate, type Page } from '../http/pagination';
import { findBank, findBidder, findSection, findSectionForUpdate, type BankRow, type SectionRow } from '../registry/repo';
import { requirementFor } from '../credit/service';
import type { RequiredSecurity } from '../domain/creditReduction';
import { actorOf } from '../registry/service';
import { depositAccount, depositAccountSpec, forfeitPayableAccountSpec, postingsOf, postJournal, suspenseAccountSpec, type JournalRow, type PostingRow } from '../ledger';
import type { RefundRow } from '../refunds/repo';
import type { RefundReason } from '../domain/dueDates';
import { refundsOfDeposit, scheduleRefund, scheduleSuspenseReturn } from '../refunds/service';
import { announce, creditJournalRef, judgeR4, scheduleRefundsOwed, type Verdict } from './matching';
import * as repo from './repo';
import { checkSectionTakesCredits, heldOnR3, r18DepositScope, type ForfeitReason, type RuleCheck } from './rules';
import { checkR12Ground } from '../domain/rules';
import { r12FactsOf } from '../sections/repo';

/** A bidder acts only for itself; anything else is answered as if the section did not exist. */
function requireSelfOrCentre(caller: Caller, bidderId: string, sectionId: string): void {
  if (caller.role === 'bidder' && caller.bidderId !== bidderId) throw new NotFound('section', sectionId);
}

async function lockSection(tx: Knex.Transaction, sectionId: string): Promise<SectionRow> {
  const section = await findSectionForUpdate(tx, sectionId);
  if (!section) throw new NotFound('section', sectionId);
  return section;
}

/** The bidder's sub-account with its instructions: the amount it must secure (R4), reduced for
 *  the credit grade it holds at the section's current deadline. */
export async function openDepositAccount(tx: Knex.Transaction, caller: Caller, sectionId: string, bidderId: string, now = new Date()): Promise<{ account: repo.DepositAccountRow; created: boolean; bank: BankRow; requirement: RequiredSecurity }> {
  const opened = await openAccount(tx, caller, sectionId, bidderId, now);
  const section = (await findSection(tx, sectionId))!;
  // The payer's bank needs the payee's bank and account name beside the sub-account number.
  const bank = (await findBank(tx, opened.account.bank_id))!;
  return { ...opened, bank, requirement: await requirementFor(tx, section, bidderId) };
}

async function openAccount(tx: Knex.Transaction, caller: Caller, sectionId: string, bidderId: string, now: Date) {
  requireSelfOrCentre(caller, bidderId, sectionId);
  const existing = await repo.findDepositAccount(tx, sectionId, bidderId);
  if (existing) return { account: existing, created: false };
  const section = await findSection(tx, sectionId);
  if (!section) throw new NotFound('section', sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  if (!section.accepted_security.includes('cash') || !section.deposit_bank_id) {
    throw new Unprocessable('cash_not_accepted', 'this section does not accept cash deposits', 'sectionId');
  }
  if (section.status !== 'open' || now >= section.bid_deadline) throw new Conflict('section_closed', 'the section no longer takes deposits: the bid deadline has passed', 'R3');
  const bank = (await findBank(tx, section.deposit_bank_id))!;
  const serial = await repo.nextVirtualAccountSerial(tx);
  const number = makeVirtualAccount(bank.virtual_account_prefix, serial);
  // Two requests at once: one inserts, the other finds the row the first committed.
  const inserted = await repo.insertDepositAccount(tx, { virtual_account: number, bank_id: bank.id, section_id: sectionId, bidder_id: bidderId, serial });
  if (!inserted) return { account: (await repo.findDepositAccount(tx, sectionId, bidderId))!, created: false };
  await appendAudit(tx, { actor: actorOf(caller), action: 'deposit_account.opened', entityType: 'section', entityId: sectionId, data: { bidderId, virtualAccount: number, bankId: bank.id } });
  return { account: inserted, created: true };
}

/** R9 / R10. A second withdrawal is 409: the first is the bidder's written notice and its date
 *  fixes the refund deadline, which a later one must not move. */
export async function withdraw(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, bidderId: string, now = new Date()) {
  requireSelfOrCentre(caller, bidderId, sectionId);
  const section = await lockSection(tx, sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  if (['terminated', 'closed', 'contracted'].includes(section.status)) throw new Conflict('section_finished', `the section is ${section.status}`);
  const afterDeadline = now >= section.bid_deadline;
  const withdrawal = await repo.insertWithdrawal(tx, { section_id: sectionId, bidder_id: bidderId, withdrawn_at: now, after_deadline: afterDeadline, recorded_by: caller.keyId });
  if (!withdrawal) throw new Conflict('already_withdrawn', 'this bidder has already withdrawn from the section');
  const refunds: RefundRow[] = [];
  if (!afterDeadline) {
    // R9: everything the bidder paid that still secures (or was building up to securing) the
    // bid goes back; excess and invalid credits already have their own refunds.
    const deposits = (await repo.depositsOf(tx, sectionId, bidderId)).filter((d) => d.status === 'valid' || d.status === 'received');
    for (const d of deposits) {
      const principalFen = d.amount_fen - d.excess_fen;
      if (principalFen === 0n) continue;
      const { refund } = await scheduleRefund(tx, calendar, { depositId: d.id, reason: 'withdrawal', principalFen, eventAt: now, actor: actorOf(caller) });
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
  return { withdrawal, refunds };
}

export interface Forfeiture {
  sectionId: string;
  bidderId: string;
  reason: ForfeitReason;
  decidedBy: string;
  decidedAt: Date;
  forfeited: { depositId: string; amountFen: bigint }[];
}

export async function forfeit(tx: Knex.Transaction, calendar: Calendar, caller: Caller, sectionId: string, bidderId: string, reason: ForfeitReason, now = new Date()): Promise<Forfeiture> {
  const section = await lockSection(tx, sectionId);
  if (!(await findBidder(tx, bidderId))) throw new Unprocessable('unknown_bidder', `no bidder ${bidderId}`, 'bidderId');
  // R12: the grounds, and the facts each rests on, are those of a claim on a guarantee.
  const ground = checkR12Ground(reason, await r12FactsOf(tx, section, bidderId, now));
  if (!ground.ok) throw new RuleViolation('R12', 'forfeiture_not_allowed', ground.detail, 'reason');
  const deposits = await repo.lockValidDepositsOf(tx, sectionId, bidderId);
  // R4: what secured the bid is each valid deposit's part up to the requirement; a payment above
  // it (all of a second payment) secured nothing, is not the tenderee's and goes back.
  const securing = deposits.filter((d) => d.amount_fen - d.excess_fen > 0n);
  if (securing.length === 0) throw new Conflict('no_valid_deposit', 'this bidder has no valid deposit on the section to forfeit');
  for (const d of securing) {
    const committed = (await refundsOfDeposit(tx, d.id)).filter((r) => r.reason !== 'excess' && r.reason !== 'invalid');
    if (committed.length > 0) throw new Conflict('refund_scheduled', `deposit ${d.id} is already being refunded (${committed[0].reason})`);
  }
  const actor = actorOf(caller);
  const forfeited: { depositId: string; amountFen: bigint }[] = [];
  for (const d of securing) {
    const amountFen = d.amount_fen - d.excess_fen;
    await postJournal(tx, {
      kind: 'forfeiture',
      ref: d.id,
      memo: `forfeiture of ${d.id} (${reason}) to the tenderee of ${sectionId}`,
      postings: [
        { account: depositAccount(d.id), amountFen },
        { account: forfeitPayableAccountSpec(sectionId), amountFen: -amountFen },
      ],
    });
    const n = await repo.markForfeited(tx, d.id, { reason, decidedBy: caller.keyId, now });
    assert(n === 1, `deposit ${d.id} moved from valid to forfeited`);
    await appendAudit(tx, { actor, action: 'deposit.forfeited', entityType: 'deposit', entityId: d.id, data: { sectionId, bidderId, reason, amount: formatAmount(amountFen), decidedBy: caller.keyId, rule: 'R12' } });
    forfeited.push({ depositId: d.id, amountFen });
  }
  // Every excess stays owed to the payer: its refund, scheduled when the credit came in, is
  // asked for again (the same refund is answered) so that none is left behind.
  for (const d of deposits) {
    if (d.excess_fen > 0n) await scheduleRefund(tx, calendar, { depositId: d.id, reason: 'excess', principalFen: d.excess_fen, eventAt: now, actor });
  }
  const totalFen = forfeited.reduce((t, f) => t + f.amountFen, 0n);
  assert(totalFen > 0n && totalFen <= section.deposit_amount_fen, `forfeiture of ${totalFen} fen on ${sectionId} is within the required ${section.deposit_amount_fen} fen`);
  return { sectionId, bidderId, reason, decidedBy: caller.keyId, decidedAt: now, forfeited };
}

// ---- suspense (R15) --------------------------------------------------------------------------
// The bank booked money to a virtual account the service does not know, so nobody's bid is
// secured by it. A person at the centre decides; returning it to the account it came from is a
// refund like any other (sent through the bank, exactly once), with the decision on record (R17:
// the source account, never another without a decision).

export async function returnSuspenseCredit(tx: Knex.Transaction, calendar: Calendar, caller: Caller, depositId: string, decision: string, now = new Date()): Promise<RefundRow> {
  const d = await repo.lockDeposit(tx, depositId);
  if (!d) throw new NotFound('deposit', depositId);
  if (d.status !== 'suspense') throw new Conflict('not_in_suspense', `deposit ${depositId} is ${d.status}, not in suspense`, 'R15');
  const credit = (await repo.findCredit(tx, d.credit_id))!;
  // The refund engine reserves from the credit's own liability account: move the money there
  // from suspense first, as a journal of its own.
  await postJournal(tx, {
    kind: 'suspense_release',
    ref: d.id,
    memo: `credit ${credit.entry_ref} released from suspense to be returned: ${decision}`.slice(0, 500),
    postings: [
      { account: suspenseAccountSpec(d.bank_id), amountFen: d.amount_fen },
      { account: depositAccountSpec(d.id, d.bank_id), amountFen: -d.amount_fen },
    ],
  });
  const checks = [{ rule: 'R15', ok: false, detail: `paid to unknown virtual account ${d.virtual_account}; returned to its source by decision` }];
  await repo.markInvalid(tx, d.id, { failedRules: ['R15'], checks, now });
  const refund = await scheduleSuspenseReturn(tx, calendar, { deposit: d, credit, decision, decidedBy: caller.keyId, now });
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'deposit.suspense_returned',
    entityType: 'deposit',
    entityId: d.id,
    data: { refundId: refund.id, decision, amount: formatAmount(d.amount_fen), creditorAccount: credit.debtor_account, entryRef: credit.entry_ref },
  });
  return refund;
}

// ---- held (R3) -------------------------------------------------------------------------------
// The bank gave only the booking date, the deadline's own date, and its notice came after the
// deadline (or there was none: recovered from a statement). Nothing on record says whether the
// money was booked before the deadline, so a person at the centre decides, from the bank's
// receipt or an inquiry, and the decision is kept with the person's key.

export type HeldDecision = 'on_time' | 'late';

export async function decideHeldDeposit(
  tx: Knex.Transaction,
  calendar: Calendar,
  caller: Caller,
  depositId: string,
  input: { decision: HeldDecision; note: string },
  now = new Date(),
): Promise<DepositDetail> {
  const found = await repo.findDeposit(tx, depositId);
  if (!found) throw new NotFound('deposit', depositId);
  if (!heldOnR3(found)) throw notHeld(found);
  // The locks of a credit to the same sub-account, in the same order (sub-account, section,
  // deposits), so a decision and a credit, or a decision and a section event, see each other.
  await repo.lockDepositAccountByNumber(tx, found.bank_id, found.virtual_account);
  const section = (await repo.lockSectionForCredit(tx, found.section_id!))!;
  const d = (await repo.lockDeposit(tx, depositId))!;
  if (!heldOnR3(d)) throw notHeld(d);
  assert(d.section_id !== null && d.bidder_id !== null && d.held_reason !== null, `held deposit ${d.id} belongs to a bidder on a section and says why it is held`);
  const actor = actorOf(caller);
  const onTime = input.decision === 'on_time';
  const r3: RuleCheck = { rule: 'R3', ok: onTime, detail: `${d.held_reason}; decided ${onTime ? 'on time' : 'late'} by the centre (${caller.keyId}): ${input.note}` };
  const others = d.checks.filter((c) => c.rule !== 'R3') as RuleCheck[];
  const verdict: Verdict = onTime ? await judgeR4(tx, section, d.bidder_id, d.amount_fen, [r3, ...others]) : { status: 'invalid', checks: [r3, ...others], failed: ['R3'] };
  assert(verdict.status !== 'held', `a decided deposit ${d.id} is no longer held`);
  const excessFen = verdict.status === 'valid' ? verdict.r4.excessFen : 0n;
  const n = await repo.markHeldDecided(tx, d.id, { status: verdict.status, checks: verdict.checks, failedRules: verdict.status === 'invalid' ? verdict.failed : [], excessFen, now });
  assert(n === 1, `deposit ${d.id} moved from held once`);
  await appendAudit(tx, {
    actor,
    action: 'deposit.held_decided',
    entityType: 'deposit',
    entityId: d.id,
    data: { sectionId: d.section_id, bidderId: d.bidder_id, decision: input.decision, note: input.note, decidedBy: caller.keyId, heldReason: d.held_reason, status: verdict.status, rule: 'R3' },
  });
  await announce(tx, actor, { depositId: d.id, creditId: d.credit_id, section, bidderId: d.bidder_id, amountFen: d.amount_fen }, verdict, now);
  await scheduleRefundsOwed(tx, calendar, { depositId: d.id, amountFen: d.amount_fen }, verdict, now, actor);
  // A section event that came while the deposit was held did not refund it: the decision does.
  const owed = verdict.status === 'invalid' ? undefined : refundOwedBySectionEvent(section, d.bidder_id, verdict.status);
  const securedFen = d.amount_fen - excessFen;
  if (owed && securedFen > 0n) await scheduleRefund(tx, calendar, { depositId: d.id, reason: owed, principalFen: securedFen, eventAt: now, actor });
  return getVisibleDeposit(tx, caller, d.id);
}

function notHeld(d: repo.DepositRow): Conflict {
  const why = d.status === 'held' ? `held for another reason (${d.held_reason ?? 'no reason given'})` : d.status;
  return new Conflict('not_held', `deposit ${d.id} is ${why}, not held for a decision on R3`, 'R3');
}

/** The refund a section event already owes every deposit of its kind (sections/service.ts):
 *  termination refunds valid and received ones (R16); the contract every valid one (R11); an
 *  award under government procurement the valid ones of non-winners (R11). */
function refundOwedBySectionEvent(section: SectionRow, bidderId: string, status: 'valid' | 'received'): RefundReason | undefined {
  const ended = checkSectionTakesCredits({ status: section.status, contractSignedAt: section.contract_signed_at, terminatedAt: section.terminated_at });
  if (ended?.rule === 'R16') return 'termination';
  if (status !== 'valid') return undefined;
  if (ended?.rule === 'R11') return 'contract';
  if (section.status === 'awarded' && section.regime === 'government_procurement' && section.winner_bidder_id !== bidderId) return 'award_non_winner';
  return undefined;
}

// ---- reading (R18) ---------------------------------------------------------------------------

export interface DepositListQuery extends repo.DepositFilter {
  limit: number;
  cursor?: string;
}

export interface DepositWithCredit {
  deposit: repo.DepositRow;
  credit: repo.CreditRow;
}

export async function listDeposits(tx: Tx, caller: Caller, query: DepositListQuery): Promise<Page<DepositWithCredit>> {
  const q = repo.depositsWhere(tx, r18DepositScope(caller), query);
  return paginate(q, { ...query, idColumn: 'deposits.id' }, async (d: repo.DepositRow) => ({ deposit: d, credit: (await repo.findCredit(tx, d.credit_id))! }));
}

export interface DepositDetail extends DepositWithCredit {
  refunds: RefundRow[];
  ledger: { journal: JournalRow; postings: PostingRow[] }[];
}

/** The deposit with its refunds and every ledger posting of the journals that touched it. */
export async function getVisibleDeposit(tx: Tx, caller: Caller, id: string): Promise<DepositDetail> {
  const deposit = await repo.findDepositIn(tx, r18DepositScope(caller), id);
  if (!deposit) throw new NotFound('deposit', id);
  const credit = await repo.findCredit(tx, deposit.credit_id);
  if (!credit) throw new NotFound('deposit', id);
  const ledger = [];
  for (const journal of await repo.journalsOfDeposit(tx, depositAccount(deposit.id), creditJournalRef(credit.bank_id, credit.entry_ref))) {
    ledger.push({ journal, postings: await postingsOf(tx, journal.id) });
  }
  return { deposit, credit, refunds: await refundsOfDeposit(tx, deposit.id), ledger };
}
