// A credit the bank notified becomes a deposit, in the transaction that records it: matched to
// the bidder and section by its virtual sub-account, checked (R3, R4, R5), posted to the ledger,
// and, where it does not secure the bid or exceeds the requirement, scheduled to go back where
// it came from (R15, R17). Nothing here trusts the bank message beyond what it says happened.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { CreditEntry } from '../banks/types';
import type { BankRow, BidderRow, SectionRow } from '../registry/repo';
import { depositAccountSpec, postJournal, suspenseAccountSpec, trustAccountSpec } from '../ledger';
import { requestVoucher } from '../vouchers/requests';
import * as repo from './repo';
import { r3BookedBeforeDeadline, r4Currency, r4Total, r5FromBasicAccount, type RuleCheck } from './rules';
import { scheduleRefund } from './refunds';

const bankActor = (bankId: string) => ({ type: 'bank' as const, id: bankId });

/** The ledger reference of a bank entry: one journal per entry, ever. */
export const creditJournalRef = (bankId: string, entryRef: string) => `${bankId}:${entryRef}`;

export type RecordOutcome = { kind: 'duplicate' } | { kind: 'recorded'; depositId: string; status: repo.DepositStatus };

export async function recordCredit(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<RecordOutcome> {
  assert(entry.amountFen > 0n, `credit ${entry.entryRef} is positive`);
  const bookedAt = new Date(entry.bookedAt);
  assert(!Number.isNaN(bookedAt.getTime()), `credit ${entry.entryRef} has a booking time`);
  const creditId = newId('crd');
  // Keyed by the bank's own entry reference: an entry repeated in this or any later message,
  // or arriving in two messages at once, is recorded once (the second insert waits for the
  // first to commit and then does nothing).
  const inserted = await tx('credits')
    .insert({
      id: creditId,
      bank_id: bank.id,
      entry_ref: entry.entryRef,
      message_id: messageId,
      virtual_account: entry.virtualAccount,
      amount_fen: entry.amountFen,
      currency: entry.currency,
      booked_at: bookedAt,
      value_date: entry.valueDate,
      debtor_name: entry.debtor.name,
      debtor_account: entry.debtor.accountNumber,
      debtor_bank_code: entry.debtor.bankCode ?? null,
      remittance: entry.remittance ?? null,
      end_to_end_id: entry.endToEndId ?? null,
    })
    .onConflict(['bank_id', 'entry_ref'])
    .ignore()
    .returning('id');
  if (inserted.length === 0) return { kind: 'duplicate' };

  const account = await repo.lockDepositAccountByNumber(tx, bank.id, entry.virtualAccount);
  const depositId = newId('dep');
  if (!account) {
    // R15: nobody to credit. The money is in the trust account, owed to someone a person must
    // identify; nothing is returned automatically.
    await tx('deposits').insert({
      id: depositId, credit_id: creditId, bank_id: bank.id, virtual_account: entry.virtualAccount, amount_fen: entry.amountFen, status: 'suspense',
      checks: JSON.stringify([{ rule: 'R15', ok: false, detail: `no sub-account ${entry.virtualAccount} at this bank` }]),
    });
    await postCredit(tx, bank, entry, suspenseAccountSpec(bank.id), `credit ${entry.entryRef} to unknown account ${entry.virtualAccount}: suspense`);
    await appendAudit(tx, { actor: bankActor(bank.id), action: 'deposit.suspense', entityType: 'deposit', entityId: depositId, data: { creditId, entryRef: entry.entryRef, virtualAccount: entry.virtualAccount, amount: formatAmount(entry.amountFen) } });
    return { kind: 'recorded', depositId, status: 'suspense' };
  }

  const section = (await tx<SectionRow>('sections').where({ id: account.section_id }).first())!;
  const bidder = (await tx<BidderRow>('bidders').where({ id: account.bidder_id }).first())!;
  const checks: RuleCheck[] = [
    r3BookedBeforeDeadline(bookedAt, section.bid_deadline),
    r5FromBasicAccount(entry.debtor, { number: bidder.basic_account_number, name: bidder.basic_account_name }),
  ];
  const currencyCheck = r4Currency(entry.currency);
  if (currencyCheck) checks.push(currencyCheck);
  const base = { id: depositId, credit_id: creditId, bank_id: bank.id, section_id: section.id, bidder_id: bidder.id, virtual_account: entry.virtualAccount, amount_fen: entry.amountFen };
  const memo = `credit ${entry.entryRef} ${formatAmount(entry.amountFen)} to ${entry.virtualAccount} (${section.id}/${bidder.id})`;

  const failed = checks.filter((c) => !c.ok).map((c) => c.rule);
  if (failed.length > 0) {
    await tx('deposits').insert({ ...base, status: 'invalid', checks: JSON.stringify(checks), failed_rules: failed });
    await postCredit(tx, bank, entry, depositAccountSpec(depositId, bank.id, section.id), memo);
    await appendAudit(tx, { actor: bankActor(bank.id), action: 'deposit.invalid', entityType: 'deposit', entityId: depositId, data: { creditId, sectionId: section.id, bidderId: bidder.id, amount: formatAmount(entry.amountFen), rules: failed, checks } });
    // R15: a credit that fails R3/R4/R5 goes back to its source automatically.
    await scheduleRefund(tx, { depositId, reason: 'invalid', principalFen: entry.amountFen, eventAt: bookedAt });
    return { kind: 'recorded', depositId, status: 'invalid' };
  }

  const others = (await repo.depositsOf(tx, section.id, bidder.id)).filter((d) => d.status === 'valid' || d.status === 'received');
  const securedFen = others.filter((d) => d.status === 'valid').reduce((s, d) => s + d.amount_fen - d.excess_fen, 0n);
  const waiting = others.filter((d) => d.status === 'received');
  const waitingFen = waiting.reduce((s, d) => s + d.amount_fen, 0n);
  const r4 = r4Total({ requiredFen: section.deposit_amount_fen, securedFen, waitingFen, creditFen: entry.amountFen });
  checks.push(r4.check);
  const now = new Date();
  if (r4.kind === 'short') {
    await tx('deposits').insert({ ...base, status: 'received', checks: JSON.stringify(checks) });
    await postCredit(tx, bank, entry, depositAccountSpec(depositId, bank.id, section.id), memo);
    await appendAudit(tx, { actor: bankActor(bank.id), action: 'deposit.received', entityType: 'deposit', entityId: depositId, data: { creditId, sectionId: section.id, bidderId: bidder.id, amount: formatAmount(entry.amountFen), total: formatAmount(r4.totalFen), required: formatAmount(section.deposit_amount_fen) } });
    return { kind: 'recorded', depositId, status: 'received' };
  }
  await tx('deposits').insert({ ...base, status: 'valid', excess_fen: r4.excessFen, valid_at: now, checks: JSON.stringify(checks) });
  await postCredit(tx, bank, entry, depositAccountSpec(depositId, bank.id, section.id), memo);
  const nowValid = [depositId];
  for (const d of waiting) {
    const n = await tx('deposits').where({ id: d.id, status: 'received' }).update({
      status: 'valid', valid_at: now, updated_at: now,
      checks: JSON.stringify([...d.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: true, detail: `topped up by ${depositId}: ${r4.check.detail}` }]),
    });
    assert(n === 1, `waiting deposit ${d.id} is still received`);
    nowValid.push(d.id);
  }
  for (const id of nowValid) {
    await appendAudit(tx, { actor: bankActor(bank.id), action: 'deposit.valid', entityType: 'deposit', entityId: id, data: { sectionId: section.id, bidderId: bidder.id, total: formatAmount(r4.totalFen), required: formatAmount(section.deposit_amount_fen) } });
    await requestReceipt(tx, id);
  }
  if (r4.excessFen > 0n) await scheduleRefund(tx, { depositId, reason: 'excess', principalFen: r4.excessFen, eventAt: bookedAt });
  return { kind: 'recorded', depositId, status: 'valid' };
}

