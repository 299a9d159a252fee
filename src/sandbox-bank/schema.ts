// The sandbox bank keeps its state in its own schema, created at start. It is a separate
// system from the service (a bank), so it has no place in the service's migrations; every
// statement is IF NOT EXISTS so that a restart, or two simulators starting at once, is harmless.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/** One advisory lock key for schema creation: concurrent CREATE ... IF NOT EXISTS can still
 *  collide on the catalog's unique index, so starts are serialized. Arbitrary, fixed. */
const schemaLockKey = 0x5a4d_b0b0;

function ddl(s: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS "${s}"`,
    // Booking references: a sequence rather than max()+1 so concurrent bookings never collide.
    `CREATE SEQUENCE IF NOT EXISTS "${s}".booking_seq`,
    `CREATE TABLE IF NOT EXISTS "${s}".accounts (
      number text PRIMARY KEY,
      name text NOT NULL,
      bank_code text NOT NULL,
      kind text NOT NULL DEFAULT 'customer' CHECK (kind IN ('customer', 'trust')),
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
      -- No account at this bank may be overdrawn: the database refuses it even if code forgets.
      balance_fen bigint NOT NULL CHECK (balance_fen >= 0),
      initial_balance_fen bigint NOT NULL CHECK (initial_balance_fen >= 0),
      -- Set for a trust account the simulator created from configuration: a later
      -- POST /sandbox/accounts for the same number may still adopt it before any booking.
      auto_created boolean NOT NULL DEFAULT false,
      opened_at timestamptz NOT NULL DEFAULT now(),
      closed_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS accounts_bank_code ON "${s}".accounts (bank_code)`,
    `CREATE TABLE IF NOT EXISTS "${s}".entries (
      seq bigserial PRIMARY KEY,
      ref text NOT NULL UNIQUE,
      transfer_ref text NOT NULL,
      account_number text NOT NULL REFERENCES "${s}".accounts (number),
      direction text NOT NULL CHECK (direction IN ('credit', 'debit')),
      amount_fen bigint NOT NULL CHECK (amount_fen > 0),
      -- Written under the account's row lock, so per account it follows seq order: the
      -- statement's opening balance is the last of these before the day starts.
      balance_after_fen bigint NOT NULL CHECK (balance_after_fen >= 0),
      counterparty_number text,
      counterparty_name text,
      counterparty_bank_code text,
      -- The number the payer addressed: a virtual sub-account for deposits into the trust account.
      addressed_account text,
      end_to_end_id text,
      remittance text,
      origin text NOT NULL CONSTRAINT entries_origin_kinds CHECK (origin IN ('customer', 'payment', 'bank')),
      booked_at timestamptz NOT NULL,
      value_date date NOT NULL
    )`,
    // Columns added after the first schemas were made: ADD COLUMN IF NOT EXISTS brings an older
    // schema up to date at start, and a constant default costs no table rewrite.
    // kind: a transfer, a bank's reversal of one (冲正), a payment returned by the payee's bank
    // (退汇) or interest (结息); what the notices and statements report the entry as.
    `ALTER TABLE "${s}".entries ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'transfer'
      CONSTRAINT entries_kind CHECK (kind IN ('transfer', 'reversal', 'return', 'interest'))`,
    // On a reversal: the ref of the entry on the same account that it undoes.
    `ALTER TABLE "${s}".entries ADD COLUMN IF NOT EXISTS reverses_ref text`,
    `ALTER TABLE "${s}".entries ADD COLUMN IF NOT EXISTS return_reason text`,
    // The bank reports this booking by its date only (BookgDt/Dt, cn-h2h without tranTime).
    `ALTER TABLE "${s}".entries ADD COLUMN IF NOT EXISTS booking_date_only boolean NOT NULL DEFAULT false`,
    // A schema made before the bank booked on its own account allowed two origins only.
    `DO $$ BEGIN
       IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '"${s}".entries'::regclass AND conname = 'entries_origin_check') THEN
         ALTER TABLE "${s}".entries DROP CONSTRAINT entries_origin_check;
         ALTER TABLE "${s}".entries ADD CONSTRAINT entries_origin_kinds CHECK (origin IN ('customer', 'payment', 'bank'));
       END IF;
     END $$`,
    `CREATE INDEX IF NOT EXISTS entries_account_booked ON "${s}".entries (account_number, booked_at, seq)`,
    `CREATE INDEX IF NOT EXISTS entries_account_seq ON "${s}".entries (account_number, seq)`,
    `CREATE INDEX IF NOT EXISTS entries_transfer ON "${s}".entries (transfer_ref)`,
    `CREATE TABLE IF NOT EXISTS "${s}".customer_transfers (
      ref text PRIMARY KEY,
      idempotency_key text UNIQUE,
      from_account text NOT NULL,
      to_account text NOT NULL,
      credited_account text NOT NULL,
      amount_fen bigint NOT NULL CHECK (amount_fen > 0),
      remittance text,
      end_to_end_id text,
      debit_ref text NOT NULL,
      credit_ref text NOT NULL,
      notified boolean NOT NULL,
      booked_at timestamptz NOT NULL
    )`,
    `ALTER TABLE "${s}".customer_transfers ADD COLUMN IF NOT EXISTS booking_date_only boolean NOT NULL DEFAULT false`,
    `CREATE TABLE IF NOT EXISTS "${s}".payment_messages (
      message_id text PRIMARY KEY,
      protocol text NOT NULL CHECK (protocol IN ('iso20022', 'cn-h2h')),
      debtor_account text,
      group_status text NOT NULL CHECK (group_status IN ('ACTC', 'RJCT')),
      group_reason_code text,
      group_reason_text text,
      transaction_count integer NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS "${s}".payment_instructions (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL REFERENCES "${s}".payment_messages (message_id),
      end_to_end_id text NOT NULL,
      debtor_account text NOT NULL,
      amount_fen bigint NOT NULL CHECK (amount_fen > 0),
      currency text NOT NULL,
      creditor_number text NOT NULL,
      creditor_name text NOT NULL,
      creditor_bank_code text,
      remittance text,
      status text NOT NULL CHECK (status IN ('pending', 'settled', 'rejected')),
      reason_code text,
      reason_text text,
      -- Fault decisions are taken when the instruction arrives and stored, so that a restart
      -- neither forgets nor re-rolls them.
      fault_reject boolean NOT NULL DEFAULT false,
      status_lag_ms integer NOT NULL DEFAULT 0,
      settle_after timestamptz NOT NULL,
      finished_at timestamptz,
      transfer_ref text,
      booked_at timestamptz,
      external_payee boolean,
      CHECK ((status = 'pending') = (finished_at IS NULL)),
      CHECK (status <> 'rejected' OR reason_code IS NOT NULL)
    )`,
    // lateArrivalRate: until then the instruction is in the bank's queue, not in its books, and
    // a status inquiry finds no record of it. Null for every other instruction.
    `ALTER TABLE "${s}".payment_instructions ADD COLUMN IF NOT EXISTS visible_after timestamptz`,
    `CREATE INDEX IF NOT EXISTS payment_instructions_message ON "${s}".payment_instructions (message_id, id)`,
    `CREATE INDEX IF NOT EXISTS payment_instructions_due ON "${s}".payment_instructions (settle_after, id) WHERE status = 'pending'`,
    // A real bank pays an end-to-end id once: the first instruction to claim it here wins and
    // every later one is rejected DUPL, whatever message it came in.
    `CREATE TABLE IF NOT EXISTS "${s}".end_to_end_ids (
      debtor_account text NOT NULL,
      end_to_end_id text NOT NULL,
      instruction_id bigint NOT NULL,
      PRIMARY KEY (debtor_account, end_to_end_id)
    )`,
    // One reversal per transfer, one return per settled instruction: the keys hold even if two
    // requests race past the row locks that normally make the second wait and find the first.
    `CREATE TABLE IF NOT EXISTS "${s}".reversals (
      original_transfer_ref text PRIMARY KEY,
      reversal_transfer_ref text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS "${s}".payment_returns (
      instruction_id bigint PRIMARY KEY REFERENCES "${s}".payment_instructions (id),
      debtor_account text NOT NULL,
      end_to_end_id text NOT NULL,
      reason_code text NOT NULL,
      return_transfer_ref text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    // Interest credited: by hand (an idempotency key, when given, answers a repeat) or on a
    // quarter's 结息 day (the quarter is the key, so a restart never pays a quarter twice).
    `CREATE TABLE IF NOT EXISTS "${s}".interest_postings (
      id bigserial PRIMARY KEY,
      account_number text NOT NULL,
      quarter text UNIQUE,
      idempotency_key text UNIQUE,
      amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
      -- Null when the quarter's interest came to nothing and nothing was booked.
      transfer_ref text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (quarter IS NULL OR idempotency_key IS NULL),
      CHECK (transfer_ref IS NOT NULL OR amount_fen = 0)
    )`,
    `CREATE TABLE IF NOT EXISTS "${s}".notification_outbox (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL,
      -- 2 for the second copy of a notification sent twice by the duplicateNoticeRate fault.
      copy smallint NOT NULL DEFAULT 1,
      entry_ref text NOT NULL,
      protocol text NOT NULL,
      content_type text NOT NULL,
      body text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'delivered', 'parked')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      last_http_status integer,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      UNIQUE (message_id, copy)
    )`,
    `CREATE INDEX IF NOT EXISTS notification_outbox_due ON "${s}".notification_outbox (next_attempt_at, id) WHERE status = 'pending'`,
    // A tag made once per schema and put into every booking reference: two sandboxes (or one
    // whose schema was wiped) never hand the service the same reference or message id twice.
    `CREATE TABLE IF NOT EXISTS "${s}".instance (
      id smallint PRIMARY KEY CHECK (id = 1),
      tag text NOT NULL CHECK (tag ~ '^[A-Z0-9]{4}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS "${s}".fault_settings (
      id smallint PRIMARY KEY CHECK (id = 1),
      settings jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

function randomTag(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(4), (b) => alphabet[b % alphabet.length]).join('');
}

/** Creates what is missing and answers the schema's instance tag. */
export async function ensureSandboxSchema(db: Knex, schema: string): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.raw('SELECT pg_advisory_xact_lock(?)', [schemaLockKey]);
    for (const statement of ddl(schema)) await tx.raw(statement);
    await tx.raw(`INSERT INTO "${schema}".instance (id, tag) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, [randomTag()]);
    const { rows } = await tx.raw(`SELECT tag FROM "${schema}".instance WHERE id = 1`);
    return rows[0].tag as string;
  });
}
