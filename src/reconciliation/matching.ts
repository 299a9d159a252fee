// Matching a stored statement against the ledger's trust-account movements, set by set in SQL
// (a day of 100,000 lines is matched without bringing it into memory), in the order a person
// would trust the evidence: the bank's own reference, then the end-to-end id we sent, then,
// for what is left, amount + business date + counterparty account. Each step takes only
// movements no earlier line of this reconciliation took, and a movement already matched by
// another current reconciliation makes the line a `duplicate`: never two entries to one
// movement (enforced again by a unique index on claimed journals).
//
// Every line is written as `missing_in_ledger`, an open exception, while the statement streams
// in (statements.ts); a reference the statement repeats makes its later lines `duplicate`, and a
// line leaves these states only when a step finds its movement: a line nothing matches is never
// written twice, which on a day of 100,000 unknown lines is the difference between one pass over
// the table and two. A line that is not a plain match stays an exception, on the line itself.
import type { Knex } from 'knex';
import { trustAccount } from '../ledger';

export interface MatchScope {
  reconciliationId: string;
  statementId: string;
  bankId: string;
  /** The business day the statement covers, as instants [start, end). */
  dayStart: Date;
  dayEnd: Date;
  /** Whether the statement may repeat a bank reference (statements.ts ReferenceRepeats): only
   *  then are its references compared. */
  referencesMayRepeat: boolean;
}

/** Journal kinds whose ref is `<bankId>:<bank entry ref>`: a notified or recovered credit, and a
 *  correction posted for one bank entry when an exception was resolved. */
export const bankRefJournalKinds = ['credit', 'bank_adjustment'] as const;

/** Memory for each sort and hash of the matching, for the rest of its transaction: a day of
 *  100,000 lines sorts about 6 MB by reference and again by line, which the default 4 MB sends
 *  to disk twice. One reconciliation runs at a time per bank and day, so this stays bounded. */
export const matchingWorkMemMb = 64;

/** Rows sampled per column (× 300) by the ANALYZE of a statement's rows: the plans below need
 *  the statement's size and how many distinct references it has, not fine histograms, and the
 *  default (100) spent 90 ms of a 100,000-line day sorting samples where this spends 20. */
export const matchingStatisticsTarget = 30;

const shanghaiDate = (col: string) => `((${col}) AT TIME ZONE 'Asia/Shanghai')::date`;

/** Keeps the first line (by line number) for a journal picked by two lines in one step. */
async function oneLinePerJournal(tx: Knex.Transaction, rid: string): Promise<void> {
  await tx.raw(
    `UPDATE reconciliation_lines l SET journal_id = NULL, matched_by = NULL
       FROM reconciliation_lines k
      WHERE l.reconciliation_id = ? AND k.reconciliation_id = l.reconciliation_id
        AND k.journal_id = l.journal_id AND k.line_no < l.line_no AND l.result = 'missing_in_ledger'`,
    [rid],
  );
}

