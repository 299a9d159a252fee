// A day's reconciliation of one deposit bank's trust account: the statement is read into the
// database, matched against the ledger (matching.ts), lost credits are recovered through the
// deposit rules, the statement's own arithmetic and sequence are checked, the ledger's closing
// balance is compared with the bank's, and the result is recorded with its voucher and audit
// event, all in one transaction.
//
// Idempotency (decided here): a statement is "the same" as one already reconciled when it has
// the same bank and message id, or the same bank, date and content (balances and every entry;
// some banks, the sandbox among them, mint a new message id on every fetch). The same statement
// returns the same reconciliation and changes nothing. A different statement for a bank and day
// already reconciled creates a new reconciliation that supersedes the old: the old one is kept
// as it was, marked superseded, and its matches are released so the new one can claim them.
// The same message id with different content is refused (409): a bank must not reuse it.
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { Conflict, NotFound, ServiceUnavailable, Unprocessable, BadRequest } from '../errors';
import type { Tx } from '../db/knex';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { addCalendarDays, businessDate, endOfBusinessDay, startOfBusinessDay } from '../domain/time';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankMessageInvalid, BankUnreachable, type CreditEntry } from '../banks/types';
import { balanceOf, trustAccount } from '../ledger';
import { creditJournalRef, recordCredit } from '../deposits/matching';
import { creditKindOf, recordReturnOrInterest } from '../deposits/notifications';
import { paginate } from '../http/pagination';
import { findBank, type BankRow } from '../registry/repo';
import { interestFigures, type InterestFigures } from '../refunds/interestIncome';
import type { ServiceSigner } from '../pki/serviceSigner';
import type { BusinessTables } from '../tables';
import type { Metrics } from '../http/metrics';
import { matchStatement, recordMissingInBank, type MatchScope } from './matching';
import { fmtDate, type ReportPage } from './present';
import * as repo from './repo';
import { checkClosingBalance, checkStatementArithmetic, checkStatementSequence, sequenceNumberPattern, type StatementFinding } from './rules';
import { ingestStatement, type IngestedStatement, type StatementParser, type StatementSource } from './statements';
import { requestReportVoucher } from './voucher';

/** Lost credits recovered per reconciliation; beyond this they stay `missing_in_ledger` for a
 *  person (a day with thousands of lost notifications is an outage to look at, not to absorb). */
export const statementRecoveriesMax = 5_000;
/** Lines read per page while recovering credits. */
export const recoveryPageRows = 500;
/** Lines and exceptions per page of the JSON report. */
export const reportPageMax = 1_000;
/** Rows read per query while streaming the CSV. */
export const csvPageRows = 2_000;

/** What a reconciliation needs of the runtime: the database, and the R19 calendar that dates the
 *  refunds a recovered credit may owe. */
export interface ReconcileDeps {
  db: Knex;
  tables: Pick<BusinessTables, 'calendar'>;
  /** Counts the statement lines not recovered because they are not ours, as notices' entries
   *  are counted (absent in callers without metrics). */
  metrics?: Pick<Metrics, 'notificationEntriesIgnored'>;
}

/** What the recovery left alone, counted once the reconciliation is committed. */
interface NotRecovered {
  notOurAccount: number;
}

export interface ReconcileOptions {
  source: StatementSource;
  actor: Actor;
  /** The business date asked for (pulls): the bank must answer with that day. */
  expectedDate?: string;
}

export interface ReconcileOutcome {
  reconciliationId: string;
  /** False when this statement had been reconciled before (nothing was done). */
  created: boolean;
}

class SameStatement extends Error {
  constructor(readonly reconciliationId: string) {
    super('statement already reconciled');
  }
}

