// Interest has a source (R13). The deposit bank pays interest on the trust account (结息, each
// quarter on the 20th of its last month, or whenever it books one); that income is what the
// interest refunds pay out is paid from:
//   - the bank's interest credit is booked once per bank entry (bankEntries.ts), Dr trust / Cr
//     `bank:<bnk>:interest_income`, with its audit event;
//   - a refund's reserving journal (executor.ts `claim`) takes its interest from that income as
//     far as its balance goes, and only the rest from `interest_expense`, so no refund waits or
//     is refused for want of income;
//   - what refunds have paid beyond what the bank has paid us is the shortfall, shown by the
//     gauge `bidbond_interest_shortfall_fen` and in each reconciliation's summary.
//
// The shortfall is max(0, interest paid on the bank's refunds − interest the bank paid us),
// both to date. It is not the balance of `interest_expense`: that account records which source
// paid each refund at the moment it was paid, so a refund paid before the quarter's interest
// arrived stays charged to expense even after the income comes in; the shortfall compares the
// totals, which is what the centre must cover from its own funds.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { assert } from '../errors';
import { formatAmount } from '../domain/money';
import type { CreditEntry } from '../banks/types';
import type { Tx } from '../db/knex';
import { recordBankException } from '../deposits/exceptions';
import { balanceOf, interestExpenseAccount, interestExpenseAccountSpec, interestIncomeAccountSpec, lockAccount, type PostingInput } from '../ledger';
import type { BankRow } from '../registry/repo';
import { claimBankEntry, postTrustCredit, type BankEntryOutcome } from './bankEntries';

/** Records the bank's interest credit to the trust account: `recorded` once per bank entry,
 *  `duplicate` for an entry on record already, `exception` for one the ledger cannot hold. */