export async function matchStatement(tx: Knex.Transaction, s: MatchScope): Promise<void> {
  const { reconciliationId: rid, statementId: sid, bankId } = s;
  const trust = trustAccount(bankId);
  const refPrefix = `${bankId}:`;

  await tx.raw(`SET LOCAL work_mem = '${matchingWorkMemMb}MB'`);
  await tx.raw(`SET LOCAL default_statistics_target = ${matchingStatisticsTarget}`);

  // The statement's rows were written in this transaction: without fresh statistics the planner
  // takes 100,000 lines for a handful and picks nested loops over the whole ledger. Only the
  // columns the steps below join and filter on: the names and remittance texts are the widest
  // and no plan here reads them.
  await tx.raw(
    `ANALYZE statement_entries (statement_id, line_no, entry_ref, end_to_end_id, direction, counterparty_account, booked_at),
             reconciliation_lines (reconciliation_id, line_no, result, journal_id, claims)`,
  );

  // A bank reference the statement repeats is a duplicate from its second occurrence on. The
  // first occurrence is found in one pass over the entries (a window over equal references,
  // compared byte for byte), not by joining the statement to itself, which planned for a
  // handful of rows took minutes on 100,000.
  if (s.referencesMayRepeat) {
    await tx.raw(
      `UPDATE reconciliation_lines l SET result = 'duplicate', detail = 'bank reference repeated in this statement (first at line ' || e.first_line || ')'
         FROM (SELECT line_no, min(line_no) OVER (PARTITION BY entry_ref COLLATE "C") AS first_line
                 FROM statement_entries WHERE statement_id = ?) e
        WHERE l.reconciliation_id = ? AND l.line_no = e.line_no AND e.first_line < e.line_no`,
      [sid, rid],
    );
  }

  // 1. The bank's reference: credits (and corrections) carry it in their journal ref; a refund
  //    settlement carries it on its attempt. A join, not a lookup per line: the planner may
  //    then hash the day's lines against the journals instead of probing the index 100,000
  //    times; of several journals for one reference, the credit and then the oldest.
  await tx.raw(
    `UPDATE reconciliation_lines l SET journal_id = m.journal_id, matched_by = 'bank_reference'
       FROM (SELECT DISTINCT ON (e.line_no) e.line_no, j.id AS journal_id
               FROM statement_entries e
               JOIN journals j ON j.kind IN ('credit', 'bank_adjustment') AND j.ref = ? || e.entry_ref
              WHERE e.statement_id = ?
              ORDER BY e.line_no, (j.kind <> 'credit'), j.id) m
      WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.line_no = m.line_no`,
    [refPrefix, sid, rid],
  );
  await tx.raw(
    `UPDATE reconciliation_lines l SET journal_id = j.id, matched_by = 'bank_reference'
       FROM statement_entries e
       JOIN refund_attempts a ON a.bank_reference = e.entry_ref
       JOIN refunds r ON r.id = a.refund_id AND r.bank_id = ?
       JOIN journals j ON j.kind = 'refund_settle' AND j.ref = a.id
      WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.journal_id IS NULL
        AND e.statement_id = ? AND e.line_no = l.line_no AND e.direction = 'debit'`,
    [bankId, rid, sid],
  );
  await oneLinePerJournal(tx, rid);

  // 2. The end-to-end id we (or the payer) sent with the transfer.
  await tx.raw(
    `UPDATE reconciliation_lines l SET journal_id = j.id, matched_by = 'end_to_end_id'
       FROM statement_entries e
       JOIN refund_attempts a ON a.end_to_end_id = e.end_to_end_id
       JOIN refunds r ON r.id = a.refund_id AND r.bank_id = ?
       JOIN journals j ON j.kind = 'refund_settle' AND j.ref = a.id
      WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.journal_id IS NULL
        AND e.statement_id = ? AND e.line_no = l.line_no AND e.direction = 'debit'
        AND NOT EXISTS (SELECT 1 FROM reconciliation_lines o WHERE o.reconciliation_id = l.reconciliation_id AND o.journal_id = j.id)`,
    [bankId, rid, sid],
  );
  await tx.raw(
    `UPDATE reconciliation_lines l SET journal_id = j.id, matched_by = 'end_to_end_id'
       FROM statement_entries e
       JOIN credits c ON c.bank_id = ? AND c.end_to_end_id = e.end_to_end_id
       JOIN journals j ON j.kind = 'credit' AND j.ref = ? || c.entry_ref
      WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.journal_id IS NULL
        AND e.statement_id = ? AND e.line_no = l.line_no AND e.direction = 'credit'
        AND NOT EXISTS (SELECT 1 FROM reconciliation_lines o WHERE o.reconciliation_id = l.reconciliation_id AND o.journal_id = j.id)`,
    [bankId, refPrefix, rid, sid],
  );
  await oneLinePerJournal(tx, rid);

  // 3. What is left: the day's unclaimed movements paired with lines of the same signed
  //    amount, business date and counterparty account, k-th with k-th, so that two identical
  //    payments match two identical movements and never one twice.
  await tx.raw(
    `WITH mv AS (
       SELECT j.id, sum(p.amount_fen) AS amt, ${shanghaiDate('j.posted_at')} AS d, coalesce(c.debtor_account, a.creditor_account_number) AS cp
         FROM postings p
         JOIN journals j ON j.id = p.journal_id
         LEFT JOIN credits c ON j.kind = 'credit' AND c.bank_id = ? AND c.entry_ref = substr(j.ref, ?)
         LEFT JOIN refund_attempts a ON j.kind = 'refund_settle' AND a.id = j.ref
        WHERE p.account = ? AND p.posted_at >= ? AND p.posted_at < ?
          AND NOT EXISTS (SELECT 1 FROM reconciliation_lines o WHERE o.journal_id = j.id AND (o.reconciliation_id = ? OR o.claims))
        GROUP BY j.id, c.debtor_account, a.creditor_account_number
     ), mvr AS (
       SELECT mv.*, row_number() OVER (PARTITION BY amt, d, cp ORDER BY id) AS rn FROM mv WHERE cp IS NOT NULL
     ), le AS (
       SELECT l.id AS line_id, l.bank_amount_fen AS amt, ${shanghaiDate('e.booked_at')} AS d, e.counterparty_account AS cp,
              row_number() OVER (PARTITION BY l.bank_amount_fen, ${shanghaiDate('e.booked_at')}, e.counterparty_account ORDER BY l.line_no) AS rn
         FROM reconciliation_lines l JOIN statement_entries e ON e.statement_id = ? AND e.line_no = l.line_no
        WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.journal_id IS NULL AND e.counterparty_account IS NOT NULL
     )
     UPDATE reconciliation_lines l SET journal_id = mvr.id, matched_by = 'amount_date_counterparty'
       FROM le JOIN mvr ON mvr.amt = le.amt AND mvr.d = le.d AND mvr.cp = le.cp AND mvr.rn = le.rn
      WHERE l.id = le.line_id`,
    [bankId, refPrefix.length + 1, trust, s.dayStart, s.dayEnd, rid, sid, rid],
  );

  // A movement another current reconciliation already matched: this line repeats an entry.
  await tx.raw(
    `UPDATE reconciliation_lines l SET result = 'duplicate', detail = 'already matched by reconciliation ' || o.reconciliation_id
       FROM reconciliation_lines o
      WHERE l.reconciliation_id = ? AND l.result = 'missing_in_ledger' AND l.journal_id IS NOT NULL
        AND o.journal_id = l.journal_id AND o.claims AND o.reconciliation_id <> l.reconciliation_id`,
    [rid],
  );

  // What the ledger says moved: by bank reference, every credit and correction for that entry
  // together; otherwise the matched journal's own trust posting.
  await tx.raw(
    `UPDATE reconciliation_lines l SET ledger_amount_fen = (
        SELECT coalesce(sum(p.amount_fen), 0) FROM postings p
         WHERE p.account = ? AND p.journal_id IN (
           SELECT l.journal_id
           UNION
           SELECT j.id FROM journals j WHERE l.matched_by = 'bank_reference' AND j.kind IN ('credit', 'bank_adjustment') AND j.ref = ? || l.entry_ref))
      WHERE l.reconciliation_id = ? AND l.journal_id IS NOT NULL`,
    [trust, refPrefix, rid],
  );
  await tx.raw(
    `UPDATE reconciliation_lines SET claims = true,
            result = CASE WHEN ledger_amount_fen = bank_amount_fen THEN 'matched' ELSE 'amount_mismatch' END,
            exception_status = CASE WHEN ledger_amount_fen = bank_amount_fen THEN NULL ELSE 'open' END
      WHERE reconciliation_id = ? AND result = 'missing_in_ledger' AND journal_id IS NOT NULL`,
    [rid],
  );
}