export async function reconcileStream(deps: ReconcileDeps, bank: BankRow, input: Readable, parse: StatementParser, opts: ReconcileOptions): Promise<ReconcileOutcome> {
  const notRecovered: NotRecovered = { notOurAccount: 0 };
  const outcome = await deps.db.transaction(async (tx): Promise<ReconcileOutcome> => {
    await repo.lockBankForReconciliation(tx, bank.id);
    const id = newId('rcn');
    let ingested: IngestedStatement;
    try {
      // A savepoint: a statement found to be one already reconciled is rolled back whole, with
      // the reconciliation begun for it.
      ingested = await tx.transaction(async (sp) => {
        const statementId = await repo.insertStatement(sp, bank.id, opts.source);
        await beginReconciliation(sp, bank, id, statementId, opts);
        const ing = await ingestStatement(sp, { statementId, reconciliationId: id }, input, parse);
        checkStatementFits(bank, ing, opts.expectedDate);
        const same = await findSameStatement(sp, bank.id, ing);
        if (same) throw new SameStatement(same);
        return ing;
      });
    } catch (e) {
      if (e instanceof SameStatement) return { reconciliationId: e.reconciliationId, created: false };
      throw e;
    }
    return { reconciliationId: await reconcileIngested(tx, deps.tables, bank, id, ingested, opts, notRecovered), created: true };
  });
  if (notRecovered.notOurAccount > 0) deps.metrics?.notificationEntriesIgnored.inc({ reason: 'not_our_account' }, notRecovered.notOurAccount);
  return outcome;
}

/** The reconciliation's row, written before its statement is read so that the statement's
 *  lines can reference it as they stream in; its date and the statement's figures are set once
 *  the statement has been read (reconcileIngested), and the database refuses to commit it
 *  without them. */
async function beginReconciliation(tx: Knex.Transaction, bank: BankRow, id: string, statementId: string, opts: ReconcileOptions): Promise<void> {
  await repo.insertReconciliation(tx, {
    id, bank_id: bank.id, statement_id: BigInt(statementId), statement_date: null, result: 'differences', opening_fen: 0n, closing_bank_fen: 0n,
    closing_ledger_fen: 0n, entry_count: 0, matched_count: 0, matched_credits_fen: 0n, matched_debits_fen: 0n, recovered_count: 0, exception_count: 0,
    source: opts.source, created_by: opts.actor.id ?? opts.actor.type,
  });
}

function checkStatementFits(bank: BankRow, ing: IngestedStatement, expectedDate: string | undefined): void {
  const s = ing.summary;
  if (s.account !== bank.trust_account_number) {
    throw new Unprocessable('statement_wrong_account', `the statement is for account ${s.account}, not this bank's trust account ${bank.trust_account_number}`, 'account');
  }
  if (expectedDate && s.date !== expectedDate) throw new Unprocessable('statement_wrong_date', `asked for ${expectedDate}, the bank sent the statement of ${s.date}`, 'date');
}

async function findSameStatement(tx: Knex.Transaction, bankId: string, ing: IngestedStatement): Promise<string | undefined> {
  const s = ing.summary;
  const row = await repo.findSameReconciledStatement(tx, bankId, ing.id, { messageId: s.messageId, date: s.date, contentSha256: ing.contentSha256 });
  if (!row) return undefined;
  if (row.message_id === s.messageId && row.content_sha256 !== ing.contentSha256) {
    throw new Conflict('statement_message_id_reused', `statement message ${s.messageId} was reconciled before (${row.id}) with different content`);
  }
  return row.id;
}

async function reconcileIngested(tx: Knex.Transaction, tables: ReconcileDeps['tables'], bank: BankRow, id: string, ing: IngestedStatement, opts: ReconcileOptions, notRecovered: NotRecovered): Promise<string> {
  const s = ing.summary;
  const date = s.date;
  const previous = await repo.lockCurrentReconciliation(tx, bank.id, date);
  if (previous) {
    await repo.supersede(tx, previous.id, id);
    await appendAudit(tx, { actor: opts.actor, action: 'reconciliation.superseded', entityType: 'reconciliation', entityId: previous.id, data: { supersededBy: id, statementMessageId: s.messageId } });
  }
  await repo.updateReconciliation(tx, id, { statement_date: date, opening_fen: s.openingBalanceFen, closing_bank_fen: s.closingBalanceFen, entry_count: s.entryCount });
  const scope: MatchScope = {
    reconciliationId: id, statementId: ing.id, bankId: bank.id, dayStart: startOfBusinessDay(date), dayEnd: startOfBusinessDay(addCalendarDays(date, 1)), referencesMayRepeat: ing.referencesMayRepeat,
  };
  await matchStatement(tx, scope);
  const arithmetic = checkStatementArithmetic(s);
  const recovered = arithmetic.ok ? await recoverLostCredits(tx, tables, bank, ing, id, opts.actor, notRecovered) : 0;
  await recordMissingInBank(tx, scope);
  const { closingLedgerFen, findings } = await statementFindings(tx, bank, ing, id, arithmetic.ok ? undefined : arithmetic.finding);
  await repo.insertStatementExceptions(tx, id, findings);
  return recordResult(tx, bank, ing, id, { previousId: previous?.id ?? null, recovered, closingLedgerFen, statementExceptions: findings.length, opts });
}

