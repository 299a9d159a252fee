// What a reconciliation says, for the centre and auditors: the summary and balances, and each
// line and exception with what the bank said (the statement entry) and what the ledger said
// (the journal). Lists are paged; the CSV streams every line in pages.
import type { Response } from 'express';
import type { Knex } from 'knex';
import { formatAmount } from '../domain/money';
import { fmtDate } from './service';

/** Lines and exceptions per page of the JSON report. */
export const reportPageMax = 1_000;
/** Rows read per query while streaming the CSV. */
export const csvPageRows = 2_000;

const amount = (fen: bigint | null | undefined) => (fen === null || fen === undefined ? null : formatAmount(fen));
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function presentSummary(r: any) {
  return {
    object: 'reconciliation' as const,
    id: r.id as string,
    bankId: r.bank_id as string,
    statementDate: fmtDate(r.statement_date),
    status: r.superseded_by ? 'superseded' : (r.result as string),
    result: r.result as string,
    supersededBy: (r.superseded_by as string | null) ?? null,
    source: r.source as string,
    currency: 'CNY' as const,
    balances: {
      opening: amount(r.opening_fen),
      closingBank: amount(r.closing_bank_fen),
      closingLedger: amount(r.closing_ledger_fen),
      difference: amount((r.closing_bank_fen as bigint) - (r.closing_ledger_fen as bigint)),
    },
    entries: r.entry_count as number,
    matched: { count: r.matched_count as number, credits: amount(r.matched_credits_fen), debits: amount(r.matched_debits_fen), recovered: r.recovered_count as number },
    exceptionCount: r.exception_count as number,
    voucherId: (r.voucher_id as string | null) ?? null,
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
  };
}

function bankSide(x: any) {
  if (x.e_direction === null || x.e_direction === undefined) return null;
  return {
    direction: x.e_direction, amount: amount(x.e_amount_fen), currency: x.e_currency, bookedAt: iso(x.e_booked_at), valueDate: x.e_value_date,
    endToEndId: x.e_end_to_end_id, account: x.e_account, reversal: x.e_reversal,
    counterparty: { name: x.e_counterparty_name, accountNumber: x.e_counterparty_account, bankCode: x.e_counterparty_bank_code }, remittance: x.e_remittance,
  };
}

function ledgerSide(x: any) {
  if (!x.j_id) return null;
  return { journalId: x.j_id, kind: x.j_kind, ref: x.j_ref, memo: x.j_memo, postedAt: iso(x.j_posted_at), trustMovement: amount(x.ledger_amount_fen) };
}