async function postCredit(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry, liability: ReturnType<typeof suspenseAccountSpec>, memo: string): Promise<void> {
  const posted = await postJournal(tx, {
    kind: 'credit',
    ref: creditJournalRef(bank.id, entry.entryRef),
    memo,
    postings: [
      { account: trustAccountSpec(bank.id), amountFen: entry.amountFen },
      { account: liability, amountFen: -entry.amountFen },
    ],
  });
  // The credits row is unique on the same key, so reaching here twice is a bug.
  assert(posted.created, `entry ${entry.entryRef} posted once`);
}

async function requestReceipt(tx: Knex.Transaction, depositId: string): Promise<void> {
  const d = (await repo.findDeposit(tx, depositId))!;
  const c = (await repo.findCredit(tx, d.credit_id))!;
  await requestVoucher(tx, {
    kind: 'deposit_receipt',
    subjectType: 'deposit',
    subjectId: d.id,
    sectionId: d.section_id!,
    bidderId: d.bidder_id!,
    data: {
      depositId: d.id,
      sectionId: d.section_id,
      bidderId: d.bidder_id,
      virtualAccount: d.virtual_account,
      amountFen: d.amount_fen,
      excessFen: d.excess_fen,
      securedFen: d.amount_fen - d.excess_fen,
      currency: c.currency,
      payer: { name: c.debtor_name, accountNumber: c.debtor_account, bankCode: c.debtor_bank_code },
      bookedAt: c.booked_at.toISOString(),
      valueDate: c.value_date,
      entryRef: c.entry_ref,
    },
  });
}

/** For the opening: credits still short of the requirement at the deadline never secured the
 *  bid (R4) and go back to where they came from. */
export async function invalidateShortDeposits(tx: Knex.Transaction, sectionId: string, at = new Date()): Promise<string[]> {
  const waiting = (await tx<repo.DepositRow>('deposits').where({ section_id: sectionId, status: 'received' }).forUpdate()) as repo.DepositRow[];
  for (const d of waiting) {
    const checks = [...d.checks.filter((c) => c.rule !== 'R4'), { rule: 'R4', ok: false, detail: 'the total was short of the required amount at the deadline' }];
    await tx('deposits').where({ id: d.id }).update({ status: 'invalid', failed_rules: ['R4'], checks: JSON.stringify(checks), updated_at: at });
    await appendAudit(tx, { actor: { type: 'system' }, action: 'deposit.invalid', entityType: 'deposit', entityId: d.id, data: { sectionId, bidderId: d.bidder_id, rules: ['R4'] } });
    await scheduleRefund(tx, { depositId: d.id, reason: 'invalid', principalFen: d.amount_fen, eventAt: at });
  }
  return waiting.map((d) => d.id);
}
