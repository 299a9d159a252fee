// What a reconciliation says, for the centre and auditors: the summary and balances, and each
// line and exception with what the bank said (the statement entry) and what the ledger said (the
// journal); and the same lines as CSV rows.
import { formatAmount } from '../domain/money';
import type { InterestFigures } from '../refunds/interestIncome';
import type { VoucherRef } from '../vouchers/subjects';
import type { ExceptionRow, ReconciliationRow, SideBySide, StatementRow } from './repo';

const amount = (fen: bigint | null | undefined) => (fen === null || fen === undefined ? null : formatAmount(fen));
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const fmtDate = (d: Date | string) => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

export function presentSummary(r: ReconciliationRow & { interest?: InterestFigures }) {
  return {
    object: 'reconciliation' as const,
    id: r.id,
    bankId: r.bank_id,
    statementDate: fmtDate(r.statement_date),
    status: r.superseded_by ? 'superseded' : r.result,
    result: r.result,
    supersededBy: r.superseded_by ?? null,
    source: r.source,
    currency: 'CNY' as const,
    balances: {
      opening: amount(r.opening_fen),
      closingBank: amount(r.closing_bank_fen),
      closingLedger: amount(r.closing_ledger_fen),
      difference: amount(r.closing_bank_fen - r.closing_ledger_fen),
    },
    entries: r.entry_count,
    matched: { count: r.matched_count, credits: amount(r.matched_credits_fen), debits: amount(r.matched_debits_fen), recovered: r.recovered_count },
    exceptionCount: r.exception_count,
    // R13, to the end of the statement's day: interest the bank paid on the trust account, the
    // interest refunds paid out, and what refunds paid beyond that income.
    ...(r.interest ? { interest: { income: amount(r.interest.incomeFen), paid: amount(r.interest.paidFen), shortfall: amount(r.interest.shortfallFen) } } : {}),
    voucherId: r.voucher_id ?? null,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
  };
}

/** The summary with its vouchers, looked up by the caller (vouchersOfSubjects) for a whole page
 *  at once. */
export const presentSummaryWithVouchers = (r: ReconciliationRow & { interest?: InterestFigures }, vouchers: VoucherRef[]) => ({ ...presentSummary(r), vouchers });

function bankSide(x: SideBySide) {
  if (x.e_direction === null || x.e_direction === undefined) return null;
  return {
    direction: x.e_direction, amount: amount(x.e_amount_fen), currency: x.e_currency, bookedAt: iso(x.e_booked_at), valueDate: x.e_value_date,
    endToEndId: x.e_end_to_end_id, account: x.e_account, reversal: x.e_reversal,
    counterparty: { name: x.e_counterparty_name, accountNumber: x.e_counterparty_account, bankCode: x.e_counterparty_bank_code }, remittance: x.e_remittance,
  };
}

function ledgerSide(x: SideBySide) {
  if (!x.j_id) return null;
  return { journalId: x.j_id, kind: x.j_kind, ref: x.j_ref, memo: x.j_memo, postedAt: iso(x.j_posted_at), trustMovement: amount(x.ledger_amount_fen) };
}

function presentLine(x: SideBySide) {
  return {
    id: String(x.id), lineNo: x.line_no, entryRef: x.entry_ref, result: x.result, matchedBy: x.matched_by, detail: x.detail,
    bankAmount: amount(x.bank_amount_fen), ledgerAmount: amount(x.ledger_amount_fen), bank: bankSide(x), ledger: ledgerSide(x),
  };
}

/** An exception alone (as resolved), or beside its line's two sides (in a report). */
export function presentException(x: ExceptionRow | SideBySide) {
  const side = x as SideBySide;
  return {
    object: 'reconciliation_exception' as const, id: String(x.id), kind: x.kind, entryRef: x.entry_ref, amount: amount(x.amount_fen), detail: x.detail, status: x.status,
    decision: x.decision ?? null, note: x.note ?? null, correctionJournalId: x.correction_journal_id ?? null, resolvedBy: x.resolved_by ?? null, resolvedAt: iso(x.resolved_at),
    statementFacts: x.data && Object.keys(x.data).length ? x.data : null,
    ...(side.l_id !== undefined ? { bank: side.l_id ? bankSide(side) : null, ledger: side.l_id ? ledgerSide(side) : null, lineId: side.l_id ? String(side.l_id) : null } : {}),
  };
}

export interface ReportPage<T> {
  rows: T[];
  hasMore: boolean;
}

export function presentReport(
  r: ReconciliationRow & { interest?: InterestFigures },
  s: StatementRow,
  openExceptions: number,
  exceptions: ReportPage<SideBySide>,
  lines: ReportPage<SideBySide>,
  vouchers?: VoucherRef[],
) {
  const pageOf = <T>(p: ReportPage<SideBySide>, present: (x: SideBySide) => T) => ({
    data: p.rows.map(present),
    hasMore: p.hasMore,
    nextCursor: p.hasMore ? String(p.rows[p.rows.length - 1].id) : null,
  });
  return {
    ...presentSummary(r),
    ...(vouchers ? { vouchers } : {}),
    statement: {
      messageId: s.message_id, statementId: s.statement_ref, sequenceNumber: s.sequence_number, account: s.account, currency: s.currency,
      credits: amount(s.credit_total_fen), debits: amount(s.debit_total_fen), entryCount: s.entry_count, sha256: s.content_sha256, receivedAt: iso(s.received_at),
    },
    openExceptions,
    exceptions: pageOf(exceptions, presentException),
    lines: pageOf(lines, presentLine),
  };
}

export const csvColumns = ['line_id', 'line_no', 'entry_ref', 'result', 'matched_by', 'direction', 'bank_amount', 'currency', 'booked_at', 'value_date', 'end_to_end_id',
  'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'journal_id', 'journal_kind', 'ledger_amount', 'detail'];

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
function csvCell(v: unknown, text = true): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(x: SideBySide): string {
  return [csvCell(x.id, false), csvCell(x.line_no, false), csvCell(x.entry_ref), csvCell(x.result), csvCell(x.matched_by), csvCell(x.e_direction), csvCell(amount(x.bank_amount_fen), false),
    csvCell(x.e_currency), csvCell(iso(x.e_booked_at), false), csvCell(x.e_value_date, false), csvCell(x.e_end_to_end_id), csvCell(x.e_counterparty_name), csvCell(x.e_counterparty_account),
    csvCell(x.e_counterparty_bank_code), csvCell(x.j_id), csvCell(x.j_kind), csvCell(amount(x.ledger_amount_fen), false), csvCell(x.detail)].join(',');
}