/** The statement-level exceptions: its arithmetic, its sequence, and its closing balance against
 *  the ledger at the end of its day, counting what this reconciliation recovered for that day
 *  even when it was posted after it (a recovery made the next morning). */
async function statementFindings(tx: Knex.Transaction, bank: BankRow, ing: IngestedStatement, rid: string, arithmetic: StatementFinding | undefined) {
  const s = ing.summary;
  const findings: StatementFinding[] = arithmetic ? [arithmetic] : [];
  const sequenced = s.sequenceNumber !== undefined && sequenceNumberPattern.test(s.sequenceNumber);
  const repeat = sequenced ? await repo.statementWithSequence(tx, bank.id, rid, s.date, s.sequenceNumber!) : undefined;
  const previous = sequenced && !repeat ? await repo.previousSequencedStatement(tx, bank.id, rid, s.date) : undefined;
  const sequence = checkStatementSequence(
    s.sequenceNumber,
    s.statementId,
    repeat && { id: repeat.id, date: fmtDate(repeat.statement_date) },
    previous && { sequenceNumber: previous.sequence_number, date: fmtDate(previous.statement_date) },
  );
  if (sequence) findings.push(sequence);
  const eod = endOfBusinessDay(s.date);
  const closingLedgerFen = (await balanceOf(tx, trustAccount(bank.id), eod)) + (await repo.recoveredPostedAfter(tx, rid, trustAccount(bank.id), eod));
  const closing = checkClosingBalance(s.statementId, s.date, s.closingBalanceFen, closingLedgerFen);
  if (closing) findings.push(closing);
  return { closingLedgerFen, findings };
}

async function recordResult(
  tx: Knex.Transaction,
  bank: BankRow,
  ing: IngestedStatement,
  id: string,
  r: { previousId: string | null; recovered: number; closingLedgerFen: bigint; statementExceptions: number; opts: ReconcileOptions },
): Promise<string> {
  const s = ing.summary;
  const totals = await repo.lineTotals(tx, id);
  // Every exception of a reconciliation is written in its transaction: the lines that are not
  // a plain match, and the statement's findings counted as they were written.
  const exceptionCount = totals.exceptions + r.statementExceptions;
  const result = exceptionCount === 0 ? 'balanced' : 'differences';
  await repo.updateReconciliation(tx, id, {
    result, closing_ledger_fen: r.closingLedgerFen, matched_count: totals.n, matched_credits_fen: totals.credits, matched_debits_fen: totals.debits, recovered_count: r.recovered, exception_count: exceptionCount,
  });
  const voucherId = await requestReportVoucher(tx, bank, id);
  await repo.updateReconciliation(tx, id, { voucher_id: voucherId });
  await appendAudit(tx, {
    actor: r.opts.actor, action: 'reconciliation.created', entityType: 'reconciliation', entityId: id,
    data: {
      bankId: bank.id, statementDate: s.date, statementMessageId: s.messageId, statementSha256: ing.contentSha256, source: r.opts.source, entries: s.entryCount,
      result, matched: totals.n, recovered: r.recovered, exceptions: exceptionCount, closingBank: formatAmount(s.closingBalanceFen), closingLedger: formatAmount(r.closingLedgerFen),
      supersedes: r.previousId, voucherId,
    },
  });
  return id;
}

/** A credit the bank booked whose notification never arrived goes through the deposit rules
 *  now, in this transaction, judged by the bank's booking time (R3). There was no notice, so a
 *  booking the statement gives as a date only cannot be bounded by one: on the deadline's own
 *  day it is held for the centre (deposits/matching.ts). A line addressed to an account that is
 *  neither the trust account nor one of its sub-accounts is not ours to book, as it would not
 *  be from a notice (deposits/notifications.ts): it stays an open exception saying so. */
