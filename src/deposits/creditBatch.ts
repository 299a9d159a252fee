// Bank credits become deposits a set at a time, in the transaction that records them: the same
// rules as ever (claim once per bank entry, R15 suspense, R3/R4/R5, R11/R16, refunds owed), in a
// fixed number of statements whatever the set's size: one that inserts the credits and locks
// their sub-accounts and sections, one read of the bidders' standing deposits, one insert of the
// deposits, one update of those topped up, one of journals. Entries are judged in the order
// given, each seeing the ones before it (a top-up in the same message counts), exactly as if
// they had come one at a time.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert } from '../errors';
import type { Calendar } from '../domain/calendar';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { requirementKey, requirementsFor } from '../credit/service';
import type { CreditEntry } from '../banks/types';
import { sectionColumns, type BankRow, type SectionRow } from '../registry/repo';
import { depositAccountSpec, journalsPerBatchMax, postJournals, suspenseAccountSpec, trustAccountSpec, writeBatchSql, type AccountSpec, type JournalInput } from '../ledger';
import * as repo from './repo';
import { recordBankException } from './exceptions';
import { announceVerdict, eventOf, receiptCreditOf, receiptRows, requestReceipts, scheduleRefundsOwed, type Receipt, type ReceiptCredit, type ReceiptRow } from './creditEffects';
import { r4Currency } from './rules';
import { columnList, jsonParam, run, statement } from '../db/statements';
import { creditJournalRef, judgeCredit, toppedUpChecks, type Standing, type Verdict } from './verdicts';

/** One journal per entry, and the ledger takes at most this many in one statement. */
export const creditBatchEntriesMax = journalsPerBatchMax;

/** `exception`: not booked; a bank exception for the centre says why (a reference that names
 *  two different bookings, money in another currency). */
export type RecordOutcome = { kind: 'duplicate' } | { kind: 'exception' } | { kind: 'recorded'; depositId: string; status: repo.DepositStatus };

const bankActor = (bankId: string): Actor => ({ type: 'bank', id: bankId });

// Claim and lock in one statement. The credits rows first, once per bank entry (an entry on
// record, or being recorded by another transaction, is waited for and then skipped); then the
// sub-accounts of the entries claimed are locked for update (credits of one bidder for one
// section are judged one at a time, so two top-ups arriving together see each other, R4) and
// their sections for share (a section event locks it for update: either the credit commits first
// and the event sees its deposit, or the event first and the credit sees the section's new
// status). Locks are taken in account order, so two batches wait for each other instead of
// deadlocking; rows locked after a wait are read at their latest version.
const claimAndLock = statement(
  'deposits.claimAndLock',
  `WITH claimed AS (
     INSERT INTO credits (id, bank_id, entry_ref, message_id, virtual_account, amount_fen, currency, booked_at, value_date, debtor_name, debtor_account, debtor_bank_code, remittance, end_to_end_id, booking_date_only, notified_at)
     SELECT id, bank_id, entry_ref, message_id, virtual_account, amount_fen::bigint, currency, booked_at, value_date, debtor_name, debtor_account, debtor_bank_code, remittance, end_to_end_id, booking_date_only, notified_at
     FROM jsonb_to_recordset($1::jsonb) AS x(n int, id text, bank_id text, entry_ref text, message_id text, virtual_account text, amount_fen text, currency text, booked_at timestamptz, value_date date, debtor_name text, debtor_account text, debtor_bank_code text, remittance text, end_to_end_id text, booking_date_only boolean, notified_at timestamptz)
     ORDER BY n
     ON CONFLICT (bank_id, entry_ref) DO NOTHING
     RETURNING id, virtual_account
   ), locked AS (
     -- Each account looked up and locked by its key, in account order (the order every batch
     -- locks in, so two batches wait for each other instead of deadlocking); db/statements.ts
     -- says why by key and not by a join.
     SELECT l.* FROM (SELECT DISTINCT virtual_account FROM claimed ORDER BY virtual_account) v
     CROSS JOIN LATERAL (
       SELECT da.virtual_account AS da_virtual_account, da.bidder_id AS da_bidder_id, b.basic_account_number AS da_basic_number, b.basic_account_name AS da_basic_name, da.section_id AS da_section_id, ${columnList<SectionRow>('s', sectionColumns)}
       FROM deposit_accounts da JOIN sections s ON s.id = da.section_id JOIN bidders b ON b.id = da.bidder_id
       WHERE da.bank_id = $2 AND da.virtual_account = v.virtual_account
       FOR UPDATE OF da FOR SHARE OF s) l
   )
   -- The ids claimed ride on the first row only: on every row they would be parsed once per
   -- account locked, a million strings for a batch of a thousand. A section's columns ride on
   -- the first row of its accounts only, for the same reason (a thousand bidders of one section).
   SELECT CASE WHEN coalesce(l.lock_rank, 1) = 1 THEN c.claimed_ids END AS claimed_ids,
     l.da_virtual_account, l.da_bidder_id, l.da_basic_number, l.da_basic_name, l.da_section_id,
     ${Object.keys(sectionColumns).map((col) => `CASE WHEN l.section_rank = 1 THEN l.${col} END AS ${col}`).join(', ')}
   FROM (SELECT array_agg(id) AS claimed_ids FROM claimed) c
   LEFT JOIN (
     SELECT row_number() OVER (ORDER BY da_virtual_account) AS lock_rank, row_number() OVER (PARTITION BY da_section_id ORDER BY da_virtual_account) AS section_rank, locked.*
     FROM locked
   ) l ON true
   ORDER BY l.lock_rank`,
);

