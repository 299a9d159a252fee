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
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { addCalendarDays, endOfBusinessDay, startOfBusinessDay } from '../domain/time';
import { createBankAdapter, protocolOfAdapter } from '../banks/adapters';
import { BankMessageInvalid, BankUnreachable, type CreditEntry } from '../banks/types';
import { balanceOf, trustAccount } from '../ledger';
import { creditJournalRef, recordCredit } from '../deposits/matching';
import { findBank, type BankRow } from '../registry/repo';
import type { ServiceSigner } from '../pki/serviceSigner';
import { matchStatement, recordMissingInBank, type MatchScope } from './matching';
import { ingestStatement, type IngestedStatement, type StatementParser, type StatementSource } from './statements';
import { requestReportVoucher } from './voucher';

/** Lost credits recovered per reconciliation; beyond this they stay `missing_in_ledger` for a
 *  person (a day with thousands of lost notifications is an outage to look at, not to absorb). */
export const statementRecoveriesMax = 5_000;
/** Lines read per page while recovering credits. */
export const recoveryPageRows = 500;

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

const fmtSql = (col: string) => `to_char((${col})::numeric / 100, 'FM999999999999990.00')`;

export async function reconcileStream(db: Knex, bank: BankRow, input: Readable, parse: StatementParser, opts: ReconcileOptions): Promise<ReconcileOutcome> {
  return db.transaction(async (tx) => {
    // One reconciliation per bank at a time: supersession and sequence checks read what the
    // previous one wrote.
    await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`bidbond.reconcile.${bank.id}`]);
    let ingested: IngestedStatement;
    try {
      // A savepoint: a statement found to be one already reconciled is rolled back whole.
      ingested = await tx.transaction(async (sp) => {
        const ing = await ingestStatement(sp, bank.id, input, parse, opts.source);
        checkStatementFits(bank, ing, opts.expectedDate);
        const same = await findSameStatement(sp, bank.id, ing);
        if (same) throw new SameStatement(same);
        return ing;
      });
    } catch (e) {
      if (e instanceof SameStatement) return { reconciliationId: e.reconciliationId, created: false };
      throw e;
    }
    return { reconciliationId: await reconcileIngested(tx, bank, ingested, opts), created: true };
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
  const row = await tx('statements as s')
    .join('reconciliations as r', 'r.statement_id', 's.id')
    .where('s.bank_id', bankId)
    .whereNot('s.id', ing.id)
    .where((q) => q.where('s.message_id', s.messageId).orWhere((q2) => q2.where('s.statement_date', s.date).where('s.content_sha256', ing.contentSha256)))
    .orderByRaw('(s.message_id = ?) DESC', [s.messageId])
    .first('r.id', 's.message_id', 's.content_sha256');
  if (!row) return undefined;
  if (row.message_id === s.messageId && row.content_sha256 !== ing.contentSha256) {
    throw new Conflict('statement_message_id_reused', `statement message ${s.messageId} was reconciled before (${row.id}) with different content`);
  }
  return row.id as string;
}