async function recoverLostCredits(tx: Knex.Transaction, tables: ReconcileDeps['tables'], bank: BankRow, ing: IngestedStatement, rid: string, actor: Actor, notRecovered: NotRecovered): Promise<number> {
  let recovered = 0;
  let after = 0;
  for (;;) {
    const rows = await repo.missingCreditsPage(tx, rid, ing.id, after, recoveryPageRows);
    if (rows.length === 0) return recovered;
    for (const e of rows) {
      after = e.line_no;
      if (recovered >= statementRecoveriesMax) return recovered;
      const bookedAt = e.booked_at as Date;
      const credit: CreditEntry = {
        entryRef: e.entry_ref,
        virtualAccount: e.account ?? bank.trust_account_number,
        amountFen: e.amount_fen,
        currency: e.currency,
        bookedAt: bookedAt.toISOString(),
        ...(statementBookingDateOnly(e.booking_date_only, bookedAt) ? { bookingDateOnly: true } : {}),
        valueDate: e.value_date,
        debtor: { name: e.counterparty_name ?? '', accountNumber: e.counterparty_account ?? '', ...(e.counterparty_bank_code ? { bankCode: e.counterparty_bank_code } : {}) },
        ...(e.remittance ? { remittance: e.remittance } : {}),
        ...(e.end_to_end_id ? { endToEndId: e.end_to_end_id } : {}),
        ...(e.bank_transaction_code ? { bankTransactionCode: e.bank_transaction_code } : {}),
      };
      if (e.return_reason_code) {
        credit.returnInfo = {
          reasonCode: e.return_reason_code,
          ...(e.return_end_to_end_id ? { originalEndToEndId: e.return_end_to_end_id } : {}),
          ...(e.return_additional_info ? { additionalInfo: e.return_additional_info } : {}),
        };
      }
      const kind = creditKindOf(bank, credit);
      if (kind === 'not_ours') {
        await repo.noteLineNotRecovered(tx, e.line_id, `not recovered: account ${credit.virtualAccount} is neither this bank's trust account nor one of its sub-accounts`);
        notRecovered.notOurAccount += 1;
        continue;
      }
      // What the notice would have been, read as the notification dispatcher reads it.
      let what: string;
      let deposit: { depositId: string; status: string } | undefined;
      if (kind !== 'deposit') {
        const outcome = await recordReturnOrInterest(tx, bank, ing.summary.messageId, credit, kind);
        what = kind === 'return' ? `a return of a refund (${credit.returnInfo!.reasonCode}, ${outcome.kind === 'recorded' ? 'matched to its refund' : 'held for a person as a bank exception'})` : 'interest on the trust account';
      } else {
        const outcome = await recordCredit(tx, tables.calendar, bank, ing.summary.messageId, credit, null);
        if (outcome.kind === 'recorded') deposit = { depositId: outcome.depositId, status: outcome.status };
        what = deposit ? `deposit ${deposit.depositId} (${deposit.status}), judged by its booking time ${credit.bookedAt}` : '';
      }
      // Booked only where the ledger now shows it (money in another currency is not, and waits
      // for a person as a bank exception).
      const journal = await repo.findJournalByRef(tx, 'credit', creditJournalRef(bank.id, e.entry_ref));
      if (!journal || !what) continue;
      await repo.markLineRecovered(tx, e.line_id, {
        journalId: journal.id,
        ledgerAmountFen: e.amount_fen,
        detail: `notification lost; recovered from the statement as ${what}`,
      });
      await appendAudit(tx, { actor, action: 'reconciliation.credit_recovered', entityType: 'reconciliation', entityId: rid, data: { entryRef: e.entry_ref, ...(deposit ?? { recoveredAs: what }), amount: formatAmount(e.amount_fen), bookedAt: credit.bookedAt } });
      recovered += 1;
    }
  }
}

/** Whether a statement line gave its booking as a date only. Where the line keeps the parser's
 *  flag, the flag; until statement_entries has that column, a booking at the very start of a
 *  Beijing day (which is how a date without a time is read) is taken as a date: on the
 *  deadline's day that holds it for the centre instead of passing it as 00:00 (R3), and a bank
 *  that really booked at 00:00:00.000 loses nothing but a person's look at it. */
function statementBookingDateOnly(flag: unknown, bookedAt: Date): boolean {
  if (typeof flag === 'boolean') return flag;
  return startOfBusinessDay(businessDate(bookedAt)).getTime() === bookedAt.getTime();
}