// A statement of its own after the locks, so its snapshot includes whatever the holders of those
// locks committed.
const standingDeposits = statement(
  'deposits.standing',
  // One index lookup per pair (db/statements.ts: plans that hold as the tables grow).
  `SELECT d.* FROM unnest($1::text[], $2::text[]) AS p(section_id, bidder_id)
   CROSS JOIN LATERAL (
     SELECT d.id, d.section_id, d.bidder_id, d.status, d.amount_fen, d.excess_fen, d.checks
     FROM deposits d WHERE d.section_id = p.section_id AND d.bidder_id = p.bidder_id AND d.status IN ('valid', 'received') OFFSET 0) d
   ORDER BY d.id`,
);

// The deposits are written in the statement that posts their journals (ledger's writeBatchSql):
// both are known once every credit is judged, and neither reads the other.
const insertDepositsWithJournals = statement(
  'deposits.insertWithJournals',
  writeBatchSql(`new_deposits AS (
     INSERT INTO deposits (id, credit_id, bank_id, section_id, bidder_id, virtual_account, amount_fen, excess_fen, status, checks, failed_rules, valid_at, held_reason)
     SELECT id, credit_id, bank_id, section_id, bidder_id, virtual_account, amount_fen::bigint, excess_fen::bigint, status, checks, failed_rules, valid_at, held_reason
     FROM jsonb_to_recordset($4::jsonb) AS x(id text, credit_id text, bank_id text, section_id text, bidder_id text, virtual_account text, amount_fen text, excess_fen text, status text, checks jsonb, failed_rules text[], valid_at timestamptz, held_reason text)
     RETURNING 1)`),
);

/** received → valid, for deposits committed before this batch that one of its credits topped up. */
const markToppedUpMany = statement(
  'deposits.markToppedUp',
  // Each deposit locked by its key, then updated where the lock found it: a locked row stays
  // where it is until this transaction moves it (db/statements.ts: plans that hold as the
  // tables grow). One another transaction changed since this statement began is not updated,
  // and the count checked by the caller sends the batch back to be run again.
  `UPDATE deposits d SET status = 'valid', valid_at = $2, updated_at = $2, checks = t.checks
   FROM (SELECT x.checks, r.ctid AS tid
           FROM jsonb_to_recordset($1::jsonb) AS x(id text, checks jsonb)
           CROSS JOIN LATERAL (SELECT ctid FROM deposits WHERE id = x.id AND status = 'received' LIMIT 1 FOR UPDATE) r) t
   WHERE d.ctid = t.tid
   RETURNING d.id`,
);

