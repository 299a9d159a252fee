// Bank entries into the trust account that are not deposits: a refund's money sent back by the
// payee's bank (退汇, returns.ts) and the interest the bank pays (结息, interestIncome.ts).
//
// Each is recorded as a row in `credits`, under the same unique (bank_id, entry_ref) as a
// deposit's credit, rather than in a record of its own:
//   - one key for every booking the bank notifies into the trust account, so a bank entry is one
//     thing in our books whatever it turns out to be (a deposit, a return, interest), and the
//     same entry notified twice, in one message or two, or in two messages at once, is recorded
//     once (the second insert waits for the first to commit, then does nothing);
//   - the reconciliation already knows these rows and their journals: the journal is posted as
//     kind `credit` with ref `<bank>:<entry ref>`, so the day's statement matches the line by the
//     bank's reference and nothing shows as missing on either side, and a statement line whose
//     notice was lost is not "recovered" as a deposit a second time (its row exists).
// The `credits` row has no status of its own: a row without a deposit is one of these, and what
// it was is in its journal (the accounts it moved) and in the audit event that recorded it.
import type { Knex } from 'knex';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import type { CreditEntry } from '../banks/types';
import { creditJournalRef } from '../deposits/matching';
import { insertCredit } from '../deposits/repo';
import { postJournal, trustAccountSpec, type AccountSpec, type PostedJournal } from '../ledger';
import type { BankRow } from '../registry/repo';

/** What a recorder answers the notification dispatcher. */
export type BankEntryOutcome = { kind: 'recorded' | 'duplicate' | 'exception' };

/** Claims the bank entry's `credits` row: its id, or undefined when the entry is on record
 *  already (a repeated notice: nothing is to be done). */
export async function claimBankEntry(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<string | undefined> {
  assert(entry.amountFen > 0n, `bank entry ${entry.entryRef} is positive`);
  const bookedAt = new Date(entry.bookedAt);
  assert(!Number.isNaN(bookedAt.getTime()), `bank entry ${entry.entryRef} has a booking time`);
  const creditId = newId('crd');
  const inserted = await insertCredit(tx, {
    id: creditId,
    bank_id: bank.id,
    entry_ref: entry.entryRef,
    message_id: messageId,
    // The account booked: the trust account itself for interest and returns.
    virtual_account: entry.virtualAccount || bank.trust_account_number,
    amount_fen: entry.amountFen,
    currency: entry.currency,
    booked_at: bookedAt,
    value_date: entry.valueDate,
    debtor_name: entry.debtor.name,
    debtor_account: entry.debtor.accountNumber,
    debtor_bank_code: entry.debtor.bankCode ?? null,
    remittance: entry.remittance ?? null,
    end_to_end_id: entry.endToEndId ?? null,
    booking_date_only: entry.bookingDateOnly === true,
    notified_at: new Date(),
  });
  return inserted ? creditId : undefined;
}

/** The bank's booking into the trust account, in the ledger: Dr trust / Cr `counter`, once per
 *  bank entry (the same journal kind and ref as a deposit's credit, so reconciliation matches it
 *  by the bank's reference). */
export async function postTrustCredit(tx: Knex.Transaction, bank: BankRow, entry: CreditEntry, counter: AccountSpec, memo: string): Promise<PostedJournal> {
  const posted = await postJournal(tx, {
    kind: 'credit',
    ref: creditJournalRef(bank.id, entry.entryRef),
    memo,
    postings: [
      { account: trustAccountSpec(bank.id), amountFen: entry.amountFen },
      { account: counter, amountFen: -entry.amountFen },
    ],
  });
  // The credits row is unique on the same key, so reaching here twice is a bug.
  assert(posted.created, `bank entry ${entry.entryRef} posted once`);
  return posted;
}