function linesQuery(db: Knex | Knex.Transaction, statementId: string | bigint) {
  return db('reconciliation_lines as l')
    .leftJoin('statement_entries as e', (j) => j.on('e.line_no', 'l.line_no').andOn('e.statement_id', db.raw('?', [String(statementId)])))
    .leftJoin('journals as j', 'j.id', 'l.journal_id')
    .select(
      'l.*',
      ...['direction', 'amount_fen', 'currency', 'booked_at', 'value_date', 'end_to_end_id', 'account', 'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'remittance', 'reversal'].map((c) => `e.${c} as e_${c}`),
      'j.id as j_id', 'j.kind as j_kind', 'j.ref as j_ref', 'j.memo as j_memo', 'j.posted_at as j_posted_at',
    );
}

function presentLine(x: any) {
  return {
    id: String(x.id), lineNo: x.line_no, entryRef: x.entry_ref, result: x.result, matchedBy: x.matched_by, detail: x.detail,
    bankAmount: amount(x.bank_amount_fen), ledgerAmount: amount(x.ledger_amount_fen), bank: bankSide(x), ledger: ledgerSide(x),
  };
}

export function presentException(x: any) {
  return {
    object: 'reconciliation_exception' as const, id: String(x.id), kind: x.kind, entryRef: x.entry_ref, amount: amount(x.amount_fen), detail: x.detail, status: x.status,
    decision: x.decision ?? null, note: x.note ?? null, correctionJournalId: x.correction_journal_id ?? null, resolvedBy: x.resolved_by ?? null, resolvedAt: iso(x.resolved_at),
    statementFacts: x.data && Object.keys(x.data).length ? x.data : null,
    ...(x.l_id !== undefined ? { bank: x.l_id ? bankSide(x) : null, ledger: x.l_id ? ledgerSide(x) : null, lineId: x.l_id ? String(x.l_id) : null } : {}),
  };
}

export async function presentReport(db: Knex | Knex.Transaction, r: any, page: { linesLimit: number; linesAfter?: string; exceptionsAfter?: string }) {
  const s = await db('statements').where({ id: r.statement_id }).first();
  const lq = linesQuery(db, r.statement_id).where('l.reconciliation_id', r.id).orderBy('l.id').limit(page.linesLimit + 1);
  if (page.linesAfter) lq.where('l.id', '>', page.linesAfter);
  const lines = await lq;
  const eq = db('reconciliation_exceptions as x')
    .leftJoin('reconciliation_lines as l', 'l.id', 'x.line_id')
    .leftJoin('statement_entries as e', (j) => j.on('e.line_no', 'l.line_no').andOn('e.statement_id', db.raw('?', [String(r.statement_id)])))
    .leftJoin('journals as j', 'j.id', 'l.journal_id')
    .where('x.reconciliation_id', r.id)
    .orderBy('x.id')
    .limit(reportPageMax + 1)
    .select(
      'x.*', 'l.id as l_id', 'l.ledger_amount_fen',
      ...['direction', 'amount_fen', 'currency', 'booked_at', 'value_date', 'end_to_end_id', 'account', 'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'remittance', 'reversal'].map((c) => `e.${c} as e_${c}`),
      'j.id as j_id', 'j.kind as j_kind', 'j.ref as j_ref', 'j.memo as j_memo', 'j.posted_at as j_posted_at',
    );
  if (page.exceptionsAfter) eq.where('x.id', '>', page.exceptionsAfter);
  const exceptions = await eq;
  const open = await db('reconciliation_exceptions').where({ reconciliation_id: r.id, status: 'open' }).count({ n: '*' }).first();
  const pageOf = <T>(rows: any[], limit: number, present: (x: any) => T) => ({
    data: rows.slice(0, limit).map(present),
    hasMore: rows.length > limit,
    nextCursor: rows.length > limit ? String(rows[limit - 1].id) : null,
  });
  return {
    ...presentSummary(r),
    statement: {
      messageId: s.message_id, statementId: s.statement_ref, sequenceNumber: s.sequence_number, account: s.account, currency: s.currency,
      credits: amount(s.credit_total_fen), debits: amount(s.debit_total_fen), entryCount: s.entry_count, sha256: s.content_sha256, receivedAt: iso(s.received_at),
    },
    openExceptions: Number(open?.n ?? 0),
    exceptions: pageOf(exceptions, reportPageMax, presentException),
    lines: pageOf(lines, page.linesLimit, presentLine),
  };
}

const csvColumns = ['line_id', 'line_no', 'entry_ref', 'result', 'matched_by', 'direction', 'bank_amount', 'currency', 'booked_at', 'value_date', 'end_to_end_id',
  'counterparty_name', 'counterparty_account', 'counterparty_bank_code', 'journal_id', 'journal_kind', 'ledger_amount', 'detail'];

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
function csvCell(v: unknown, text = true): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function streamCsv(db: Knex, r: any, res: Response): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${r.id}.csv"`);
  // A BOM so spreadsheet programs read the Chinese names as UTF-8.
  res.write(`\uFEFF${csvColumns.join(',')}\r\n`);
  let after = '0';
  for (;;) {
    const rows = await linesQuery(db, r.statement_id).where('l.reconciliation_id', r.id).where('l.id', '>', after).orderBy('l.id').limit(csvPageRows);
    if (rows.length === 0) break;
    const text = rows
      .map((x: any) =>
        [csvCell(x.id, false), csvCell(x.line_no, false), csvCell(x.entry_ref), csvCell(x.result), csvCell(x.matched_by), csvCell(x.e_direction), csvCell(amount(x.bank_amount_fen), false),
          csvCell(x.e_currency), csvCell(iso(x.e_booked_at), false), csvCell(x.e_value_date, false), csvCell(x.e_end_to_end_id), csvCell(x.e_counterparty_name), csvCell(x.e_counterparty_account),
          csvCell(x.e_counterparty_bank_code), csvCell(x.j_id), csvCell(x.j_kind), csvCell(amount(x.ledger_amount_fen), false), csvCell(x.detail)].join(','),
      )
      .join('\r\n');
    if (!res.write(`${text}\r\n`)) await new Promise<void>((resolve) => res.once('drain', resolve));
    after = String(rows[rows.length - 1].id);
  }
  res.end();
}
