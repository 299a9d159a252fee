import type { Knex } from 'knex';

// Reconciliation against bank statements. A statement is stored entry by entry as it streams
// (never held in memory whole); a reconciliation matches those entries against the ledger's
// trust-account movements and records every line, every exception and every decision on one.
// Nothing here changes the ledger: corrections are new journals, referenced from here.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('statements', (t) => {
    t.bigIncrements('id').primary();
    t.text('bank_id').notNullable().references('banks.id');
    // Filled in once the document has been read to its end (the same transaction).
    t.text('message_id');
    t.text('statement_ref');
    t.text('sequence_number');
    t.text('account');
    t.text('currency');
    t.date('statement_date');
    t.bigInteger('opening_fen');
    t.bigInteger('closing_fen');
    t.bigInteger('credit_total_fen');
    t.bigInteger('debit_total_fen');
    t.integer('entry_count');
    // SHA-256 of the statement's content (balances and entries, not its message id or
    // creation time): a bank that mints a new message id per fetch still sends "the same" day.
    t.text('content_sha256');
    t.text('source').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE statements ADD CONSTRAINT statements_source_check CHECK (source IN ('upload','pull','schedule','cli'))`);
  // Not unique: a replayed message is found under the per-bank lock and rolled back, never stored twice.
  await knex.raw('CREATE INDEX statements_bank_message ON statements (bank_id, message_id)');
  await knex.raw('CREATE INDEX statements_bank_date ON statements (bank_id, statement_date)');

  await knex.schema.createTable('statement_entries', (t) => {
    t.bigInteger('statement_id').notNullable().references('statements.id');
    t.integer('line_no').notNullable();
    t.text('entry_ref').notNullable();
    t.text('direction').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('currency').notNullable();
    t.timestamp('booked_at', { useTz: true }).notNullable();
    t.date('value_date').notNullable();
    t.text('end_to_end_id');
    t.text('account');
    t.text('counterparty_name');
    t.text('counterparty_account');
    t.text('counterparty_bank_code');
    t.text('remittance');
    t.boolean('reversal').notNullable().defaultTo(false);
    t.primary(['statement_id', 'line_no']);
  });
  await knex.raw(`ALTER TABLE statement_entries ADD CONSTRAINT statement_entries_direction_check CHECK (direction IN ('credit','debit'))`);
  await knex.raw(`ALTER TABLE statement_entries ADD CONSTRAINT statement_entries_amount_positive CHECK (amount_fen > 0)`);
  await knex.raw('CREATE INDEX statement_entries_ref ON statement_entries (statement_id, entry_ref)');

  await knex.schema.createTable('reconciliations', (t) => {
    t.text('id').primary();
    t.text('bank_id').notNullable().references('banks.id');
    t.bigInteger('statement_id').notNullable().unique().references('statements.id');
    t.date('statement_date').notNullable();
    // A later statement for the same bank and day replaces this one's verdict (never its record).
    t.text('superseded_by');
    t.timestamp('superseded_at', { useTz: true });
    t.text('result').notNullable();
    t.bigInteger('opening_fen').notNullable();
    t.bigInteger('closing_bank_fen').notNullable();
    t.bigInteger('closing_ledger_fen').notNullable();
    t.integer('entry_count').notNullable();
    t.integer('matched_count').notNullable();
    t.bigInteger('matched_credits_fen').notNullable();
    t.bigInteger('matched_debits_fen').notNullable();
    t.integer('recovered_count').notNullable();
    t.integer('exception_count').notNullable();
    t.text('voucher_id');
    t.text('source').notNullable();
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE reconciliations ADD CONSTRAINT reconciliations_result_check CHECK (result IN ('balanced','differences'))`);
  // One current reconciliation per bank and day.
  await knex.raw('CREATE UNIQUE INDEX reconciliations_current ON reconciliations (bank_id, statement_date) WHERE superseded_by IS NULL');

  await knex.schema.createTable('reconciliation_lines', (t) => {
    t.bigIncrements('id').primary();
    t.text('reconciliation_id').notNullable().references('reconciliations.id');
    // The statement line; null for a ledger movement the bank does not show (missing_in_bank).
    t.integer('line_no');
    t.text('entry_ref');
    // Signed as the trust account moves: money in positive, money out negative.
    t.bigInteger('bank_amount_fen');
    t.text('journal_id').references('journals.id');
    t.bigInteger('ledger_amount_fen');
    t.text('result').notNullable();
    t.text('matched_by');
    t.text('detail');
    // True while this line is the one match of its journal: "never two entries to one movement".
    t.boolean('claims').notNullable().defaultTo(false);
  });
  await knex.raw(`ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_result_check CHECK (result IN ('pending','matched','recovered','missing_in_ledger','missing_in_bank','amount_mismatch','duplicate'))`);
  await knex.raw(`ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_matched_by_check CHECK (matched_by IS NULL OR matched_by IN ('bank_reference','end_to_end_id','amount_date_counterparty','recovery'))`);
  await knex.raw(`ALTER TABLE reconciliation_lines ADD CONSTRAINT reconciliation_lines_claims_check CHECK (NOT claims OR journal_id IS NOT NULL)`);
  await knex.raw('CREATE UNIQUE INDEX reconciliation_lines_one_claim ON reconciliation_lines (journal_id) WHERE claims');
  await knex.raw('CREATE INDEX reconciliation_lines_rcn ON reconciliation_lines (reconciliation_id, line_no)');
  await knex.raw('CREATE INDEX reconciliation_lines_journal ON reconciliation_lines (journal_id)');

  await knex.schema.createTable('reconciliation_exceptions', (t) => {
    t.bigIncrements('id').primary();
    t.text('reconciliation_id').notNullable().references('reconciliations.id');
    t.bigInteger('line_id').references('reconciliation_lines.id');
    t.text('kind').notNullable();
    t.text('entry_ref').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('detail').notNullable();
    // Statement-level facts (balances, sequence numbers) as the two sides stated them.
    t.jsonb('data').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('open');
    t.text('decision');
    t.text('note');
    t.text('correction_journal_id').references('journals.id');
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_kind_check CHECK (kind IN ('missing_in_ledger','missing_in_bank','amount_mismatch','duplicate','balance_mismatch','sequence_gap','sequence_repeat','ledger_balance_difference'))`);
  await knex.raw(`ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_status_check CHECK (status IN ('open','resolved'))`);
  await knex.raw(`ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_resolved_check CHECK ((status = 'resolved') = (decision IS NOT NULL AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL))`);
  await knex.raw('CREATE INDEX reconciliation_exceptions_rcn ON reconciliation_exceptions (reconciliation_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['reconciliation_exceptions', 'reconciliation_lines', 'reconciliations', 'statement_entries', 'statements']) {
    await knex.raw(`DROP TABLE IF EXISTS ${t} CASCADE`);
  }
}