async function reconcileIngested(tx: Knex.Transaction, bank: BankRow, ing: IngestedStatement, opts: ReconcileOptions): Promise<string> {
  const s = ing.summary;
  const id = newId('rcn');
  const date = s.date;
  const previous = await tx('reconciliations').where({ bank_id: bank.id, statement_date: date }).whereNull('superseded_by').forUpdate().first('id');
  if (previous) {
    await tx('reconciliations').where({ id: previous.id }).update({ superseded_by: id, superseded_at: tx.fn.now() });
    await tx('reconciliation_lines').where({ reconciliation_id: previous.id, claims: true }).update({ claims: false });
    await appendAudit(tx, { actor: opts.actor, action: 'reconciliation.superseded', entityType: 'reconciliation', entityId: previous.id, data: { supersededBy: id, statementMessageId: s.messageId } });
  }
  await tx('reconciliations').insert({
    id, bank_id: bank.id, statement_id: ing.id, statement_date: date, result: 'differences', opening_fen: s.openingBalanceFen, closing_bank_fen: s.closingBalanceFen,
    closing_ledger_fen: 0n, entry_count: s.entryCount, matched_count: 0, matched_credits_fen: 0n, matched_debits_fen: 0n, recovered_count: 0, exception_count: 0,
    source: opts.source, created_by: opts.actor.id ?? opts.actor.type,
  });
  const scope: MatchScope = { reconciliationId: id, statementId: ing.id, bankId: bank.id, dayStart: startOfBusinessDay(date), dayEnd: startOfBusinessDay(addCalendarDays(date, 1)) };
  await matchStatement(tx, scope);
  const computedClosingFen = s.openingBalanceFen + s.creditTotalFen - s.debitTotalFen;
  // A statement that does not add up is not evidence enough to create deposits from.
  const arithmeticOk = computedClosingFen === s.closingBalanceFen;
  const recovered = arithmeticOk ? await recoverLostCredits(tx, bank, ing, id, opts.actor) : 0;
  await recordMissingInBank(tx, scope);
  await recordLineExceptions(tx, id);

  const statementLevel: { kind: string; entryRef: string; amountFen: bigint; detail: string; data: Record<string, string> }[] = [];
  if (!arithmeticOk) {
    const diff = computedClosingFen - s.closingBalanceFen;
    statementLevel.push({
      kind: 'balance_mismatch', entryRef: s.statementId, amountFen: diff < 0n ? -diff : diff,
      detail: `opening ${formatAmount(s.openingBalanceFen)} + credits ${formatAmount(s.creditTotalFen)} − debits ${formatAmount(s.debitTotalFen)} = ${formatAmount(computedClosingFen)}, but the statement's closing balance is ${formatAmount(s.closingBalanceFen)}; no credit was recovered from it`,
      data: { opening: formatAmount(s.openingBalanceFen), credits: formatAmount(s.creditTotalFen), debits: formatAmount(s.debitTotalFen), computedClosing: formatAmount(computedClosingFen), statedClosing: formatAmount(s.closingBalanceFen) },
    });
  }
  statementLevel.push(...(await sequenceExceptions(tx, bank.id, id, date, s.sequenceNumber, s.statementId)));

  // The ledger at the end of the statement's day, with what this reconciliation recovered for
  // that day even when it was posted after it (a recovery made the next morning).
  const eod = endOfBusinessDay(date);
  const lateRecovered = await tx('reconciliation_lines as l')
    .join('postings as p', 'p.journal_id', 'l.journal_id')
    .where({ 'l.reconciliation_id': id, 'l.result': 'recovered', 'p.account': trustAccount(bank.id) })
    .where('p.posted_at', '>', eod)
    .sum({ total: 'p.amount_fen' })
    .first();
  const closingLedgerFen = (await balanceOf(tx, trustAccount(bank.id), eod)) + BigInt(lateRecovered?.total ?? 0);
  if (closingLedgerFen !== s.closingBalanceFen) {
    const diff = s.closingBalanceFen - closingLedgerFen;
    statementLevel.push({
      kind: 'ledger_balance_difference', entryRef: s.statementId, amountFen: diff < 0n ? -diff : diff,
      detail: `bank closing balance ${formatAmount(s.closingBalanceFen)}, ledger trust balance at end of ${date} ${formatAmount(closingLedgerFen)} (bank − ledger ${formatAmount(diff)})`,
      data: { bankClosing: formatAmount(s.closingBalanceFen), ledgerClosing: formatAmount(closingLedgerFen), difference: formatAmount(diff) },
    });
  }
  if (statementLevel.length) {
    await tx('reconciliation_exceptions').insert(
      statementLevel.map((x) => ({ reconciliation_id: id, kind: x.kind, entry_ref: x.entryRef, amount_fen: x.amountFen, detail: x.detail, data: JSON.stringify(x.data) })),
    );
  }

  const totals = await tx('reconciliation_lines')
    .where({ reconciliation_id: id })
    .whereIn('result', ['matched', 'recovered'])
    .select(
      tx.raw('count(*)::int AS n'),
      tx.raw('coalesce(sum(bank_amount_fen) FILTER (WHERE bank_amount_fen > 0), 0)::bigint AS credits'),
      tx.raw('coalesce(-sum(bank_amount_fen) FILTER (WHERE bank_amount_fen < 0), 0)::bigint AS debits'),
    )
    .first();
  const exceptionCount = Number((await tx('reconciliation_exceptions').where({ reconciliation_id: id }).count({ n: '*' }).first())?.n ?? 0);
  const result = exceptionCount === 0 ? 'balanced' : 'differences';
  await tx('reconciliations').where({ id }).update({
    result, closing_ledger_fen: closingLedgerFen, matched_count: totals.n, matched_credits_fen: totals.credits, matched_debits_fen: totals.debits, recovered_count: recovered, exception_count: exceptionCount,
  });
  const voucherId = await requestReportVoucher(tx, bank, id);
  await tx('reconciliations').where({ id }).update({ voucher_id: voucherId });
  await appendAudit(tx, {
    actor: opts.actor, action: 'reconciliation.created', entityType: 'reconciliation', entityId: id,
    data: {
      bankId: bank.id, statementDate: date, statementMessageId: s.messageId, statementSha256: ing.contentSha256, source: opts.source, entries: s.entryCount,
      result, matched: totals.n, recovered, exceptions: exceptionCount, closingBank: formatAmount(s.closingBalanceFen), closingLedger: formatAmount(closingLedgerFen),
      supersedes: previous?.id ?? null, voucherId,
    },
  });
  return id;
}

