// Ledger account codes. One code per thing money can be owed by or to, so a balance answers a
// question a person would ask ("what does the trust account at this bank hold?", "what do we
// owe on this deposit?") without a filter.
//
//   bank:<bnk>:trust              asset      the deposit bank's trust account (= its statement)
//   bank:<bnk>:suspense           liability  credits nobody could match (R15), awaiting a person
//   bank:<bnk>:refunds_in_flight  liability  refunds sent to the bank, not yet settled
//   deposit:<dep>                 liability  what we owe the payer of one credit
//   section:<sec>:forfeit         liability  forfeited deposits payable to the section's tenderee
//   bank:<bnk>:interest_income    income     interest the bank paid on the trust account (结息),
//                                            the first source of the interest refunds pay (R13)
//   interest_expense              expense    interest paid on refunds (R13) beyond that income
//
// Balances are debit-positive: an asset's balance is positive, a liability's negative.
import type { Knex } from 'knex';

export type AccountType = 'asset' | 'liability' | 'income' | 'expense';

export const trustAccount = (bankId: string) => `bank:${bankId}:trust`;
export const suspenseAccount = (bankId: string) => `bank:${bankId}:suspense`;
export const refundsInFlightAccount = (bankId: string) => `bank:${bankId}:refunds_in_flight`;
export const depositAccount = (depositId: string) => `deposit:${depositId}`;
export const forfeitPayableAccount = (sectionId: string) => `section:${sectionId}:forfeit`;
export const interestExpenseAccount = 'interest_expense';
export const interestIncomeAccount = (bankId: string) => `bank:${bankId}:interest_income`;

export interface AccountSpec {
  code: string;
  type: AccountType;
  bankId?: string;
  sectionId?: string;
  depositId?: string;
}

export async function ensureAccount(tx: Knex | Knex.Transaction, a: AccountSpec): Promise<void> {
  await tx('ledger_accounts')
    .insert({ code: a.code, type: a.type, bank_id: a.bankId ?? null, section_id: a.sectionId ?? null, deposit_id: a.depositId ?? null })
    .onConflict('code')
    .ignore();
}

export const trustAccountSpec = (bankId: string): AccountSpec => ({ code: trustAccount(bankId), type: 'asset', bankId });
export const suspenseAccountSpec = (bankId: string): AccountSpec => ({ code: suspenseAccount(bankId), type: 'liability', bankId });
export const refundsInFlightAccountSpec = (bankId: string): AccountSpec => ({ code: refundsInFlightAccount(bankId), type: 'liability', bankId });
export const depositAccountSpec = (depositId: string, bankId: string, sectionId?: string): AccountSpec => ({
  code: depositAccount(depositId),
  type: 'liability',
  bankId,
  sectionId,
  depositId,
});
export const forfeitPayableAccountSpec = (sectionId: string): AccountSpec => ({ code: forfeitPayableAccount(sectionId), type: 'liability', sectionId });
export const interestExpenseAccountSpec: AccountSpec = { code: interestExpenseAccount, type: 'expense' };
export const interestIncomeAccountSpec = (bankId: string): AccountSpec => ({ code: interestIncomeAccount(bankId), type: 'income', bankId });

/** Creates the account if missing and locks its row to the end of the transaction: whoever draws
 *  on an account's balance (interest income paying refunds' interest) reads it one at a time. */
export async function lockAccount(tx: Knex.Transaction, a: AccountSpec): Promise<void> {
  await ensureAccount(tx, a);
  await tx('ledger_accounts').where({ code: a.code }).forUpdate().first();
}