/** A sub-account locked, with its section's columns on the first row of the section only. */
type LockedAccount = { da_virtual_account: string; da_bidder_id: string; da_basic_number: string; da_basic_name: string; da_section_id: string } & (SectionRow | { id: null });

interface NewDepositRow {
  id: string;
  credit_id: string;
  bank_id: string;
  section_id: string | null;
  bidder_id: string | null;
  virtual_account: string;
  amount_fen: bigint;
  excess_fen: bigint;
  status: repo.DepositStatus;
  checks: repo.StoredCheck[];
  failed_rules: string[];
  valid_at: Date | null;
  held_reason: string | null;
}


type Plan =
  | { kind: 'suspense'; entry: CreditEntry; creditId: string; depositId: string }
  | { kind: 'matched'; entry: CreditEntry; creditId: string; depositId: string; bookedAt: Date; section: SectionRow; bidderId: string; verdict: Verdict };

/** A bank entry with the message it came in. `notifiedAt` is when that message reached us, which
 *  bounds a booking given as a date only (R3: a bank books before it notifies); null for an
 *  entry recovered from a statement, which has no notice. */
export interface NotifiedCredit {
  entry: CreditEntry;
  messageId: string;
  notifiedAt: Date | null;
}

/** Records bank entries of one bank as deposits, from one message or several; one outcome per
 *  entry, in order. `calendar` dates the refunds they owe (R19). `onClaimed` is called once the
 *  credits are claimed and their sub-accounts locked (or when there is nothing to claim): from
 *  then on another transaction's credits to the same sub-accounts wait for this one's commit. */