/** A credit the bank booked whose notification never arrived goes through the deposit rules
 *  now, in this transaction, judged by the bank's booking time (R3), as if notified. */
async function recoverLostCredits(tx: Knex.Transaction, bank: BankRow, ing: IngestedStatement, rid: string, actor: Actor): Promise<number> {
  let recovered = 0;
  let after = 0;
  for (;;) {
    const rows = await tx('reconciliation_lines as l')
      .join('statement_entries as e', (j) => j.on('e.line_no', 'l.line_no').andOn('e.statement_id', tx.raw('?', [ing.id])))
      .where({ 'l.reconciliation_id': rid, 'l.result': 'missing_in_ledger', 'e.direction': 'credit', 'e.reversal': false })
      .where('l.id', '>', after)
      .orderBy('l.id')
      .limit(recoveryPageRows)
      .select('l.id as line_id', 'e.*');
    if (rows.length === 0) return recovered;
    for (const e of rows) {
      after = Number(e.line_id);
      if (recovered >= statementRecoveriesMax) return recovered;
      const credit: CreditEntry = {
        entryRef: e.entry_ref,
        virtualAccount: e.account ?? bank.trust_account_number,
        amountFen: e.amount_fen,
        currency: e.currency,
        bookedAt: (e.booked_at as Date).toISOString(),
        valueDate: e.value_date,
        debtor: { name: e.counterparty_name ?? '', accountNumber: e.counterparty_account ?? '', ...(e.counterparty_bank_code ? { bankCode: e.counterparty_bank_code } : {}) },
        ...(e.remittance ? { remittance: e.remittance } : {}),
        ...(e.end_to_end_id ? { endToEndId: e.end_to_end_id } : {}),
      };
      const outcome = await recordCredit(tx, bank, ing.summary.messageId, credit);
      if (outcome.kind !== 'recorded') continue;
      const journal = await tx('journals').where({ kind: 'credit', ref: creditJournalRef(bank.id, e.entry_ref) }).first('id');
      await tx('reconciliation_lines').where({ id: e.line_id }).update({
        result: 'recovered', matched_by: 'recovery', journal_id: journal.id, ledger_amount_fen: e.amount_fen, claims: true,
        detail: `notification lost; recovered from the statement as deposit ${outcome.depositId} (${outcome.status}), judged by its booking time ${credit.bookedAt}`,
      });
      await appendAudit(tx, { actor, action: 'reconciliation.credit_recovered', entityType: 'reconciliation', entityId: rid, data: { entryRef: e.entry_ref, depositId: outcome.depositId, status: outcome.status, amount: formatAmount(e.amount_fen), bookedAt: credit.bookedAt } });
      recovered += 1;
    }
  }
}

/** One exception per line that is not a plain match; a recovered credit is recorded as
 *  missing_in_ledger and resolved at once by its recovery, so nothing is silently absorbed. */
