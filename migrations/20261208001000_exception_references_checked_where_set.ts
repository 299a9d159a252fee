import type { Knex } from 'knex';

// A day's 100,000 exceptions are inserted at once, and two of their reference checks ran for
// every row although they could only fail for a few:
//
// - The correction journal is set only when a person resolves an exception, never when it is
//   written; its row-level foreign key still fired once per inserted row (35 ms a day of
//   100,000). It is checked by a row trigger that runs only where the column is set. Journals
//   are append-only (neither deleted nor renumbered, migration 20261127000400), so a journal
//   found by the check stays there, which is what the foreign key's row lock was for.
// - An exception on a line belongs to that line's reconciliation (checked per statement,
//   migration 20261205005000), and the line's reconciliation was checked when the line was
//   written and can change no more than the reconciliation can be deleted. So the check that
//   the exception's reconciliation exists only needs the exceptions without a line: the
//   statement's own findings, a handful (13 ms a day of 100,000 otherwise).
//
// Both refusals keep the foreign keys' SQLSTATE (23503) and constraint names.

const correctionConstraint = 'reconciliation_exceptions_correction_journal_id_foreign';
const reconciliationConstraint = 'reconciliation_exceptions_reconciliation_id_foreign';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE reconciliation_exceptions DROP CONSTRAINT ${correctionConstraint}`);
  await knex.raw(`
    CREATE FUNCTION reconciliation_exceptions_correction_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journals WHERE id = NEW.correction_journal_id) THEN
        RAISE EXCEPTION 'insert or update on table "reconciliation_exceptions" violates foreign key constraint "${correctionConstraint}"'
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '${correctionConstraint}', TABLE = 'reconciliation_exceptions',
                DETAIL = format('Key (correction_journal_id)=(%s) is not present in table "journals".', NEW.correction_journal_id);
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(
    `CREATE TRIGGER ${correctionConstraint} BEFORE INSERT OR UPDATE OF correction_journal_id ON reconciliation_exceptions
       FOR EACH ROW WHEN (NEW.correction_journal_id IS NOT NULL) EXECUTE FUNCTION reconciliation_exceptions_correction_exists()`,
  );

  // reference_check_inserted (migration 20261205005000) over the rows whose TG_ARGV[4] is null:
  // the others are covered by the check of that column.
  await knex.raw(`
    CREATE FUNCTION reference_check_inserted_unless() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      missing text;
    BEGIN
      EXECUTE format(
        'SELECT n.k::text FROM (SELECT DISTINCT %1$I AS k FROM inserted_rows WHERE %1$I IS NOT NULL AND %4$I IS NULL) n
          WHERE NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.%3$I = n.k) LIMIT 1',
        TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], TG_ARGV[4]) INTO missing;
      IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[3]
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[3], TABLE = TG_TABLE_NAME,
                DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], missing, TG_ARGV[1]);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`DROP TRIGGER ${reconciliationConstraint} ON reconciliation_exceptions`);
  await knex.raw(
    `CREATE TRIGGER ${reconciliationConstraint} AFTER INSERT ON reconciliation_exceptions REFERENCING NEW TABLE AS inserted_rows
       FOR EACH STATEMENT EXECUTE FUNCTION reference_check_inserted_unless('reconciliation_id', 'reconciliations', 'id', '${reconciliationConstraint}', 'line_id')`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TRIGGER ${reconciliationConstraint} ON reconciliation_exceptions`);
  await knex.raw(
    `CREATE TRIGGER ${reconciliationConstraint} AFTER INSERT ON reconciliation_exceptions REFERENCING NEW TABLE AS inserted_rows
       FOR EACH STATEMENT EXECUTE FUNCTION reference_check_inserted('reconciliation_id', 'reconciliations', 'id', '${reconciliationConstraint}')`,
  );
  await knex.raw('DROP FUNCTION reference_check_inserted_unless()');
  await knex.raw(`DROP TRIGGER ${correctionConstraint} ON reconciliation_exceptions`);
  await knex.raw('DROP FUNCTION reconciliation_exceptions_correction_exists()');
  await knex.raw(`ALTER TABLE reconciliation_exceptions ADD CONSTRAINT ${correctionConstraint} FOREIGN KEY (correction_journal_id) REFERENCES journals (id)`);
}
