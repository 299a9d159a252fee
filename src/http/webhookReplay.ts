// A sender's event id is recorded once, with the answer given. The same event again returns the
// first answer and acts no second time. The record is claimed before acting, under the table's
// primary key: a second delivery of the same event while the first is still in its transaction
// waits on that row, then finds the first answer (or, if the first rolled back, acts itself), so
// exactly one acts. The answer is written into the claimed row in the same transaction, so no
// other transaction ever sees a claim without its answer.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Conflict } from '../errors';
import { run, statement } from '../db/statements';
import { takePendingAudit } from '../audit/service';
import { insertPendingSql, pendingEventsParam } from '../audit/repo';

export const eventIdLengthMax = 128;

export interface WebhookEventKey {
  sender: { type: string; id: string };
  eventId: string;
}

export type ReplayAnswer = { status: number; body: unknown; replayed: true };

export const requestHashOf = (rawBody: Buffer) => createHash('sha256').update(rawBody).digest('hex');

/** Whether the certificate whose fingerprint is the SQL expression `fingerprint` is registered
 *  to the sender (`type`, `id`, SQL too) and unretired: one index lookup per row (OFFSET 0 keeps
 *  the planner from hashing the whole table instead). A call's registration may have come from
 *  memory (webhookAuth.ts); its claim is where a retirement committed since is found, and
 *  refuses the call. */
export function signedCurrentSql(type: string, id: string, fingerprint: string): string {
  return `EXISTS (SELECT 1 FROM certificates c WHERE c.fingerprint = ${fingerprint} AND c.owner_type = ${type} AND c.owner_id = ${id} AND c.retired_at IS NULL OFFSET 0)`;
}

/** The CTE that claims an event, for a caller that reads what it needs to act in the same
 *  statement (named `claim`; the claim holds when it returns a row). Its four parameters start at
 *  $`at` and take `claimEventValues`; with `onlyIfRowsIn`, the event is claimed only when that CTE
 *  of the same statement returned a row (as recordAnswerCte). */
export function claimEventCte(at: number, onlyIfRowsIn?: string): string {
  return `claim AS (
      INSERT INTO webhook_events (sender_type, sender_id, event_id, request_hash) SELECT $${at}::text, $${at + 1}::text, $${at + 2}::text, $${at + 3}::text
      ${onlyIfRowsIn ? `WHERE ${rowsInSql(onlyIfRowsIn)}` : ''}
      ON CONFLICT (sender_type, sender_id, event_id) DO NOTHING RETURNING 1 AS claimed)`;
}

export const claimEventValues = (key: WebhookEventKey, requestHash: string): string[] => [key.sender.type, key.sender.id, key.eventId, requestHash];

const claimOnly = statement('webhooks.claim', `WITH ${claimEventCte(1)} SELECT claimed FROM claim`);

/** Claims the event for this transaction; when it was received before, its first answer (or 409
 *  when that one came with a different body). */
export async function claimEvent(tx: Knex.Transaction, key: WebhookEventKey, requestHash: string): Promise<ReplayAnswer | undefined> {
  const rows = await run(tx, claimOnly, claimEventValues(key, requestHash));
  return rows.length > 0 ? undefined : firstAnswer(tx, key, requestHash);
}

/** The answer on record for an event this transaction could not claim. */
export async function firstAnswer(tx: Knex.Transaction, key: WebhookEventKey, requestHash: string): Promise<ReplayAnswer> {
  const seen = await tx('webhook_events').where({ sender_type: key.sender.type, sender_id: key.sender.id, event_id: key.eventId }).first();
  if (!seen) throw new Error(`assertion failed: webhook event ${key.eventId} neither claimed nor on record`);
  if (seen.request_hash !== requestHash) {
    throw new Conflict('event_id_reused', `event ${key.eventId} was already received with a different body`);
  }
  return { status: seen.response_status, body: seen.response_body, replayed: true };
}

/** The CTE that stores the answer in a claimed event's row, for a caller that writes it together
 *  with its effect (named `answer`); with `onlyIfRowsIn`, only when that CTE of the same
 *  statement returned a row. Its five parameters start at $`at` and take `recordAnswerValues`. */
export function recordAnswerCte(at: number, onlyIfRowsIn?: string): string {
  return `answer AS (
      UPDATE webhook_events SET response_status = $${at}, response_body = $${at + 1}::jsonb
      WHERE sender_type = $${at + 2} AND sender_id = $${at + 3} AND event_id = $${at + 4}${onlyIfRowsIn ? ` AND ${rowsInSql(onlyIfRowsIn)}` : ''} RETURNING 1 AS answered)`;
}

/** Whether the CTE `name` of the same statement returned a row. */
function rowsInSql(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`assertion failed: CTE name ${name}`);
  return `EXISTS (SELECT 1 FROM ${name})`;
}

export const recordAnswerValues = (key: WebhookEventKey, result: { status: number; body: unknown }): (string | number)[] => [
  result.status,
  JSON.stringify(result.body ?? null),
  key.sender.type,
  key.sender.id,
  key.eventId,
];

const answerOnly = statement('webhooks.answer', `WITH ${recordAnswerCte(1)} SELECT answered FROM answer`);

