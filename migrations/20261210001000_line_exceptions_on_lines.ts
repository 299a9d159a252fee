import type { Knex } from 'knex';

// A line that is not a plain match is an exception, and its state (open, or resolved with a
// decision) is now kept on the line itself, written with the line as the statement streams in
// and cleared by the same update that matches it. Copying every such line into
// reconciliation_exceptions once matching was done wrote a second row per line: on a day of
// 100,000 lines nothing matches, a fifth of the whole reconciliation's time, alone on one core
// after the statement had been read.
//
// reconciliation_exceptions keeps the statement's own findings (balances, sequence) and every
// exception written before this migration, with their ids. reconciliation_exception_rows reads
// both as one list. Their ids come from one sequence from now on (the lines'), started above
// every id either table holds, so an exception's id names one row of that list: the line's id
// for a line, the row's own for the others.

const correctionConstraint = 'reconciliation_lines_correction_journal_id_foreign';

/** The text an exception on a line carries, as it was written into reconciliation_exceptions. */
const fmt = (col: string) => `to_char((${col})::numeric / 100, 'FM999999999999990.00')`;
const lineDetail = `CASE l.result
      WHEN 'missing_in_ledger' THEN 'the bank booked ' || ${fmt('l.bank_amount_fen')} || ' that the ledger does not show' || coalesce(' (' || l.detail || ')', '')
      WHEN 'missing_in_bank' THEN 'the ledger moved ' || ${fmt('l.ledger_amount_fen')} || ' that the statement does not show (' || l.detail || ')'
      WHEN 'amount_mismatch' THEN 'bank ' || ${fmt('l.bank_amount_fen')} || ', ledger ' || ${fmt('l.ledger_amount_fen')} || ' (matched by ' || l.matched_by || ')'
      ELSE l.detail END`;

export async function up(knex: Knex): Promise<void> {
  // Null: not an exception (a match), or a line whose exception was written into
  // reconciliation_exceptions before this migration.
  await knex.raw(`ALTER TABLE reconciliation_lines
    ADD COLUMN exception_status text CONSTRAINT reconciliation_lines_exception_status_check CHECK (exception_status IN ('open', 'resolved')),
    ADD COLUMN decision text,
    ADD COLUMN note text,
    ADD COLUMN correction_journal_id text,
    ADD COLUMN resolved_by text,
    ADD COLUMN resolved_at timestamptz`);
  await knex.raw(`ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_resolved_check
    CHECK ((exception_status IS NOT DISTINCT FROM 'resolved') = (decision IS NOT NULL AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL))`);
  // The correction journal is set when a person resolves, never while a statement is copied in:
  // checked after the row is written and only where set, so that the COPY keeps writing lines
  // in batches (a row trigger that runs before the write makes it insert one row at a time).
  // Journals are append-only, so one found here stays there.
  await knex.raw(`
    CREATE FUNCTION reconciliation_lines_correction_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journals WHERE id = NEW.correction_journal_id) THEN
        RAISE EXCEPTION 'insert or update on table "reconciliation_lines" violates foreign key constraint "${correctionConstraint}"'
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '${correctionConstraint}', TABLE = 'reconciliation_lines',
                DETAIL = format('Key (correction_journal_id)=(%s) is not present in table "journals".', NEW.correction_journal_id);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(
    `CREATE TRIGGER ${correctionConstraint} AFTER INSERT OR UPDATE OF correction_journal_id ON reconciliation_lines
       FOR EACH ROW WHEN (NEW.correction_journal_id IS NOT NULL) EXECUTE FUNCTION reconciliation_lines_correction_exists()`,
  );

  await knex.raw(`SELECT setval('reconciliation_lines_id_seq', greatest(
    (SELECT coalesce(max(id), 0) FROM reconciliation_lines), (SELECT coalesce(max(id), 0) FROM reconciliation_exceptions), 1))`);
  await knex.raw(`ALTER TABLE reconciliation_exceptions ALTER COLUMN id SET DEFAULT nextval('reconciliation_lines_id_seq')`);

  await knex.raw(`
    CREATE VIEW reconciliation_exception_rows AS
    SELECT x.id, x.reconciliation_id, x.line_id, x.kind, x.entry_ref, x.amount_fen, x.detail, x.data, x.status, x.decision, x.note,
           x.correction_journal_id, x.resolved_by, x.resolved_at
      FROM reconciliation_exceptions x
    UNION ALL
    SELECT l.id, l.reconciliation_id, l.id, CASE WHEN l.result = 'recovered' THEN 'missing_in_ledger' ELSE l.result END, coalesce(l.entry_ref, ''),
           abs(coalesce(l.bank_amount_fen, l.ledger_amount_fen)), ${lineDetail}, '{}'::jsonb, l.exception_status, l.decision, l.note,
           l.correction_journal_id, l.resolved_by, l.resolved_at
      FROM reconciliation_lines l
     WHERE l.exception_status IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP VIEW reconciliation_exception_rows');
  // The exceptions kept on lines go back into reconciliation_exceptions, under the same ids.
  await knex.raw(`
    INSERT INTO reconciliation_exceptions (id, reconciliation_id, line_id, kind, entry_ref, amount_fen, detail, status, decision, note, correction_journal_id, resolved_by, resolved_at)
    SELECT l.id, l.reconciliation_id, l.id, CASE WHEN l.result = 'recovered' THEN 'missing_in_ledger' ELSE l.result END, coalesce(l.entry_ref, ''),
           abs(coalesce(l.bank_amount_fen, l.ledger_amount_fen)), ${lineDetail}, l.exception_status, l.decision, l.note, l.correction_journal_id, l.resolved_by, l.resolved_at
      FROM reconciliation_lines l
     WHERE l.exception_status IS NOT NULL`);
  await knex.raw(`SELECT setval('reconciliation_exceptions_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM reconciliation_exceptions), false)`);
  await knex.raw(`ALTER TABLE reconciliation_exceptions ALTER COLUMN id SET DEFAULT nextval('reconciliation_exceptions_id_seq')`);
  await knex.raw(`DROP TRIGGER ${correctionConstraint} ON reconciliation_lines`);
  await knex.raw('DROP FUNCTION reconciliation_lines_correction_exists()');
  await knex.raw(`ALTER TABLE reconciliation_lines DROP CONSTRAINT reconciliation_lines_resolved_check,
    DROP COLUMN exception_status, DROP COLUMN decision, DROP COLUMN note, DROP COLUMN correction_journal_id, DROP COLUMN resolved_by, DROP COLUMN resolved_at`);
}