async function recordLineExceptions(tx: Knex.Transaction, rid: string): Promise<void> {
  await tx.raw(
    `INSERT INTO reconciliation_exceptions (reconciliation_id, line_id, kind, entry_ref, amount_fen, detail, status, decision, note, resolved_by, resolved_at)
     SELECT l.reconciliation_id, l.id, CASE WHEN l.result = 'recovered' THEN 'missing_in_ledger' ELSE l.result END, coalesce(l.entry_ref, ''),
            abs(coalesce(l.bank_amount_fen, l.ledger_amount_fen)),
            CASE l.result
              WHEN 'missing_in_ledger' THEN 'the bank booked ' || ${fmtSql('l.bank_amount_fen')} || ' that the ledger does not show'
              WHEN 'missing_in_bank' THEN 'the ledger moved ' || ${fmtSql('l.ledger_amount_fen')} || ' that the statement does not show (' || l.detail || ')'
              WHEN 'amount_mismatch' THEN 'bank ' || ${fmtSql('l.bank_amount_fen')} || ', ledger ' || ${fmtSql('l.ledger_amount_fen')} || ' (matched by ' || l.matched_by || ')'
              ELSE l.detail END,
            CASE WHEN l.result = 'recovered' THEN 'resolved' ELSE 'open' END,
            CASE WHEN l.result = 'recovered' THEN 'recovered_from_statement' END,
            CASE WHEN l.result = 'recovered' THEN l.detail END,
            CASE WHEN l.result = 'recovered' THEN 'system' END,
            CASE WHEN l.result = 'recovered' THEN now() END
       FROM reconciliation_lines l
      WHERE l.reconciliation_id = ? AND l.result IN ('recovered', 'missing_in_ledger', 'missing_in_bank', 'amount_mismatch', 'duplicate')
      ORDER BY l.id`,
    [rid],
  );
}

const seqPattern = /^\d{1,18}$/;

/** ElctrncSeqNb counts an account's statements: the next day's is one more. A number seen on
 *  another day's statement is a repeat; a jump (or a step back) means a statement is missing. */
async function sequenceExceptions(tx: Knex.Transaction, bankId: string, rid: string, date: string, seq: string | undefined, statementRef: string) {
  const out: { kind: string; entryRef: string; amountFen: bigint; detail: string; data: Record<string, string> }[] = [];
  if (!seq || !seqPattern.test(seq)) return out;
  const current = () => tx('reconciliations as r').join('statements as s', 's.id', 'r.statement_id').where('r.bank_id', bankId).whereNull('r.superseded_by').whereNot('r.id', rid).whereNot('r.statement_date', date);
  const repeat = await current().where('s.sequence_number', seq).first('r.id', 'r.statement_date');
  if (repeat) {
    out.push({ kind: 'sequence_repeat', entryRef: statementRef, amountFen: 0n, detail: `sequence number ${seq} was already used by the statement of ${fmtDate(repeat.statement_date)} (${repeat.id})`, data: { sequenceNumber: seq, otherReconciliationId: repeat.id } });
    return out;
  }
  const prev = await current().where('r.statement_date', '<', date).whereNotNull('s.sequence_number').orderBy('r.statement_date', 'desc').first('s.sequence_number', 'r.statement_date');
  if (prev && seqPattern.test(prev.sequence_number) && BigInt(seq) !== BigInt(prev.sequence_number) + 1n) {
    out.push({
      kind: 'sequence_gap', entryRef: statementRef, amountFen: 0n,
      detail: `sequence number ${seq} follows ${prev.sequence_number} (statement of ${fmtDate(prev.statement_date)}); expected ${BigInt(prev.sequence_number) + 1n}`,
      data: { sequenceNumber: seq, previousSequenceNumber: prev.sequence_number, previousDate: fmtDate(prev.statement_date) },
    });
  }
  return out;
}

export const fmtDate = (d: Date | string) => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

/** Pulls a day's statement through the bank's adapter and reconciles it. */
export async function reconcileFromBank(deps: { db: Knex; signer: ServiceSigner }, bankId: string, date: string, opts: Omit<ReconcileOptions, 'expectedDate'>): Promise<ReconcileOutcome> {
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
    return await reconcileStream(deps.db, bank, stream, (input, onEntry) => adapter.parseStatement(input, onEntry), { ...opts, expectedDate: date });
  } catch (e) {
    stream.destroy();
    if (e instanceof BankUnreachable) throw new ServiceUnavailable('bank_unavailable', `the statement stream broke: ${e.message}`);
    throw e;
  }
}