export async function recordAnswer(tx: Knex.Transaction, key: WebhookEventKey, result: { status: number; body: unknown }): Promise<void> {
  const rows = await run(tx, answerOnly, recordAnswerValues(key, result));
  if (rows.length !== 1) throw new Error(`assertion failed: webhook event ${key.eventId} answered without its claim`);
}

// Several events of one sender at once: claimed in one statement, in the order of their ids so
// that two transactions claiming some of the same events wait for each other instead of
// deadlocking; answered in one statement. Each only while its certificate is current
// (`signedCurrentSql`).
const claimMany = statement(
  'webhooks.claimMany',
  `WITH signed AS (
     SELECT x.event_id, x.request_hash,
            ${signedCurrentSql('$1', '$2', 'x.fingerprint')} AS signed_current
       FROM unnest($3::text[], $4::text[], $5::text[]) AS x(event_id, request_hash, fingerprint)
   ), claimed AS (
     INSERT INTO webhook_events (sender_type, sender_id, event_id, request_hash)
     SELECT $1, $2, event_id, request_hash FROM signed WHERE signed_current
     ORDER BY event_id
     ON CONFLICT (sender_type, sender_id, event_id) DO NOTHING RETURNING event_id
   )
   SELECT event_id, true AS claimed FROM claimed
   UNION ALL
   SELECT event_id, false AS claimed FROM signed WHERE NOT signed_current`,
);

export interface ClaimedEvents {
  /** Claimed for this transaction. */
  claimed: Set<string>;
  /** Not claimed: the certificate they were signed with is no longer current. */
  certificateRetired: Set<string>;
}

/** Claims distinct events of one sender for this transaction, each signed with the certificate
 *  of the given fingerprint. An event in neither set was received before: `firstAnswer` has its
 *  answer. */
export async function claimEvents(tx: Knex.Transaction, sender: { type: string; id: string }, events: { eventId: string; requestHash: string; fingerprint: string }[]): Promise<ClaimedEvents> {
  const rows = await run<{ event_id: string; claimed: boolean }>(tx, claimMany, [
    sender.type,
    sender.id,
    events.map((e) => e.eventId),
    events.map((e) => e.requestHash),
    events.map((e) => e.fingerprint),
  ]);
  const out: ClaimedEvents = { claimed: new Set(), certificateRetired: new Set() };
  for (const r of rows) (r.claimed ? out.claimed : out.certificateRetired).add(r.event_id);
  return out;
}

const answersParam = (answers: { eventId: string; status: number; body: unknown }[]) => JSON.stringify(answers.map((a) => ({ event_id: a.eventId, status: a.status, body: a.body ?? null })));

// The answers, the last rows a group of signed calls writes, and the audit events its
// transaction appended, in one statement: one round trip fewer before the commit of every group.
// Each answered row is found by its key, one index lookup per event (LATERAL ... LIMIT 1 keeps
// the planner from turning the lookups into a join), and updated where it lies. The pool keeps
// one generic plan per statement and connection, often made while the table was nearly empty:
// planned as a join, the update hashed every event the sender ever sent, a cost growing with
// the table until autovacuum's next ANALYZE. The rows are this transaction's own claims, so
// their place cannot change under it.
const answerManyAudited = statement(
  'webhooks.answerManyAudited',
  `WITH answered AS (
     UPDATE webhook_events w SET response_status = a.status, response_body = a.body
     FROM (SELECT x.status, x.body, e.ctid AS tid
             FROM jsonb_to_recordset($3::jsonb) AS x(event_id text, status int, body jsonb)
             CROSS JOIN LATERAL (SELECT ctid FROM webhook_events WHERE sender_type = $1 AND sender_id = $2 AND event_id = x.event_id LIMIT 1) e) a
     WHERE w.ctid = a.tid
     RETURNING w.event_id
   ), audited AS (
     ${insertPendingSql(4)}
     RETURNING 1
   )
   SELECT (SELECT count(*) FROM answered)::int AS answered, (SELECT count(*) FROM audited)::int AS audited`,
);

/** Stores the answers of events this transaction claimed, and writes the audit events the
 *  transaction has appended so far with them. */
export async function recordAnswersAndAudit(tx: Knex.Transaction, sender: { type: string; id: string }, answers: { eventId: string; status: number; body: unknown }[]): Promise<void> {
  if (answers.length === 0) return;
  const events = takePendingAudit(tx);
  const [{ answered, audited }] = await run<{ answered: number; audited: number }>(tx, answerManyAudited, [sender.type, sender.id, answersParam(answers), pendingEventsParam(events)]);
  if (answered !== answers.length) throw new Error(`assertion failed: ${answers.length} webhook events answered with their claims, ${answered} found`);
  if (audited !== events.length) throw new Error(`assertion failed: ${events.length} audit events written, ${audited} found`);
}

export async function onceForEvent(
  tx: Knex.Transaction,
  sender: { type: string; id: string },
  eventId: string,
  rawBody: Buffer,
  act: () => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  const key = { sender, eventId };
  const requestHash = requestHashOf(rawBody);
  const replay = await claimEvent(tx, key, requestHash);
  if (replay) return replay;
  const result = await act();
  await recordAnswer(tx, key, result);
  return { ...result, replayed: false };
}