/** Pulls a day's statement through the bank's adapter and reconciles it. */
export async function reconcileFromBank(deps: ReconcileDeps & { signer: ServiceSigner }, bankId: string, date: string, opts: Omit<ReconcileOptions, 'expectedDate'>): Promise<ReconcileOutcome> {
  const bank = await findBank(deps.db, bankId);
  if (!bank) throw new NotFound('bank', bankId);
  const adapter = createBankAdapter({ protocol: protocolOfAdapter(bank.adapter), endpoint: bank.endpoint, sign: (b) => deps.signer.sign(b) });
  let stream: Readable;
  try {
    stream = await adapter.fetchStatement({ account: bank.trust_account_number, date });
  } catch (e) {
    if (e instanceof BankUnreachable) throw new ServiceUnavailable('bank_unavailable', `the bank did not deliver the statement: ${e.message}`);
    if (e instanceof BankMessageInvalid) throw new BadRequest('statement_unavailable', e.message, 'date');
    throw e;
  }
  try {
    return await reconcileStream(deps, bank, stream, (input, onEntry) => adapter.parseStatement(input, onEntry), { ...opts, expectedDate: date });
  } catch (e) {
    stream.destroy();
    if (e instanceof BankUnreachable) throw new ServiceUnavailable('bank_unavailable', `the statement stream broke: ${e.message}`);
    throw e;
  }
}

/** Reconciles an uploaded statement for a bank named by the caller. */
export async function reconcileUpload(deps: ReconcileDeps, bankId: string, input: Readable, parse: StatementParser, opts: ReconcileOptions): Promise<ReconcileOutcome> {
  const bank = await findBank(deps.db, bankId);
  if (!bank) throw new NotFound('bank', bankId);
  return reconcileStream(deps, bank, input, parse, opts);
}

// ---- reading ---------------------------------------------------------------------------------

/** A reconciliation as read, with the R13 interest figures of its bank at the end of the
 *  statement's day: what the bank paid on the trust account, what refunds paid out, and the
 *  shortfall (refunds/interestIncome.ts). Read from the ledger when asked, never stored. */
export type ReconciliationRead = repo.ReconciliationRow & { interest?: InterestFigures };

async function withInterest(tx: Tx, r: repo.ReconciliationRow): Promise<ReconciliationRead> {
  const [interest] = await interestFigures(tx, { bankId: r.bank_id, at: endOfBusinessDay(fmtDate(r.statement_date)) });
  return interest ? { ...r, interest } : r;
}

export async function getReconciliation(tx: Tx, id: string): Promise<ReconciliationRead> {
  const r = await repo.findReconciliation(tx, id);
  if (!r) throw new NotFound('reconciliation', id);
  return withInterest(tx, r);
}

export function listReconciliations(tx: Tx, query: { limit: number; cursor?: string; bankId?: string; date?: string }) {
  return paginate(repo.reconciliationsQuery(tx, query), query, (r: repo.ReconciliationRow) => withInterest(tx, r));
}

/** A reconciliation with its statement, one page of exceptions and one of lines. */
export async function getReport(tx: Tx, id: string, page: { linesLimit: number; linesAfter?: string; exceptionsAfter?: string }) {
  const r = await getReconciliation(tx, id);
  const statement = (await repo.findStatement(tx, r.statement_id))!;
  const pageOf = (rows: repo.SideBySide[], limit: number): ReportPage<repo.SideBySide> => ({ rows: rows.slice(0, limit), hasMore: rows.length > limit });
  return {
    reconciliation: r,
    statement,
    openExceptions: await repo.countExceptions(tx, r.id, 'open'),
    exceptions: pageOf(await repo.exceptionsPage(tx, r, page.exceptionsAfter, reportPageMax + 1), reportPageMax),
    lines: pageOf(await repo.linesPage(tx, r, page.linesAfter, page.linesLimit + 1), page.linesLimit),
  };
}

/** Every line of a reconciliation, `csvPageRows` at a time, so that a day of 100,000 lines is
 *  never held in memory. */
export async function* reconciliationLines(db: Tx, r: repo.ReconciliationRow): AsyncGenerator<repo.SideBySide[]> {
  for (let after = '0'; ; ) {
    const rows = await repo.linesPage(db, r, after, csvPageRows);
    if (rows.length === 0) return;
    yield rows;
    after = String(rows[rows.length - 1].id);
  }
}
