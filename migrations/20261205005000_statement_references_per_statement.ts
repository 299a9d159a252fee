import type { Knex } from 'knex';

// A day's statement writes 100,000 rows into each of statement_entries, reconciliation_lines
// and reconciliation_exceptions, and a row-level foreign key checks each row on its own: one
// trigger call and one index probe with a row lock per row and key, more than half of the
// time of those inserts. These references are checked per statement instead: one query over
// the rows the statement inserted (its transition table) finds any key its table lacks.
//
// What makes that enough: the referenced rows are records that are never deleted nor renumbered
// (a statement, a reconciliation, a line are kept as evidence), so the database refuses both,
// and a key seen by the check cannot vanish before the inserting transaction commits; the
// referencing column of a stored row cannot be changed either. The error is the foreign key's
// (SQLSTATE 23503, same constraint names), so callers see the same failure as before.
// References to journals stay row-level foreign keys: they are empty when these rows are
// inserted, and journals are not records of this module.
//
// The index of statement entries by reference goes: it served the search for references a
// statement repeats, which is now one pass over the statement's entries (matching.ts), and
// maintaining it took a third of the time of the COPY of 100,000 entries. Lookups of an entry
// go by its statement and line (the primary key).

interface Reference {
  /** The foreign key constraint this replaces, whose name the checks keep. */
  name: string;
  table: string;
  column: string;
  parent: string;
  key: string;
  /** Both rows belong to the same row of this column (an exception's line is a line of the
   *  exception's reconciliation): checked too, which the foreign key did not. */
  within?: string;
}

const references: Reference[] = [
  { name: 'statement_entries_statement_id_foreign', table: 'statement_entries', column: 'statement_id', parent: 'statements', key: 'id' },
  { name: 'reconciliation_lines_reconciliation_id_foreign', table: 'reconciliation_lines', column: 'reconciliation_id', parent: 'reconciliations', key: 'id' },
  { name: 'reconciliation_exceptions_reconciliation_id_foreign', table: 'reconciliation_exceptions', column: 'reconciliation_id', parent: 'reconciliations', key: 'id' },
  { name: 'reconciliation_exceptions_line_id_foreign', table: 'reconciliation_exceptions', column: 'line_id', parent: 'reconciliation_lines', key: 'id', within: 'reconciliation_id' },
];

const parents = [...new Set(references.map((r) => r.parent))];

export async function up(knex: Knex): Promise<void> {
  const missingKey = `
      IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[3]
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[3], TABLE = TG_TABLE_NAME,
                DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], missing, TG_ARGV[1]);
      END IF;
      RETURN NULL;`;
  // TG_ARGV: referencing column, referenced table, referenced key, constraint name. The keys are
  // made distinct first: a statement's 100,000 entries name one statement.
  await knex.raw(`
    CREATE FUNCTION reference_check_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      missing text;
    BEGIN
      EXECUTE format(
        'SELECT n.k::text FROM (SELECT DISTINCT %1$I AS k FROM inserted_rows WHERE %1$I IS NOT NULL) n
          WHERE NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.%3$I = n.k) LIMIT 1',
        TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]) INTO missing;
      ${missingKey}
    END $$`);
  // The same for a reference within one reconciliation; TG_ARGV[4] is the column both rows
  // carry it in. The referenced rows of that reconciliation are hashed once: 100,000 index
  // probes, one per inserted line, cost more (hence no nested loop here).
  await knex.raw(`
    CREATE FUNCTION reference_check_inserted_within() RETURNS trigger LANGUAGE plpgsql SET enable_nestloop = off AS $$
    DECLARE
      missing text;
      scope text;
    BEGIN
      FOR scope IN EXECUTE format('SELECT DISTINCT %1$I::text FROM inserted_rows WHERE %2$I IS NOT NULL', TG_ARGV[4], TG_ARGV[0]) LOOP
        EXECUTE format(
          'SELECT n.%1$I::text FROM inserted_rows n
            WHERE n.%4$I = $1 AND n.%1$I IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.%4$I = $1 AND p.%3$I = n.%1$I) LIMIT 1',
          TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], TG_ARGV[4]) INTO missing USING scope;
        EXIT WHEN missing IS NOT NULL;
      END LOOP;
      ${missingKey}
    END $$`);
  // TG_ARGV: what is refused, and why.
  await knex.raw(`
    CREATE FUNCTION reference_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% on table "%" refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
    END $$`);

  await knex.raw('DROP INDEX statement_entries_ref');
  for (const r of references) {
    await knex.raw(`ALTER TABLE ${r.table} DROP CONSTRAINT ${r.name}`);
    await knex.raw(
      `CREATE TRIGGER ${r.name} AFTER INSERT ON ${r.table} REFERENCING NEW TABLE AS inserted_rows
         FOR EACH STATEMENT EXECUTE FUNCTION reference_check_inserted${r.within ? '_within' : ''}('${r.column}', '${r.parent}', '${r.key}', '${r.name}'${r.within ? `, '${r.within}'` : ''})`,
    );
    await knex.raw(
      `CREATE TRIGGER ${r.name}_fixed BEFORE UPDATE OF ${r.column} ON ${r.table}
         FOR EACH ROW WHEN (OLD.${r.column} IS DISTINCT FROM NEW.${r.column})
         EXECUTE FUNCTION reference_refuse_change('${r.column} references ${r.parent} and is never changed')`,
    );
  }
  for (const p of parents) {
    const children = references.filter((r) => r.parent === p).map((r) => r.table).join(', ');
    await knex.raw(
      `CREATE TRIGGER ${p}_kept BEFORE DELETE ON ${p} FOR EACH ROW
         EXECUTE FUNCTION reference_refuse_change('its rows are kept as evidence and referenced from ${children}')`,
    );
    await knex.raw(
      `CREATE TRIGGER ${p}_kept_truncate BEFORE TRUNCATE ON ${p} FOR EACH STATEMENT
         EXECUTE FUNCTION reference_refuse_change('its rows are kept as evidence and referenced from ${children}')`,
    );
    await knex.raw(
      `CREATE TRIGGER ${p}_key_fixed BEFORE UPDATE OF id ON ${p} FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
         EXECUTE FUNCTION reference_refuse_change('its id is referenced from ${children} and is never changed')`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const p of parents) {
    for (const t of [`${p}_kept`, `${p}_kept_truncate`, `${p}_key_fixed`]) await knex.raw(`DROP TRIGGER ${t} ON ${p}`);
  }
  for (const r of references) {
    await knex.raw(`DROP TRIGGER ${r.name} ON ${r.table}`);
    await knex.raw(`DROP TRIGGER ${r.name}_fixed ON ${r.table}`);
    await knex.raw(`ALTER TABLE ${r.table} ADD CONSTRAINT ${r.name} FOREIGN KEY (${r.column}) REFERENCES ${r.parent} (${r.key})`);
  }
  await knex.raw('DROP FUNCTION reference_refuse_change()');
  await knex.raw('CREATE INDEX statement_entries_ref ON statement_entries (statement_id, entry_ref)');
  await knex.raw('DROP FUNCTION reference_check_inserted_within()');
  await knex.raw('DROP FUNCTION reference_check_inserted()');
}
