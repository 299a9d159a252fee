import type { Knex } from 'knex';

// One payment message to the bank carries many refunds. The message is what is sent, timed out
// and asked about, so its sending state, its unknown outcome and its polls are kept once per
// message; each refund keeps its own attempt row (its end-to-end id, amounts and reservation)
// pointing at the message it went in. A message carries an end-to-end id at most once.
// Messages sent before this change carried one attempt each and become one message each.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE refund_messages (
      id text PRIMARY KEY,
      bank_id text NOT NULL REFERENCES banks (id),
      status text NOT NULL CONSTRAINT refund_messages_status_check CHECK (status IN ('sending','sent','sent_unknown','finished')),
      transfers integer NOT NULL CONSTRAINT refund_messages_transfers_check CHECK (transfers > 0),
      bank_status text,
      last_error text,
      polls integer NOT NULL DEFAULT 0,
      sent_at timestamptz,
      unknown_since timestamptz,
      next_poll_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`CREATE INDEX refund_messages_in_flight_poll ON refund_messages (next_poll_at) WHERE status IN ('sending','sent','sent_unknown')`);
  await knex.raw(`
    INSERT INTO refund_messages (id, bank_id, status, transfers, bank_status, last_error, polls, sent_at, unknown_since, next_poll_at, finished_at, created_at, updated_at)
    SELECT a.message_id, r.bank_id,
           CASE WHEN a.status IN ('sending','sent','sent_unknown') THEN a.status ELSE 'finished' END,
           1, a.bank_status, a.last_error, a.polls, a.sent_at, a.unknown_since, a.next_poll_at, a.finished_at, a.created_at, a.updated_at
      FROM refund_attempts a JOIN refunds r ON r.id = a.refund_id`);
  await knex.raw('ALTER TABLE refund_attempts DROP CONSTRAINT refund_attempts_message_id_unique');
  await knex.raw('ALTER TABLE refund_attempts ADD CONSTRAINT refund_attempts_message_fk FOREIGN KEY (message_id) REFERENCES refund_messages (id)');
  await knex.raw('CREATE UNIQUE INDEX refund_attempts_message_end_to_end ON refund_attempts (message_id, end_to_end_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refund_attempts_message_end_to_end');
  await knex.raw('ALTER TABLE refund_attempts DROP CONSTRAINT refund_attempts_message_fk');
  await knex.raw('ALTER TABLE refund_attempts ADD CONSTRAINT refund_attempts_message_id_unique UNIQUE (message_id)');
  await knex.raw('DROP TABLE refund_messages');
}