export async function recordCredits(tx: Knex.Transaction, calendar: Calendar, bank: BankRow, credits: NotifiedCredit[], onClaimed: () => void = () => {}): Promise<RecordOutcome[]> {
  assert(credits.length <= creditBatchEntriesMax, `at most ${creditBatchEntriesMax} credits in one batch`);
  const outcomes: RecordOutcome[] = new Array(credits.length);

  // Claim: the credits row of each entry, once per bank entry whatever message it comes in.
  const toClaim: { index: number; entry: CreditEntry; messageId: string; notifiedAt: Date | null; row: Omit<repo.CreditRow, 'received_at'> }[] = [];
  for (const [index, { entry, messageId, notifiedAt }] of credits.entries()) {
    assert(notifiedAt === null || !Number.isNaN(notifiedAt.getTime()), `message ${messageId} has a valid notice time`);
    const currency = r4Currency(entry.currency);
    if (currency) {
      outcomes[index] = await holdForeignCurrency(tx, bank, messageId, entry, currency.detail);
      continue;
    }
    assert(entry.amountFen > 0n, `credit ${entry.entryRef} is positive`);
    assert(!Number.isNaN(new Date(entry.bookedAt).getTime()), `credit ${entry.entryRef} has a booking time`);
    toClaim.push({ index, entry, messageId, notifiedAt, row: creditRowFor(newId('crd'), bank, messageId, entry, notifiedAt) });
  }
  if (toClaim.length === 0) {
    onClaimed();
    return outcomes;
  }
  const claimRows = await run<{ claimed_ids: string[] | null } & (LockedAccount | { da_virtual_account: null })>(tx, claimAndLock, [jsonParam(toClaim.map((c, n) => ({ n, ...c.row }))), bank.id]);
  onClaimed();
  const inserted = new Set(claimRows[0].claimed_ids ?? []);
  const locked = claimRows.filter((r): r is { claimed_ids: string[] | null } & LockedAccount => r.da_virtual_account !== null);
  const claimed: typeof toClaim = [];
  for (const c of toClaim) {
    if (inserted.has(c.row.id)) claimed.push(c);
    else outcomes[c.index] = (await sameEntryOnRecord(tx, bank, c.messageId, c.entry)) ? { kind: 'duplicate' } : { kind: 'exception' };
  }
  if (claimed.length === 0) return outcomes;

  // Match and judge, in order, each credit seeing those before it.
  const sections = new Map<string, SectionRow>();
  for (const a of locked) if (a.id !== null) sections.set(a.da_section_id, a as SectionRow);
  const accounts = new Map(locked.map((a) => [a.da_virtual_account, { ...a, section: sections.get(a.da_section_id)! }]));
  const pairKey = (sectionId: string, bidderId: string) => `${sectionId}\u0000${bidderId}`;
  const pairs = [...new Map([...accounts.values()].map((a) => [pairKey(a.da_section_id, a.da_bidder_id), a])).values()];
  const standing = new Map<string, Standing[]>(pairs.map((a) => [pairKey(a.da_section_id, a.da_bidder_id), []]));
  if (pairs.length > 0) {
    const rows = await run<Standing & { section_id: string; bidder_id: string }>(tx, standingDeposits, [pairs.map((a) => a.da_section_id), pairs.map((a) => a.da_bidder_id)]);
    for (const d of rows) standing.get(pairKey(d.section_id, d.bidder_id))!.push({ id: d.id, status: d.status, amount_fen: d.amount_fen, excess_fen: d.excess_fen, checks: d.checks });
  }
  // R4: what each bidder must secure, reduced for its credit grade at the section's deadline.
  const requirements = await requirementsFor(tx, pairs.map((a) => ({ section: a.section, bidderId: a.da_bidder_id })));
  const now = new Date();
  const newDeposits = new Map<string, NewDepositRow>();
  const receiptCredits = new Map<string, ReceiptCredit>();
  const toppedUpBefore: { id: string; checks: repo.StoredCheck[] }[] = [];
  const plans: Plan[] = [];
  for (const { index, entry, notifiedAt, row } of claimed) {
    const depositId = newId('dep');
    const base = { id: depositId, credit_id: row.id, bank_id: bank.id, virtual_account: entry.virtualAccount, amount_fen: entry.amountFen, excess_fen: 0n, failed_rules: [] as string[], valid_at: null, held_reason: null };
    const account = accounts.get(entry.virtualAccount);
    if (!account) {
      // R15: nobody to credit. The money is in the trust account, owed to someone a person must
      // identify; nothing is returned automatically.
      newDeposits.set(depositId, { ...base, section_id: null, bidder_id: null, status: 'suspense', checks: [{ rule: 'R15', ok: false, detail: `no sub-account ${entry.virtualAccount} at this bank` }] });
      plans.push({ kind: 'suspense', entry, creditId: row.id, depositId });
      outcomes[index] = { kind: 'recorded', depositId, status: 'suspense' };
      continue;
    }
    const { section } = account;
    const bidderId = account.da_bidder_id;
    const others = standing.get(pairKey(section.id, bidderId))!;
    const verdict = judgeCredit(section, { number: account.da_basic_number, name: account.da_basic_name }, { bookedAt: row.booked_at, bookingDateOnly: row.booking_date_only, notifiedAt, amountFen: entry.amountFen, debtor: entry.debtor }, others, requirements.get(requirementKey(section.id, bidderId)));
    const matched = { ...base, section_id: section.id, bidder_id: bidderId, checks: verdict.checks };
    if (verdict.status === 'invalid') newDeposits.set(depositId, { ...matched, status: 'invalid', failed_rules: verdict.failed });
    else if (verdict.status === 'held') newDeposits.set(depositId, { ...matched, status: 'held', held_reason: verdict.reason });
    else if (verdict.status === 'received') {
      newDeposits.set(depositId, { ...matched, status: 'received' });
      others.push({ id: depositId, status: 'received', amount_fen: entry.amountFen, excess_fen: 0n, checks: verdict.checks });
    } else {
      newDeposits.set(depositId, { ...matched, status: 'valid', excess_fen: verdict.r4.excessFen, valid_at: now });
      for (const w of verdict.waiting) {
        const checks = toppedUpChecks(w, depositId, verdict);
        const pending = newDeposits.get(w.id);
        if (pending) Object.assign(pending, { status: 'valid', valid_at: now, checks });
        else toppedUpBefore.push({ id: w.id, checks });
        Object.assign(w, { status: 'valid', checks });
      }
      others.push({ id: depositId, status: 'valid', amount_fen: entry.amountFen, excess_fen: verdict.r4.excessFen, checks: verdict.checks });
    }
    receiptCredits.set(depositId, receiptCreditOf(row));
    plans.push({ kind: 'matched', entry, creditId: row.id, depositId, bookedAt: row.booked_at, section, bidderId, verdict });
    outcomes[index] = { kind: 'recorded', depositId, status: newDeposits.get(depositId)!.status };
  }

  // Write: the earlier deposits topped up, then the deposits with one journal per entry.
  const receipts = new Map<string, Receipt>();
  for (const d of newDeposits.values()) if (d.status === 'valid') receipts.set(d.id, { subject: d, credit: receiptCredits.get(d.id)! });
  if (toppedUpBefore.length > 0) {
    const updated = await run(tx, markToppedUpMany, [jsonParam(toppedUpBefore), now]);
    assert(updated.length === toppedUpBefore.length, `the ${toppedUpBefore.length} waiting deposits topped up are still received`);
    for (const r of await run<ReceiptRow>(tx, receiptRows, [toppedUpBefore.map((w) => w.id)])) receipts.set(r.id, { subject: r, credit: receiptCreditOf(r) });
  }
  const journals: JournalInput[] = plans.map((p) =>
    p.kind === 'suspense'
      ? trustCreditJournal(bank, p.entry, suspenseAccountSpec(bank.id), `credit ${p.entry.entryRef} to unknown account ${p.entry.virtualAccount}: suspense`)
      : trustCreditJournal(bank, p.entry, depositAccountSpec(p.depositId, bank.id, p.section.id), `credit ${p.entry.entryRef} ${formatAmount(p.entry.amountFen)} to ${p.entry.virtualAccount} (${p.section.id}/${p.bidderId})`),
  );
  for (const posted of await postJournals(tx, journals, { statement: insertDepositsWithJournals, values: [jsonParam([...newDeposits.values()])] })) {
    // The credits row is unique on the same key, so a journal on record already is a bug.
    assert(posted.created, `entry ${posted.journal.ref} posted once`);
  }

  // Then, in the order of the entries: audit events, receipts of what became valid, refunds owed.
  const actor = bankActor(bank.id);
  const receiptsOwed: Receipt[] = [];
  for (const p of plans) {
    const { entry } = p;
    if (p.kind === 'suspense') {
      await appendAudit(tx, { actor, action: 'deposit.suspense', entityType: 'deposit', entityId: p.depositId, data: { creditId: p.creditId, entryRef: entry.entryRef, virtualAccount: entry.virtualAccount, amount: formatAmount(entry.amountFen) } });
      continue;
    }
    await announceVerdict(tx, actor, { depositId: p.depositId, creditId: p.creditId, section: p.section, bidderId: p.bidderId, amountFen: entry.amountFen }, p.verdict, async (id) => {
      const r = receipts.get(id);
      assert(r, `deposit ${id} became valid with its receipt's facts at hand`);
      receiptsOwed.push(r);
    });
    await scheduleRefundsOwed(tx, calendar, { depositId: p.depositId, amountFen: entry.amountFen }, p.verdict, eventOf(p.verdict, p.bookedAt));
  }
  await requestReceipts(tx, receiptsOwed);
  return outcomes;
}