/** The ledger's side of the day not found in the statement: trust movements posted that day
 *  that no line of this reconciliation matched and no other current reconciliation claims. */
export async function recordMissingInBank(tx: Knex.Transaction, s: MatchScope): Promise<void> {
  await tx.raw(
    `INSERT INTO reconciliation_lines (reconciliation_id, entry_ref, journal_id, ledger_amount_fen, result, detail, exception_status)
     SELECT ?, coalesce(a.bank_reference, a.end_to_end_id, CASE WHEN j.kind IN ('credit', 'bank_adjustment') THEN substr(j.ref, ?) END, j.ref),
            j.id, sum(p.amount_fen), 'missing_in_bank', j.kind || ' ' || j.ref || ': ' || j.memo, 'open'
       FROM postings p
       JOIN journals j ON j.id = p.journal_id
       LEFT JOIN refund_attempts a ON j.kind = 'refund_settle' AND a.id = j.ref
      WHERE p.account = ? AND p.posted_at >= ? AND p.posted_at < ?
        AND NOT EXISTS (SELECT 1 FROM reconciliation_lines o WHERE o.journal_id = j.id AND (o.reconciliation_id = ? OR o.claims))
      GROUP BY j.id, a.bank_reference, a.end_to_end_id
     HAVING sum(p.amount_fen) <> 0`,
    [s.reconciliationId, s.bankId.length + 2, trustAccount(s.bankId), s.dayStart, s.dayEnd, s.reconciliationId],
  );
}
