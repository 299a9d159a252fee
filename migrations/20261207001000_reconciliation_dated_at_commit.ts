import type { Knex } from 'knex';

// A reconciliation's row is written before its statement has been read, so that the statement's
// lines can be stored beside its entries while the document streams in (each line references
// its reconciliation, checked as each COPY ends). The statement's date is known only once the
// document has been read to its end, so the row starts without it and is dated in the same
// transaction. A reconciliation is never committed without its date: checked at commit, on the
// row as it stands then.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE reconciliations ALTER COLUMN statement_date DROP NOT NULL');
  await knex.raw(`
    CREATE FUNCTION reconciliation_dated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM reconciliations WHERE id = NEW.id AND statement_date IS NULL) THEN
        RAISE EXCEPTION 'reconciliation % was not given its statement''s date', NEW.id
          USING ERRCODE = 'not_null_violation', TABLE = 'reconciliations', COLUMN = 'statement_date';
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(
    `CREATE CONSTRAINT TRIGGER reconciliations_dated AFTER INSERT OR UPDATE OF statement_date ON reconciliations
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reconciliation_dated()`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER reconciliations_dated ON reconciliations');
  await knex.raw('DROP FUNCTION reconciliation_dated()');
  await knex.raw('ALTER TABLE reconciliations ALTER COLUMN statement_date SET NOT NULL');
}
