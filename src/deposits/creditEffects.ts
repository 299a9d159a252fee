// What a recorded credit owes besides its rows: the audit events of its verdict, the receipt
// vouchers of the deposits it made valid, and the refunds it calls for (R4 excess, R15), all in
// the transaction that records it.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import type { Calendar } from '../domain/calendar';
import { formatAmount } from '../domain/money';
import { reductionAuditData } from '../domain/creditReduction';
import type { SectionRow } from '../registry/repo';
import { scheduleRefund } from '../refunds/service';
import { requestVoucher, requestVouchers, type VoucherRequest } from '../vouchers/requests';
import type * as repo from './repo';
import { statement } from '../db/statements';
import type { Verdict } from './verdicts';

/** The audit events of a verdict and the receipts of what became valid (the new deposit and the
 *  waiting ones it topped up, R4); the deposits' rows already carry the verdict. */
export async function announceVerdict(
  tx: Knex.Transaction,
  actor: Actor,
  d: { depositId: string; creditId: string; section: SectionRow; bidderId: string; amountFen: bigint },
  v: Verdict,
  requestReceiptFor: (depositId: string) => Promise<unknown>,
): Promise<void> {
  const { depositId, section, bidderId } = d;
  const ids = { creditId: d.creditId, sectionId: section.id, bidderId };
  const amount = formatAmount(d.amountFen);
  if (v.status === 'invalid') {
    await appendAudit(tx, { actor, action: 'deposit.invalid', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, rules: v.failed, checks: v.checks } });
    return;
  }
  if (v.status === 'held') {
    await appendAudit(tx, { actor, action: 'deposit.held', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, rule: 'R3', reason: v.reason, checks: v.checks } });
    return;
  }
  if (v.status === 'received') {
    await appendAudit(tx, { actor, action: 'deposit.received', entityType: 'deposit', entityId: depositId, data: { ...ids, amount, total: formatAmount(v.r4.totalFen), required: formatAmount(v.required.requiredFen), creditReduction: reductionAuditData(v.required) } });
    return;
  }
  for (const id of [depositId, ...v.waiting.map((w) => w.id)]) {
    await appendAudit(tx, { actor, action: 'deposit.valid', entityType: 'deposit', entityId: id, data: { sectionId: section.id, bidderId, total: formatAmount(v.r4.totalFen), required: formatAmount(v.required.requiredFen), creditReduction: reductionAuditData(v.required) } });
    await requestReceiptFor(id);
  }
}

/** What a receipt voucher shows of the credit behind a deposit. */
export interface ReceiptCredit {
  currency: string;
  payer: { name: string; accountNumber: string; bankCode: string | null };
  bookedAt: string;
  valueDate: string;
  entryRef: string;
}

/** A deposit and the credit behind it, as its receipt voucher shows them. */
export interface Receipt {
  subject: Pick<repo.DepositRow, 'id' | 'section_id' | 'bidder_id' | 'virtual_account' | 'amount_fen' | 'excess_fen'>;
  credit: ReceiptCredit;
}

export type ReceiptRow = Pick<repo.DepositRow, 'id' | 'section_id' | 'bidder_id' | 'virtual_account' | 'amount_fen' | 'excess_fen'> &
  Pick<repo.CreditRow, 'currency' | 'debtor_name' | 'debtor_account' | 'debtor_bank_code' | 'booked_at' | 'value_date' | 'entry_ref'>;

export const receiptRows = statement(
  'deposits.receiptRows',
  // One lookup per deposit (db/statements.ts: plans that hold as the tables grow).
  `SELECT r.* FROM unnest($1::text[]) AS k(id)
   CROSS JOIN LATERAL (
     SELECT d.id, d.section_id, d.bidder_id, d.virtual_account, d.amount_fen, d.excess_fen, c.currency, c.debtor_name, c.debtor_account, c.debtor_bank_code, c.booked_at, c.value_date, c.entry_ref
     FROM deposits d JOIN credits c ON c.id = d.credit_id WHERE d.id = k.id LIMIT 1) r`,
);

export function receiptCreditOf(c: Pick<repo.CreditRow, 'currency' | 'debtor_name' | 'debtor_account' | 'debtor_bank_code' | 'booked_at' | 'value_date' | 'entry_ref'>): ReceiptCredit {
  return {
    currency: c.currency,
    payer: { name: c.debtor_name, accountNumber: c.debtor_account, bankCode: c.debtor_bank_code },
    bookedAt: c.booked_at.toISOString(),
    valueDate: c.value_date,
    entryRef: c.entry_ref,
  };
}

export async function requestReceipt(tx: Knex.Transaction, receipt: Receipt): Promise<void> {
  await requestVoucher(tx, receiptRequest(receipt));
}

/** The receipt vouchers of deposits a batch made valid, in the batch's transaction. */
export async function requestReceipts(tx: Knex.Transaction, receipts: Receipt[]): Promise<void> {
  // A batch of thousands of credits asks for its receipts in one insert and one outbox write.
  await requestVouchers(tx, receipts.map(receiptRequest));
}

function receiptRequest({ subject: d, credit: c }: Receipt): VoucherRequest {
  return {
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
      payer: c.payer,
      bookedAt: c.bookedAt,
      valueDate: c.valueDate,
      entryRef: c.entryRef,
    },
  };
}

/** When a refund owed on arrival falls due from: the booking, for a credit judged by its rules
 *  (R15, as before); when we learnt of it, for one that came to a finished section (its
 *  booking may be long past, and the section's own refunds dated from its event). */
export function eventOf(v: Verdict, bookedAt: Date): Date {
  const ended = v.status === 'invalid' && v.failed.some((r) => r === 'R11' || r === 'R16');
  return ended ? new Date() : bookedAt;
}

/** R15: a credit that fails R3/R4/R5 (or comes to a finished section, R11/R16) goes back to its
 *  source automatically, and so does the part of a valid one above the requirement (R4). A held
 *  credit owes nothing yet. */
export async function scheduleRefundsOwed(tx: Knex.Transaction, calendar: Calendar, d: { depositId: string; amountFen: bigint }, v: Verdict, eventAt: Date, actor?: Actor): Promise<void> {
  if (v.status === 'invalid') await scheduleRefund(tx, calendar, { depositId: d.depositId, reason: 'invalid', principalFen: d.amountFen, eventAt, actor });
  if (v.status === 'valid' && v.r4.excessFen > 0n) await scheduleRefund(tx, calendar, { depositId: d.depositId, reason: 'excess', principalFen: v.r4.excessFen, eventAt, actor });
}