export async function recordInterestCredit(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<BankEntryOutcome> {
  const creditId = await claimBankEntry(tx, bank, messageId, entry);
  if (!creditId) return { kind: 'duplicate' };
  if (entry.currency !== 'CNY') {
    await recordBankException(tx, {
      bankId: bank.id, kind: 'foreign_currency', entryRef: entry.entryRef, messageId, amountFen: entry.amountFen, currency: entry.currency,
      detail: `interest of ${entry.amountFen} (minor units) in ${entry.currency} on the CNY trust account; nothing was booked`,
      data: { bookedAt: entry.bookedAt, valueDate: entry.valueDate, bankTransactionCode: entry.bankTransactionCode ?? null },
    });
    return { kind: 'exception' };
  }
  await postTrustCredit(tx, bank, entry, interestIncomeAccountSpec(bank.id), `interest ${entry.entryRef} on the trust account, value ${entry.valueDate} (R13 source)`);
  await appendAudit(tx, {
    actor: { type: 'bank', id: bank.id },
    action: 'bank.interest_credited',
    entityType: 'bank',
    entityId: bank.id,
    data: { creditId, entryRef: entry.entryRef, messageId, amount: formatAmount(entry.amountFen), bookedAt: entry.bookedAt, valueDate: entry.valueDate, bankTransactionCode: entry.bankTransactionCode ?? null, rule: 'R13' },
  });
  return { kind: 'recorded' };
}

/** The debit legs that pay `interestFen` of a refund at this bank: the bank's interest income as
 *  far as its balance goes, the rest as expense. Locks the income account to the end of the
 *  transaction, so two refunds never both spend the same income. */
export async function interestFunding(tx: Knex.Transaction, bankId: string, interestFen: bigint): Promise<PostingInput[]> {
  assert(interestFen >= 0n, 'interest paid is not negative');
  if (interestFen === 0n) return [];
  const income = interestIncomeAccountSpec(bankId);
  await lockAccount(tx, income);
  // Balances are debit-positive: income received is a negative balance.
  const availableFen = -(await balanceOf(tx, income.code));
  const fromIncomeFen = availableFen <= 0n ? 0n : availableFen < interestFen ? availableFen : interestFen;
  const fromExpenseFen = interestFen - fromIncomeFen;
  const legs: PostingInput[] = [];
  if (fromIncomeFen > 0n) legs.push({ account: income, amountFen: fromIncomeFen });
  if (fromExpenseFen > 0n) legs.push({ account: interestExpenseAccountSpec, amountFen: fromExpenseFen });
  return legs;
}

export interface InterestFigures {
  bankId: string;
  /** Interest the bank paid on the trust account. */
  incomeFen: bigint;
  /** Interest paid out (or on its way out) on this bank's refunds, net of reservations undone. */
  paidFen: bigint;
  /** What refunds paid beyond the income: max(0, paid − income). */
  shortfallFen: bigint;
}

/** Interest received and paid per bank, from the ledger, counting postings up to `at` (all when
 *  omitted); one bank or every bank. Read-only. A refund's interest is attributed to its bank
 *  through the attempt whose reservation posted it (interest_expense is one account for all). */
export async function interestFigures(db: Tx, opts: { bankId?: string; at?: Date } = {}): Promise<InterestFigures[]> {
  const at = opts.at ?? null;
  const bankId = opts.bankId ?? null;
  const rows = (
    await db.raw(
      `WITH income AS (
         SELECT la.bank_id, -sum(p.amount_fen) AS fen
           FROM ledger_accounts la
           JOIN postings p ON p.account = la.code
           JOIN journals j ON j.id = p.journal_id AND j.kind = 'credit'
          WHERE la.type = 'income' AND la.code = 'bank:' || la.bank_id || ':interest_income'
            AND (?::text IS NULL OR la.bank_id = ?::text) AND (?::timestamptz IS NULL OR p.posted_at <= ?::timestamptz)
          GROUP BY la.bank_id
       ), reserves AS (
         SELECT r.bank_id, a.reserve_journal_id AS journal_id
           FROM refund_attempts a JOIN refunds r ON r.id = a.refund_id
          WHERE a.interest_fen > 0 AND (?::text IS NULL OR r.bank_id = ?::text)
       ), paid AS (
         SELECT x.bank_id, sum(p.amount_fen) AS fen
           FROM reserves x
           JOIN journals j ON j.id = x.journal_id OR j.reverses_journal_id = x.journal_id
           JOIN postings p ON p.journal_id = j.id AND p.account IN (?, 'bank:' || x.bank_id || ':interest_income')
          WHERE (?::timestamptz IS NULL OR p.posted_at <= ?::timestamptz)
          GROUP BY x.bank_id
       )
       SELECT b.id AS bank_id, coalesce(i.fen, 0)::bigint AS income_fen, coalesce(pd.fen, 0)::bigint AS paid_fen
         FROM banks b LEFT JOIN income i ON i.bank_id = b.id LEFT JOIN paid pd ON pd.bank_id = b.id
        WHERE (?::text IS NULL OR b.id = ?::text)
        ORDER BY b.id`,
      [bankId, bankId, at, at, bankId, bankId, interestExpenseAccount, at, at, bankId, bankId],
    )
  ).rows as { bank_id: string; income_fen: bigint | string; paid_fen: bigint | string }[];
  return rows.map((r) => {
    const incomeFen = BigInt(r.income_fen);
    const paidFen = BigInt(r.paid_fen);
    return { bankId: r.bank_id, incomeFen, paidFen, shortfallFen: paidFen > incomeFen ? paidFen - incomeFen : 0n };
  });
}

/** interestFunding for the refunds of one payment message, in their order: the income's balance
 *  is read once, under the same lock, and drawn down refund by refund. */
export async function interestFundingOfMany(tx: Knex.Transaction, bankId: string, interestFens: bigint[]): Promise<PostingInput[][]> {
  for (const f of interestFens) assert(f >= 0n, 'interest paid is not negative');
  if (interestFens.every((f) => f === 0n)) return interestFens.map(() => []);
  const income = interestIncomeAccountSpec(bankId);
  await lockAccount(tx, income);
  let availableFen = -(await balanceOf(tx, income.code));
  return interestFens.map((interestFen) => {
    if (interestFen === 0n) return [];
    const fromIncomeFen = availableFen <= 0n ? 0n : availableFen < interestFen ? availableFen : interestFen;
    availableFen -= fromIncomeFen;
    const fromExpenseFen = interestFen - fromIncomeFen;
    const legs: PostingInput[] = [];
    if (fromIncomeFen > 0n) legs.push({ account: income, amountFen: fromIncomeFen });
    if (fromExpenseFen > 0n) legs.push({ account: interestExpenseAccountSpec, amountFen: fromExpenseFen });
    return legs;
  });
}
