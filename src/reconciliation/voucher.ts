// The signed reconciliation report: requested in the reconciliation's own transaction with the
// facts as they were found (ReconciliationReportData, amounts in bigint fen).
import type { Knex } from 'knex';
import type { BankRow } from '../registry/repo';
import type { ReconciliationReportData } from '../vouchers/render';
import { requestVoucher } from '../vouchers/requests';
import { fmtDate } from './present';
import * as repo from './repo';

/** Exceptions listed on the PDF; a longer list is summarised in one last row and read in full
 *  from GET /v1/reconciliations/:id (a day of 100,000 unknown lines must still render). */
export const voucherExceptionsMax = 200;

type VoucherException = ReconciliationReportData['exceptions'][number];

export async function requestReportVoucher(tx: Knex.Transaction, bank: BankRow, rid: string): Promise<string> {
  const r = (await repo.findReconciliation(tx, rid))!;
  const { listed, rest } = await repo.exceptionsForVoucher(tx, rid, voucherExceptionsMax);
  // The PDF layout prints any kind by name; the type lists the line kinds, and the statement-
  // level ones (balance_mismatch, sequence_gap, ...) are carried as they are, never renamed.
  const exceptions: VoucherException[] = listed.map((e) => ({
    kind: e.kind as VoucherException['kind'],
    entryRef: e.entry_ref,
    amountFen: e.amount_fen,
    detail: e.status === 'resolved' ? `${e.detail} [resolved: ${e.decision}]` : e.detail,
  }));
  if (rest) exceptions.push({ kind: rest.kind as VoucherException['kind'], entryRef: '…', amountFen: rest.totalFen, detail: `and ${rest.n} more exceptions, listed in the reconciliation ${rid}` });
  const data: ReconciliationReportData = {
    reconciliationId: rid,
    bank: { name: bank.name, bankCode: bank.bank_code },
    trustAccount: { number: bank.trust_account_number, name: bank.trust_account_name },
    statementDate: fmtDate(r.statement_date),
    balances: { openingFen: r.opening_fen, closingBankFen: r.closing_bank_fen, closingLedgerFen: r.closing_ledger_fen },
    matched: { count: r.matched_count, creditsFen: r.matched_credits_fen, debitsFen: r.matched_debits_fen },
    exceptions,
  };
  return requestVoucher(tx, { kind: 'reconciliation_report', subjectType: 'reconciliation', subjectId: rid, data: data as unknown as Record<string, unknown> });
}