/** Money in another currency is never booked in the yuan ledger nor refunded as yuan: the centre
 *  decides with the bank. The same entry again opens nothing new. */
export async function holdForeignCurrency(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry, why: string): Promise<RecordOutcome> {
  const { created } = await recordBankException(tx, {
    bankId: bank.id,
    kind: 'foreign_currency',
    entryRef: entry.entryRef,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    detail: `R4: ${why}; a credit of ${formatAmount(entry.amountFen)} ${entry.currency} to ${entry.virtualAccount} from ${entry.debtor.name || entry.debtor.accountNumber} is not booked in the yuan ledger nor refunded as yuan: a person decides with the bank`,
    data: { virtualAccount: entry.virtualAccount, debtorAccount: entry.debtor.accountNumber, bookedAt: entry.bookedAt },
  });
  return created ? { kind: 'exception' } : { kind: 'duplicate' };
}

const creditByRef = statement(
  'deposits.creditByRef',
  `SELECT ${columnList<repo.CreditRow>(null, repo.creditColumns)}
   FROM credits WHERE bank_id = $1 AND entry_ref = $2`,
);

/** An entry's identity is what the bank means by it: the same reference with the same money to
 *  the same account from the same payer is the entry sent again; the same reference on other
 *  money is another entry the bank's references cannot tell apart, which a person must see
 *  (a bank exception), never a silent drop. */
