// The signed reconciliation report: requested in the reconciliation's own transaction with the
// facts as they were found (ReconciliationReportData, amounts in bigint fen).
import type { Knex } from 'knex';
import type { BankRow } from '../registry/repo';
import type { ReconciliationReportData } from '../vouchers/render';
import { requestVoucher } from '../vouchers/requests';

/** Exceptions listed on the PDF; a longer list is summarised in one last row and read in full
 *  from GET /v1/reconciliations/:id (a day of 100,000 unknown lines must still render). */
export const voucherExceptionsMax = 200;

type VoucherException = ReconciliationReportData['exceptions'][number];

export async function requestReportVoucher(tx: Knex.Transaction, bank: BankRow, rid: string): Promise<string> {
  const r = await tx('reconciliations').where({ id: rid }).first();
  const rows = await tx('reconciliation_exceptions').where({ reconciliation_id: rid }).orderBy('id').limit(voucherExceptionsMax + 1);
  const listed = rows.slice(0, voucherExceptionsMax);
  // The PDF layout prints any kind by name; the type lists the line kinds, and the statement-
  // level ones (balance_mismatch, sequence_gap, ...) are carried as they are, never renamed.
  const exceptions: VoucherException[] = listed.map((e) => ({
    kind: e.kind as VoucherException['kind'],
    entryRef: e.entry_ref,
    amountFen: e.amount_fen,
    detail: e.status === 'resolved' ? `${e.detail} [resolved: ${e.decision}]` : e.detail,
  }));
  if (rows.length > voucherExceptionsMax) {
    const rest = await tx('reconciliation_exceptions').where({ reconciliation_id: rid }).where('id', '>', listed[listed.length - 1].id).select(tx.raw('count(*)::int AS n'), tx.raw('coalesce(sum(amount_fen), 0)::bigint AS total')).first();
    exceptions.push({ kind: rows[voucherExceptionsMax].kind, entryRef: '…', amountFen: rest.total, detail: `and ${rest.n} more exceptions, listed in the reconciliation ${rid}` });
  }
  const data: ReconciliationReportData = {
    reconciliationId: rid,
    bank: { name: bank.name, bankCode: bank.bank_code },
    trustAccount: { number: bank.trust_account_number, name: bank.trust_account_name },
    statementDate: typeof r.statement_date === 'string' ? r.statement_date : (r.statement_date as Date).toISOString().slice(0, 10),
    balances: { openingFen: r.opening_fen, closingBankFen: r.closing_bank_fen, closingLedgerFen: r.closing_ledger_fen },
    matched: { count: r.matched_count, creditsFen: r.matched_credits_fen, debitsFen: r.matched_debits_fen },
    exceptions,
  };
  return requestVoucher(tx, { kind: 'reconciliation_report', subjectType: 'reconciliation', subjectId: rid, data: data as unknown as Record<string, unknown> });
}
