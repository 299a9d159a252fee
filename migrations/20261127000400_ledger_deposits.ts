import type { Knex } from 'knex';

// The cash side: a double-entry ledger whose balance the database itself guarantees, virtual
// sub-accounts, credits as the bank sent them, deposits (one per credit), refunds as scheduled
// (executed by the refunds worker), withdrawals. Amounts are bigint fen.
export async function up(knex: Knex): Promise<void> {
  // ---- ledger ------------------------------------------------------------------------------
  await knex.schema.createTable('ledger_accounts', (t) => {
    t.text('code').primary();
    t.text('type').notNullable();
    t.text('bank_id').references('banks.id');
    t.text('section_id').references('sections.id');
    t.text('deposit_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_type_check CHECK (type IN ('asset','liability','expense'))`);
  await knex.schema.createTable('journals', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('ref').notNullable();
    t.text('memo').notNullable();
    t.text('reverses_journal_id').references('journals.id').unique();
    t.timestamp('posted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The same movement (a bank entry, a refund attempt) can never be posted twice.
    t.unique(['kind', 'ref']);
  });
  await knex.raw(`ALTER TABLE journals ADD CONSTRAINT journals_kind_check CHECK (kind ~ '^[a-z_]{1,40}$')`);
  await knex.schema.createTable('postings', (t) => {
    t.bigIncrements('id').primary();
    t.text('journal_id').notNullable().references('journals.id');
    t.text('account').notNullable().references('ledger_accounts.code');
    // Signed: debit positive, credit negative, so a journal balances when its postings sum to 0.
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('posted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE postings ADD CONSTRAINT postings_amount_nonzero CHECK (amount_fen <> 0)`);
  await knex.raw('CREATE INDEX postings_account_time ON postings (account, posted_at)');
  await knex.raw('CREATE INDEX postings_journal ON postings (journal_id)');

  // Checked at commit, once all of a journal's postings are in: a transaction that leaves any
  // journal unbalanced (or empty) cannot commit, whatever the application code did.
  await knex.raw(`
    CREATE FUNCTION ledger_check_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      jid text := to_jsonb(NEW) ->> (CASE WHEN TG_TABLE_NAME = 'journals' THEN 'id' ELSE 'journal_id' END);
      total numeric;
      n bigint;
    BEGIN
      SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n FROM postings WHERE journal_id = jid;
      IF n < 2 THEN
        RAISE EXCEPTION 'journal % has % postings; at least two are required', jid, n USING ERRCODE = '23514';
      END IF;
      IF total <> 0 THEN
        RAISE EXCEPTION 'journal % is unbalanced: postings sum to % fen', jid, total USING ERRCODE = '23514';
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal_balanced()`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER journals_balanced AFTER INSERT ON journals DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal_balanced()`);
  // Ledger rows are never changed: a correction is a reversing journal.
  await knex.raw(`
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the ledger is append-only: % on % refused; post a reversing journal instead', TG_OP, TG_TABLE_NAME USING ERRCODE = '23514';
    END $$`);
  for (const table of ['journals', 'postings']) {
    await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  // ---- virtual sub-accounts ----------------------------------------------------------------
  // One sequence for all banks: serials never repeat, and prefixes of different lengths give
  // numbers of different lengths, so no two banks can hand out the same account number.
  await knex.raw('CREATE SEQUENCE virtual_account_serial_seq MINVALUE 1 MAXVALUE 9999999999 NO CYCLE');
  await knex.schema.createTable('deposit_accounts', (t) => {
    t.text('virtual_account').primary();
    t.text('bank_id').notNullable().references('banks.id');
    t.text('section_id').notNullable().references('sections.id');
    t.text('bidder_id').notNullable().references('bidders.id');
    t.bigInteger('serial').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['section_id', 'bidder_id']);
  });

  // ---- credits and deposits ----------------------------------------------------------------
  await knex.schema.createTable('credits', (t) => {
    t.text('id').primary();
    t.text('bank_id').notNullable().references('banks.id');
    t.text('entry_ref').notNullable();
    t.text('message_id').notNullable();
    t.text('virtual_account').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('currency').notNullable();
    t.timestamp('booked_at', { useTz: true }).notNullable();
    t.date('value_date').notNullable();
    t.text('debtor_name').notNullable();
    t.text('debtor_account').notNullable();
    t.text('debtor_bank_code');
    t.text('remittance');
    t.text('end_to_end_id');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // A bank entry is recorded once, however often and in whatever messages it is notified.
    t.unique(['bank_id', 'entry_ref']);
  });
  await knex.raw(`ALTER TABLE credits ADD CONSTRAINT credits_amount_positive CHECK (amount_fen > 0)`);
  await knex.schema.createTable('deposits', (t) => {
    t.text('id').primary();
    t.text('credit_id').notNullable().unique().references('credits.id');
    t.text('bank_id').notNullable().references('banks.id');
    t.text('section_id').references('sections.id');
    t.text('bidder_id').references('bidders.id');
    t.text('virtual_account').notNullable();
    t.bigInteger('amount_fen').notNullable();
    // The part above the required amount (R4), returned by an `excess` refund.
    t.bigInteger('excess_fen').notNullable().defaultTo(0);
    t.text('status').notNullable();
    t.jsonb('checks').notNullable().defaultTo('[]');
    t.specificType('failed_rules', 'text[]').notNullable().defaultTo('{}');
    t.text('forfeit_reason');
    t.text('forfeited_by');
    t.timestamp('forfeited_at', { useTz: true });
    t.timestamp('valid_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_status_check CHECK (status IN ('received','valid','invalid','suspense','forfeited','refunded'))`);
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_amounts_check CHECK (amount_fen > 0 AND excess_fen >= 0 AND excess_fen <= amount_fen)`);
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_matched_check CHECK ((status = 'suspense') = (section_id IS NULL) AND (section_id IS NULL) = (bidder_id IS NULL))`);
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_invalid_rules_check CHECK (status <> 'invalid' OR cardinality(failed_rules) > 0)`);
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_forfeit_check CHECK (status <> 'forfeited' OR (forfeit_reason IS NOT NULL AND forfeited_by IS NOT NULL AND forfeited_at IS NOT NULL))`);
  await knex.raw(`ALTER TABLE deposits ADD CONSTRAINT deposits_forfeit_reason_check CHECK (forfeit_reason IS NULL OR forfeit_reason IN ('withdrawal_after_deadline','refused_to_sign','conditions_at_signing','no_performance_security','false_documents'))`);
  await knex.raw('CREATE INDEX deposits_section_bidder ON deposits (section_id, bidder_id)');
  await knex.raw('CREATE INDEX deposits_bidder ON deposits (bidder_id)');
  await knex.raw('CREATE INDEX deposits_status ON deposits (status)');

  // ---- refunds (scheduled here, executed by the refunds worker) ------------------------------
  await knex.schema.createTable('refunds', (t) => {
    t.text('id').primary();
    t.text('deposit_id').notNullable().references('deposits.id');
    t.text('section_id').references('sections.id');
    t.text('bidder_id').references('bidders.id');
    t.text('bank_id').notNullable().references('banks.id');
    t.text('reason').notNullable();
    t.bigInteger('principal_fen').notNullable();
    t.text('status').notNullable().defaultTo('scheduled');
    t.date('due_by').notNullable();
    // R17: only ever where the money came from.
    t.text('creditor_account_number').notNullable();
    t.text('creditor_account_name').notNullable();
    t.text('creditor_bank_code');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['deposit_id', 'reason']);
  });
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check CHECK (reason IN ('invalid','excess','withdrawal','contract','award_non_winner','termination'))`);
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('scheduled','submitted','settled','rejected','manual'))`);
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_principal_positive CHECK (principal_fen > 0)`);
  await knex.raw('CREATE INDEX refunds_due ON refunds (due_by) WHERE status = \'scheduled\'');
  await knex.raw('CREATE INDEX refunds_bidder ON refunds (bidder_id)');

  // ---- withdrawals --------------------------------------------------------------------------
  await knex.schema.createTable('withdrawals', (t) => {
    t.text('section_id').notNullable().references('sections.id');
    t.text('bidder_id').notNullable().references('bidders.id');
    t.timestamp('withdrawn_at', { useTz: true }).notNullable();
    t.boolean('after_deadline').notNullable();
    t.text('recorded_by').notNullable();
    t.primary(['section_id', 'bidder_id']);
  });

  // The award (another capability) records the winner; forfeiture for the winner's reasons
  // (R12) reads it. Added only if the award's migration has not already done so.
  await knex.raw('ALTER TABLE sections ADD COLUMN IF NOT EXISTS winner_bidder_id text');
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['withdrawals', 'refunds', 'deposits', 'credits', 'deposit_accounts', 'postings', 'journals', 'ledger_accounts']) {
    await knex.raw(`DROP TABLE IF EXISTS ${t} CASCADE`);
  }
  await knex.raw('DROP SEQUENCE IF EXISTS virtual_account_serial_seq');
  await knex.raw('DROP FUNCTION IF EXISTS ledger_check_journal_balanced()');
  await knex.raw('DROP FUNCTION IF EXISTS ledger_refuse_change()');
}