export async function sameEntryOnRecord(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<boolean> {
  const [onRecord] = await run<repo.CreditRow>(tx, creditByRef, [bank.id, entry.entryRef]);
  assert(onRecord, `entry ${entry.entryRef} that conflicted is on record`);
  const same =
    onRecord.amount_fen === entry.amountFen &&
    onRecord.currency === entry.currency &&
    onRecord.virtual_account === entry.virtualAccount &&
    onRecord.debtor_account === entry.debtor.accountNumber;
  if (same) return true;
  const fingerprint = createHash('sha256').update([entry.amountFen, entry.currency, entry.virtualAccount, entry.debtor.accountNumber].join('\u001f')).digest('hex').slice(0, 12);
  await recordBankException(tx, {
    bankId: bank.id,
    kind: 'reference_clash',
    // One exception per distinct entry behind the shared reference.
    entryRef: `${entry.entryRef}#${fingerprint}`,
    messageId,
    amountFen: entry.amountFen,
    currency: entry.currency,
    detail: `the bank's reference ${entry.entryRef} names a credit on record (${formatAmount(onRecord.amount_fen)} ${onRecord.currency} to ${onRecord.virtual_account}) and now another (${formatAmount(entry.amountFen)} ${entry.currency} to ${entry.virtualAccount} from ${entry.debtor.accountNumber}): not booked; ask the bank which is which`,
    data: { entryRef: entry.entryRef, onRecordCreditId: onRecord.id, virtualAccount: entry.virtualAccount, debtorAccount: entry.debtor.accountNumber, bookedAt: entry.bookedAt },
  });
  return false;
}

/** The `credits` row of a bank entry: one per (bank, entry reference), whatever the entry turns
 *  out to be (a deposit, a returned refund, interest). */
export function creditRowFor(creditId: string, bank: BankRow, messageId: string, entry: CreditEntry, notifiedAt: Date | null): Omit<repo.CreditRow, 'received_at'> {
  return {
    id: creditId,
    bank_id: bank.id,
    entry_ref: entry.entryRef,
    message_id: messageId,
    // The account booked: the trust account itself for interest and returns.
    virtual_account: entry.virtualAccount || bank.trust_account_number,
    amount_fen: entry.amountFen,
    currency: entry.currency,
    booked_at: new Date(entry.bookedAt),
    value_date: entry.valueDate,
    debtor_name: entry.debtor.name,
    debtor_account: entry.debtor.accountNumber,
    debtor_bank_code: entry.debtor.bankCode ?? null,
    remittance: entry.remittance ?? null,
    end_to_end_id: entry.endToEndId ?? null,
    booking_date_only: entry.bookingDateOnly === true,
    notified_at: notifiedAt,
  };
}

/** The bank's booking into the trust account, in the ledger: Dr trust / Cr `counter`, once per
 *  bank entry, under the journal kind and ref reconciliation matches by the bank's reference. */
export function trustCreditJournal(bank: BankRow, entry: CreditEntry, counter: AccountSpec, memo: string): JournalInput {
  return {
    kind: 'credit',
    ref: creditJournalRef(bank.id, entry.entryRef),
    memo,
    postings: [
      { account: trustAccountSpec(bank.id), amountFen: entry.amountFen },
      { account: counter, amountFen: -entry.amountFen },
    ],
  };
}
