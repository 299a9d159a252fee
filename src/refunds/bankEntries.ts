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
import { creditRowFor, postTrustCredit } from '../deposits/matching';
import { insertCredit } from '../deposits/repo';
import type { BankRow } from '../registry/repo';

/** What a recorder answers the notification dispatcher. */
export type BankEntryOutcome = { kind: 'recorded' | 'duplicate' | 'exception' };

/** Claims the bank entry's `credits` row: its id, or undefined when the entry is on record
 *  already (a repeated notice: nothing is to be done). */
export async function claimBankEntry(tx: Knex.Transaction, bank: BankRow, messageId: string, entry: CreditEntry): Promise<string | undefined> {
  assert(entry.amountFen > 0n, `bank entry ${entry.entryRef} is positive`);
  assert(!Number.isNaN(new Date(entry.bookedAt).getTime()), `bank entry ${entry.entryRef} has a booking time`);
  const creditId = newId('crd');
  const inserted = await insertCredit(tx, creditRowFor(creditId, bank, messageId, entry, new Date()));
  return inserted ? creditId : undefined;
}

export { postTrustCredit };
