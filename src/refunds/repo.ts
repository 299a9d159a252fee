// Queries on refunds and their attempts; each takes the unit of work.
import type { Tx } from '../db/knex';

export type RefundStatus = 'scheduled' | 'submitted' | 'settled' | 'rejected' | 'manual';
export type AttemptStatus = 'sending' | 'sent' | 'sent_unknown' | 'settled' | 'rejected' | 'no_record';
/** An instruction the bank may be acting on: at most one per refund (partial unique index). */
export const inFlightAttemptStatuses: readonly AttemptStatus[] = ['sending', 'sent', 'sent_unknown'];

export interface RefundRow {
  id: string;
  deposit_id: string;
  section_id: string | null;
  bidder_id: string | null;
  bank_id: string;
  reason: 'invalid' | 'excess' | 'withdrawal' | 'contract' | 'award_non_winner' | 'termination' | 'suspense_return';
  principal_fen: bigint;
  status: RefundStatus;
  due_by: string;
  creditor_account_number: string;
  creditor_account_name: string;
  creditor_bank_code: string | null;
  interest_fen: bigint | null;
  late_fee_fen: bigint | null;
  value_date: string | null;
  settled_at: Date | null;
  bank_reference: string | null;
  attempts_count: number;
  last_reason_code: string | null;
  manual_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AttemptRow {
  id: string;
  refund_id: string;
  seq: number;
  end_to_end_id: string;
  message_id: string;
  status: AttemptStatus;
  principal_fen: bigint;
  interest_fen: bigint;
  late_fee_fen: bigint;
  amount_fen: bigint;
  value_date: string;
  interest_from: string;
  creditor_account_number: string;
  creditor_account_name: string;
  creditor_bank_code: string | null;
  reserve_journal_id: string;
  bank_status: string | null;
  reason_code: string | null;
  reason_text: string | null;
  bank_reference: string | null;
  last_error: string | null;
  polls: number;
  sent_at: Date | null;
  unknown_since: Date | null;
  next_poll_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DecisionRow {
  seq: bigint;
  refund_id: string;
  decision: string;
  account_number: string | null;
  account_name: string | null;
  account_bank_code: string | null;
  decided_by: string;
  decided_at: Date;
}

export const findRefund = (tx: Tx, id: string) => tx<RefundRow>('refunds').where({ id }).first() as Promise<RefundRow | undefined>;
export const findAttempt = (tx: Tx, id: string) => tx<AttemptRow>('refund_attempts').where({ id }).first() as Promise<AttemptRow | undefined>;
export const attemptsOf = (tx: Tx, refundId: string) => tx<AttemptRow>('refund_attempts').where({ refund_id: refundId }).orderBy('seq') as unknown as Promise<AttemptRow[]>;
export const decisionsOf = (tx: Tx, refundId: string) => tx<DecisionRow>('refund_decisions').where({ refund_id: refundId }).orderBy('seq') as unknown as Promise<DecisionRow[]>;
/** The account a recorded decision sent the refund to, if any (R17). */
export const latestAccountDecision = (tx: Tx, refundId: string) =>
  tx<DecisionRow>('refund_decisions').where({ refund_id: refundId }).whereNotNull('account_number').orderBy('seq', 'desc').first() as Promise<DecisionRow | undefined>;
