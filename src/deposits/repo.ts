import type { RefundRow } from '../refunds/repo';
import type { Tx } from '../db/knex';

export type DepositStatus = 'received' | 'valid' | 'invalid' | 'suspense' | 'forfeited' | 'refunded';

export interface DepositAccountRow {
  virtual_account: string;
  bank_id: string;
  section_id: string;
  bidder_id: string;
  serial: bigint;
  created_at: Date;
}

export interface CreditRow {
  id: string;
  bank_id: string;
  entry_ref: string;
  message_id: string;
  virtual_account: string;
  amount_fen: bigint;
  currency: string;
  booked_at: Date;
  value_date: string;
  debtor_name: string;
  debtor_account: string;
  debtor_bank_code: string | null;
  remittance: string | null;
  end_to_end_id: string | null;
  received_at: Date;
}

export interface DepositRow {
  id: string;
  credit_id: string;
  bank_id: string;
  section_id: string | null;
  bidder_id: string | null;
  virtual_account: string;
  amount_fen: bigint;
  excess_fen: bigint;
  status: DepositStatus;
  checks: { rule: string; ok: boolean; detail: string }[];
  failed_rules: string[];
  forfeit_reason: string | null;
  forfeited_by: string | null;
  forfeited_at: Date | null;
  valid_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** One refunds table, one row type: the refunds capability owns it. */
export type { RefundRow };

export interface WithdrawalRow {
  section_id: string;
  bidder_id: string;
  withdrawn_at: Date;
  after_deadline: boolean;
  recorded_by: string;
}

export const findDepositAccount = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<DepositAccountRow>('deposit_accounts').where({ section_id: sectionId, bidder_id: bidderId }).first();
/** Locks the sub-account: credits of one bidder for one section are matched one at a time, so
 *  two top-ups arriving together see each other's amounts (R4). */
export const lockDepositAccountByNumber = (tx: Tx, bankId: string, virtualAccount: string) =>
  tx<DepositAccountRow>('deposit_accounts').where({ virtual_account: virtualAccount, bank_id: bankId }).forUpdate().first();
export const findDeposit = (tx: Tx, id: string) => tx<DepositRow>('deposits').where({ id }).first();
export const findCredit = (tx: Tx, id: string) => tx<CreditRow>('credits').where({ id }).first();
export const depositsOf = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<DepositRow>('deposits').where({ section_id: sectionId, bidder_id: bidderId }).orderBy('id') as unknown as Promise<DepositRow[]>;
export const refundsOfDeposit = (tx: Tx, depositId: string) =>
  tx<RefundRow>('refunds').where({ deposit_id: depositId }).orderBy('id') as unknown as Promise<RefundRow[]>;
export const findWithdrawal = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<WithdrawalRow>('withdrawals').where({ section_id: sectionId, bidder_id: bidderId }).first();
