// Queries on guarantees, applications and issuer messages; each takes the unit of work.
import type { Knex } from 'knex';
import { toJsonSafe } from '../audit/canonical';
import { insertPendingSql, pendingEventsParam, type ChainedEventInput } from '../audit/repo';
import type { Tx } from '../db/knex';
import { jsonParam, run, statement } from '../db/statements';
import { claimEventCte, recordAnswerCte, signedCurrentSql } from '../http/webhookReplay';
import type { RuleCheck } from '../domain/rules';
import type { BidderRow, IssuerRow, SectionRow } from '../registry/repo';
import type { GuaranteeKind, GuaranteeStatus } from './rules';

export interface GuaranteeRow {
  id: string;
  issuer_id: string;
  number: string;
  kind: GuaranteeKind;
  status: GuaranteeStatus;
  application_id: string | null;
  section_id: string;
  bidder_id: string;
  applicant_uscc: string;
  applicant_name: string;
  beneficiary_uscc: string;
  beneficiary_name: string;
  project_code: string;
  section_code: string;
  amount_fen: bigint;
  currency: 'CNY';
  valid_from: string;
  valid_to: string;
  issuing_bank_code: string | null;
  issued_at: Date;
  document_sha256: string;
  checks: RuleCheck[];
  event_id: string;
  certificate_fingerprint: string;
  claim_reason: string | null;
  claim_amount_fen: bigint | null;
  claimed_by: string | null;
  claimed_at: Date | null;
  release_reason: string | null;
  released_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type ApplicationStatus = 'submitted' | 'sent' | 'issued' | 'declined' | 'refused';
export interface ApplicationRow {
  id: string;
  section_id: string;
  bidder_id: string;
  issuer_id: string;
  kind: GuaranteeKind;
  status: ApplicationStatus;
  guarantee_id: string | null;
  decline_reason: string | null;
  requested_by_type: string;
  requested_by_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface IssuerMessageRow {
  id: string;
  issuer_id: string;
  kind: 'application' | 'claim' | 'release' | 'extension_request';
  subject_id: string;
  url: string;
  body: string;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const findGuarantee = (tx: Tx, id: string) => tx<GuaranteeRow>('guarantees').where({ id }).first();
export const findGuaranteeForUpdate = (tx: Tx, id: string) => tx<GuaranteeRow>('guarantees').where({ id }).forUpdate().first();
export const findGuaranteeByNumber = (tx: Tx, issuerId: string, number: string) =>
  tx<GuaranteeRow>('guarantees').where({ issuer_id: issuerId, number }).first();
export const findGuaranteeByNumberForUpdate = (tx: Tx, issuerId: string, number: string) =>
  tx<GuaranteeRow>('guarantees').where({ issuer_id: issuerId, number }).forUpdate().first();
/** Statuses in which a guarantee no longer stands for its bidder: outside the one-live index. */
export const notLiveStatuses: readonly GuaranteeStatus[] = ['rejected', 'cancelled', 'expired'];

export const findLiveGuarantee = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<GuaranteeRow>('guarantees').where({ section_id: sectionId, bidder_id: bidderId }).whereNotIn('status', notLiveStatuses).first();
export const guaranteesOfSectionForUpdate = (tx: Tx, sectionId: string) =>
  tx<GuaranteeRow>('guarantees').where({ section_id: sectionId }).orderBy('id').forUpdate();

export type NewGuarantee = Omit<GuaranteeRow, 'checks' | 'claim_reason' | 'claim_amount_fen' | 'claimed_by' | 'claimed_at' | 'release_reason' | 'released_at' | 'created_at' | 'updated_at'> & { checks: RuleCheck[] };

/** False when the number or the one-live-guarantee index already holds a row. No conflict
 *  target, since either may: a unique violation would abort the transaction instead. */
export async function insertGuarantee(tx: Tx, row: NewGuarantee): Promise<boolean> {
  const inserted = await tx('guarantees').insert({ ...row, checks: JSON.stringify(row.checks) }).onConflict().ignore().returning('id');
  return inserted.length > 0;
}

/** Everything an issuance is judged on, read in the statement that claims its event id. */
export interface IssuanceContext {
  /** False when the event was received before, or its certificate is no longer current:
   *  nothing else here is to be used. */
  claimed: boolean;
  /** The certificate the call was signed with is registered to its issuer and unretired. */
  signedCurrent: boolean;
  /** The transaction's time: what the database stamps the guarantee's created_at with. */
  now: Date;
  issuer: Pick<IssuerRow, 'id' | 'kind' | 'bank_code'> | undefined;
  section: (Pick<SectionRow, 'id' | 'project_code' | 'section_code' | 'tenderee_id' | 'deposit_amount_fen' | 'bid_deadline' | 'bid_validity_days' | 'accepted_security' | 'guarantee_bank_match' | 'credit_reductions'> & { tenderee_uscc: string }) | undefined;
  bidder: Pick<BidderRow, 'id' | 'basic_bank_code'> | undefined;
  numberTaken: boolean;
  /** The guarantee already standing for this bidder on this section, if any. */
  live: { id: string; issuer_id: string } | undefined;
}

/** What an issuance is judged on, read beside its claim: the SQL expressions of its issuer id,
 *  number, project and section codes and applicant USCC go in `v`. */
function issuanceContextSql(v: { issuerId: string; number: string; projectCode: string; sectionCode: string; applicantUscc: string }): { columns: string; joins: string } {
  return {
    columns: `now() AS now,
      i.id AS issuer_id, i.kind AS issuer_kind, i.bank_code AS issuer_bank_code,
      s.id AS section_id, s.project_code, s.section_code, s.tenderee_id, s.deposit_amount_fen, s.bid_deadline,
      s.bid_validity_days, s.accepted_security, s.guarantee_bank_match, s.credit_reductions, t.uscc AS tenderee_uscc,
      b.id AS bidder_id, b.basic_bank_code,
      EXISTS (SELECT 1 FROM guarantees g WHERE g.issuer_id = ${v.issuerId} AND g.number = ${v.number}) AS number_taken,
      live.id AS live_id, live.issuer_id AS live_issuer_id`,
    joins: `LEFT JOIN issuers i ON i.id = ${v.issuerId}
    LEFT JOIN sections s ON s.project_code = ${v.projectCode} AND s.section_code = ${v.sectionCode}
    LEFT JOIN tenderees t ON t.id = s.tenderee_id
    LEFT JOIN LATERAL (SELECT id, basic_bank_code FROM bidders WHERE uscc = ${v.applicantUscc} LIMIT 1) b ON true
    LEFT JOIN LATERAL (
      SELECT g.id, g.issuer_id FROM guarantees g
      WHERE g.section_id = s.id AND g.bidder_id = b.id AND g.status NOT IN (${notLiveStatuses.map((st) => `'${st}'`).join(', ')}) LIMIT 1
    ) live ON true`,
  };
}

const oneContext = issuanceContextSql({ issuerId: '$5', number: '$6', projectCode: '$7', sectionCode: '$8', applicantUscc: '$9' });
const claimIssuanceStatement = statement(
  'guarantees.claimIssuance',
  `WITH signed AS (SELECT 1 WHERE ${signedCurrentSql('$1::text', '$2::text', '$10::text')}), ${claimEventCte(1, 'signed')}
    SELECT EXISTS (SELECT 1 FROM claim) AS claimed, EXISTS (SELECT 1 FROM signed) AS signed_current, ${oneContext.columns}
    FROM (SELECT 1) AS one
    ${oneContext.joins}`,
);

function contextOf(r: Record<string, any>): IssuanceContext {
  return {
    claimed: r.claimed,
    signedCurrent: r.signed_current,
    now: r.now,
    issuer: r.issuer_id === null ? undefined : { id: r.issuer_id, kind: r.issuer_kind, bank_code: r.issuer_bank_code },
    section:
      r.section_id === null
        ? undefined
        : {
            id: r.section_id,
            project_code: r.project_code,
            section_code: r.section_code,
            tenderee_id: r.tenderee_id,
            deposit_amount_fen: r.deposit_amount_fen,
            bid_deadline: r.bid_deadline,
            bid_validity_days: r.bid_validity_days,
            accepted_security: r.accepted_security,
            guarantee_bank_match: r.guarantee_bank_match,
            credit_reductions: r.credit_reductions,
            tenderee_uscc: r.tenderee_uscc,
          },
    bidder: r.bidder_id === null ? undefined : { id: r.bidder_id, basic_bank_code: r.basic_bank_code },
    numberTaken: r.number_taken,
    live: r.live_id === null ? undefined : { id: r.live_id, issuer_id: r.live_issuer_id },
  };
}

/** Claims the issuance's event id (`claimValues`: webhookReplay.claimEventValues) and
 *  reads its issuer, section with its tenderee, applicant, whether the number is taken and the
 *  live guarantee of the pair, in one statement. The reads share the statement's snapshot; the
 *  guarantee's unique indexes still decide any race at insert (recordGuarantee). */
export async function claimIssuance(
  tx: Knex.Transaction,
  claimValues: readonly string[],
  q: { issuerId: string; number: string; projectCode: string; sectionCode: string; applicantUscc: string; signedWith: string },
): Promise<IssuanceContext> {
  const rows = await run<Record<string, any>>(tx, claimIssuanceStatement, [...claimValues, q.issuerId, q.number, q.projectCode, q.sectionCode, q.applicantUscc, q.signedWith]);
  return contextOf(rows[0]);
}

/** One issuance of a group to claim and read (`claimIssuances`). */
export interface IssuanceClaim {
  claimValues: readonly string[];
  issuerId: string;
  number: string;
  projectCode: string;
  sectionCode: string;
  applicantUscc: string;
  /** The fingerprint of the certificate the issuance was signed with. */
  signedWith: string;
}

const manyContexts = issuanceContextSql({ issuerId: 'x.issuer_id', number: 'x.number', projectCode: 'x.project_code', sectionCode: 'x.section_code', applicantUscc: 'x.applicant_uscc' });
const claimIssuancesStatement = statement(
  'guarantees.claimIssuances',
  `WITH x AS (
      SELECT x.*, ${signedCurrentSql('x.sender_type', 'x.sender_id', 'x.signed_with')} AS signed_current
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
          AS x(sender_type, sender_id, event_id, request_hash, issuer_id, number, project_code, section_code, applicant_uscc, signed_with, k)
    ), claim AS (
      INSERT INTO webhook_events (sender_type, sender_id, event_id, request_hash)
      SELECT sender_type, sender_id, event_id, request_hash FROM x WHERE signed_current ORDER BY sender_type, sender_id, event_id
      ON CONFLICT (sender_type, sender_id, event_id) DO NOTHING RETURNING sender_type, sender_id, event_id
    )
    SELECT x.k, c.event_id IS NOT NULL AS claimed, x.signed_current, ctx.*
    FROM x
    LEFT JOIN claim c ON c.sender_type = x.sender_type AND c.sender_id = x.sender_id AND c.event_id = x.event_id
    -- Each issuance's context read as claimIssuance reads one, by index lookups (OFFSET 0 keeps
    -- the planner from joining the group to whole tables, which a plan made on nearly empty
    -- tables would do for as long as the pool's connection keeps it).
    CROSS JOIN LATERAL (SELECT ${manyContexts.columns} FROM (SELECT 1) AS one ${manyContexts.joins} OFFSET 0) ctx
    ORDER BY x.k`,
);

/** claimIssuance for the issuances of a group (distinct event ids), in one statement: their
 *  contexts in the order given, all read in one snapshot taken before any of them is recorded,
 *  so a guarantee recorded earlier in the group is not in a later one's context. Events are
 *  claimed in key order, so that two groups claiming some of the same wait instead of
 *  deadlocking. */
export async function claimIssuances(tx: Knex.Transaction, claims: readonly IssuanceClaim[]): Promise<IssuanceContext[]> {
  const column = (f: (c: IssuanceClaim) => string) => claims.map(f);
  const rows = await run<Record<string, any>>(tx, claimIssuancesStatement, [
    column((c) => c.claimValues[0]),
    column((c) => c.claimValues[1]),
    column((c) => c.claimValues[2]),
    column((c) => c.claimValues[3]),
    column((c) => c.issuerId),
    column((c) => c.number),
    column((c) => c.projectCode),
    column((c) => c.sectionCode),
    column((c) => c.applicantUscc),
    column((c) => c.signedWith),
  ]);
  if (rows.length !== claims.length) throw new Error(`assertion failed: ${claims.length} issuances claimed, ${rows.length} read`);
  return rows.map(contextOf);
}

const newGuaranteeColumns = [
  'id', 'issuer_id', 'number', 'kind', 'status', 'application_id', 'section_id', 'bidder_id', 'applicant_uscc', 'applicant_name',
  'beneficiary_uscc', 'beneficiary_name', 'project_code', 'section_code', 'amount_fen', 'currency', 'valid_from', 'valid_to',
  'issuing_bank_code', 'issued_at', 'document_sha256', 'checks', 'event_id', 'certificate_fingerprint',
] as const satisfies readonly (keyof NewGuarantee)[];

const insertGuaranteeStatement = statement(
  'guarantees.insertWithAnswer',
  `WITH inserted AS (
      INSERT INTO guarantees (${newGuaranteeColumns.join(', ')}) VALUES (${newGuaranteeColumns.map((_, k) => `$${k + 1}`).join(', ')})
      ON CONFLICT DO NOTHING RETURNING id
    ), ${recordAnswerCte(newGuaranteeColumns.length + 1, 'inserted')}
    SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM answer) AS answered`,
);

/** insertGuarantee, and in the same statement the webhook's answer (`answerValues`:
 *  webhookReplay.recordAnswerValues), stored only if the guarantee went in: the answer is written
 *  with the effect it describes. False when the guarantee was kept out. */
export async function insertGuaranteeWith(tx: Knex.Transaction, row: NewGuarantee, answerValues: readonly (string | number)[]): Promise<boolean> {
  const values = newGuaranteeColumns.map((c) => (c === 'checks' ? JSON.stringify(row.checks) : row[c]));
  const rows = await run<{ inserted: bigint; answered: bigint }>(tx, insertGuaranteeStatement, [...values, ...answerValues]);
  const inserted = Number(rows[0].inserted);
  if (inserted !== Number(rows[0].answered)) throw new Error(`assertion failed: guarantee ${row.id} written without its answer, or the reverse`);
  return inserted === 1;
}

/** The type of each new guarantee's column, as jsonb_to_recordset reads it. */
const newGuaranteeColumnTypes: Record<(typeof newGuaranteeColumns)[number], string> = {
  id: 'text', issuer_id: 'text', number: 'text', kind: 'text', status: 'text', application_id: 'text', section_id: 'text', bidder_id: 'text',
  applicant_uscc: 'text', applicant_name: 'text', beneficiary_uscc: 'text', beneficiary_name: 'text', project_code: 'text', section_code: 'text',
  amount_fen: 'bigint', currency: 'text', valid_from: 'date', valid_to: 'date', issuing_bank_code: 'text', issued_at: 'timestamptz',
  document_sha256: 'text', checks: 'jsonb', event_id: 'text', certificate_fingerprint: 'text',
};

const insertGuaranteesStatement = statement(
  'guarantees.insertManyWithAnswers',
  `WITH x AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS x(${newGuaranteeColumns.map((c) => `${c} ${newGuaranteeColumnTypes[c]}`).join(', ')}, answer_sender_type text, answer_sender_id text, answer_status int, answer_body jsonb)
    ), inserted AS (
      INSERT INTO guarantees (${newGuaranteeColumns.join(', ')})
      SELECT ${newGuaranteeColumns.join(', ')} FROM x ORDER BY issuer_id, number
      ON CONFLICT DO NOTHING RETURNING id
    ), answer AS (
      -- Each claimed event found by its key and updated where it lies (see webhooks.answerMany).
      UPDATE webhook_events w SET response_status = a.answer_status, response_body = a.answer_body
        FROM (SELECT x.answer_status, x.answer_body, e.ctid AS tid
                FROM x JOIN inserted ON inserted.id = x.id
                CROSS JOIN LATERAL (
                  SELECT ctid FROM webhook_events
                   WHERE sender_type = x.answer_sender_type AND sender_id = x.answer_sender_id AND event_id = x.event_id LIMIT 1) e) a
       WHERE w.ctid = a.tid
      RETURNING 1
    ), audited AS (
      ${insertPendingSql(2)}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM answer) AS answered, (SELECT count(*) FROM audited) AS audited`,
);

/** insertGuaranteeWith for the guarantees of a group, in one statement, each answer stored only
 *  with its guarantee, and with them the audit events the transaction has appended so far
 *  (`events`: audit service's takePendingAudit), so that the group's last statement before its
 *  commit is this one. How many guarantees went in (the others were kept out by a unique index:
 *  the caller then rolls the whole group back, events included). */
export async function insertGuaranteesWith(
  tx: Knex.Transaction,
  guarantees: readonly { row: NewGuarantee; answer: { sender: { type: string; id: string }; status: number; body: unknown } }[],
  events: readonly ChainedEventInput[] = [],
): Promise<number> {
  const records = guarantees.map(({ row, answer }) => ({
    ...Object.fromEntries(newGuaranteeColumns.map((c) => [c, row[c]])),
    answer_sender_type: answer.sender.type,
    answer_sender_id: answer.sender.id,
    answer_status: answer.status,
    answer_body: answer.body ?? null,
  }));
  const rows = await run<{ inserted: bigint; answered: bigint; audited: bigint }>(tx, insertGuaranteesStatement, [jsonParam(records), pendingEventsParam(events)]);
  const inserted = Number(rows[0].inserted);
  if (inserted !== Number(rows[0].answered)) throw new Error(`assertion failed: ${inserted} guarantees written with ${rows[0].answered} answers`);
  if (Number(rows[0].audited) !== events.length) throw new Error(`assertion failed: ${events.length} audit events written, ${rows[0].audited} found`);
  return inserted;
}

/** Who may list what (R18): everything, one bidder's own, or a tenderee's sections once opened. */
export type GuaranteeScope = { all: true } | { bidderId: string } | { tendereeId: string };

export function guaranteesQuery(tx: Tx, scope: GuaranteeScope, filter: { sectionId?: string; bidderId?: string; status?: string }): Knex.QueryBuilder {
  const q = tx('guarantees as g').select('g.*');
  if (filter.sectionId) q.where('g.section_id', filter.sectionId);
  if (filter.bidderId) q.where('g.bidder_id', filter.bidderId);
  if (filter.status) q.where('g.status', filter.status);
  if ('bidderId' in scope) q.where('g.bidder_id', scope.bidderId);
  if ('tendereeId' in scope) q.join('sections as s', 's.id', 'g.section_id').where('s.tenderee_id', scope.tendereeId).whereNotNull('s.opened_at');
  return q;
}

/** Guarantees in force whose last valid day is before `today`, locked, oldest first. */
export const lapsedGuaranteesForUpdate = (tx: Tx, inForce: readonly GuaranteeStatus[], today: string, limit: number) =>
  tx('guarantees')
    .whereIn('status', inForce)
    .where('valid_to', '<', today)
    .orderBy('valid_to')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .select('id', 'status', 'valid_to', 'section_id', 'bidder_id') as unknown as Promise<Pick<GuaranteeRow, 'id' | 'status' | 'valid_to' | 'section_id' | 'bidder_id'>[]>;

/** Moves a guarantee on from `from`; false when it was no longer in it. */
export async function updateGuaranteeStatus(tx: Tx, id: string, from: GuaranteeStatus, to: GuaranteeStatus, extra: Partial<GuaranteeRow> = {}): Promise<boolean> {
  const { checks, ...columns } = extra;
  const n = await tx('guarantees')
    .where({ id, status: from })
    .update({ ...columns, ...(checks ? { checks: JSON.stringify(checks) } : {}), status: to, updated_at: tx.fn.now() });
  return n === 1;
}

/** At opening (R8): issued or amended guarantees become secured, in one statement; how many did. */
export async function secureIssuedGuarantees(tx: Tx, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return tx('guarantees').whereRaw('id = ANY(?)', [ids]).whereIn('status', ['issued', 'amended']).update({ status: 'secured', updated_at: tx.fn.now() });
}

/** After the contract or a termination: standing guarantees released, in one statement; how many were. */
export async function releaseGuarantees(tx: Tx, ids: string[], fields: { release_reason: string; released_at: Date }): Promise<number> {
  if (ids.length === 0) return 0;
  return tx('guarantees').whereRaw('id = ANY(?)', [ids]).whereIn('status', ['issued', 'amended', 'secured']).update({ ...fields, status: 'released', updated_at: tx.fn.now() });
}

export async function recordGuaranteeEvent(tx: Tx, e: { guaranteeId: string; type: string; from: string; to: string; eventId: string; data: Record<string, unknown> }) {
  await tx('guarantee_events').insert({ guarantee_id: e.guaranteeId, type: e.type, from_status: e.from, to_status: e.to, event_id: e.eventId, data: JSON.stringify(toJsonSafe(e.data)) });
}

export const findApplication = (tx: Tx, id: string) => tx<ApplicationRow>('guarantee_applications').where({ id }).first();
export const findApplicationForUpdate = (tx: Tx, id: string) => tx<ApplicationRow>('guarantee_applications').where({ id }).forUpdate().first();

export async function insertApplication(tx: Tx, row: Pick<ApplicationRow, 'id' | 'section_id' | 'bidder_id' | 'issuer_id' | 'kind' | 'status' | 'requested_by_type' | 'requested_by_id'>): Promise<void> {
  await tx('guarantee_applications').insert(row);
}

/** Moves an application on from `from` (any of them); false when it was no longer there. */
export async function updateApplicationFrom(tx: Tx, id: string, from: readonly ApplicationStatus[], to: ApplicationStatus, extra: Partial<Pick<ApplicationRow, 'guarantee_id' | 'decline_reason'>> = {}): Promise<boolean> {
  const n = await tx('guarantee_applications').where({ id }).whereIn('status', from).update({ ...extra, status: to, updated_at: tx.fn.now() });
  return n === 1;
}

export function applicationsQuery(tx: Tx, filter: { sectionId?: string; bidderId?: string; status?: string }, onlyBidderId?: string): Knex.QueryBuilder {
  const q = tx('guarantee_applications');
  if (filter.sectionId) q.where('section_id', filter.sectionId);
  if (filter.bidderId) q.where('bidder_id', filter.bidderId);
  if (filter.status) q.where('status', filter.status);
  if (onlyBidderId) q.where('bidder_id', onlyBidderId);
  return q;
}

export const findMessage = (tx: Tx, id: string) => tx<IssuerMessageRow>('issuer_messages').where({ id }).first();
export const attemptsOf = (tx: Tx, messageId: string) => tx('issuer_message_attempts').where({ message_id: messageId }).orderBy('attempt');

export async function insertMessage(tx: Tx, row: Pick<IssuerMessageRow, 'id' | 'issuer_id' | 'kind' | 'subject_id' | 'url' | 'body'>): Promise<void> {
  await tx('issuer_messages').insert(row);
}

/** Takes a pending message for one attempt; undefined when it is not pending (sent, or another
 *  worker has it), so a job run twice sends once. */
export async function claimPendingMessage(tx: Tx, id: string): Promise<IssuerMessageRow | undefined> {
  const claimed = await tx('issuer_messages')
    .where({ id, status: 'pending' })
    .update({ status: 'sending', attempts: tx.raw('attempts + 1'), updated_at: tx.fn.now() })
    .returning('*');
  return claimed[0] as IssuerMessageRow | undefined;
}

export async function recordMessageAttempt(
  tx: Tx,
  a: { messageId: string; attempt: number; httpStatus: number | null; error: string | null; durationMs: number; status: 'sent' | 'failed' | 'pending' },
): Promise<void> {
  await tx('issuer_message_attempts').insert({ message_id: a.messageId, attempt: a.attempt, http_status: a.httpStatus, error: a.error, duration_ms: a.durationMs });
  await tx('issuer_messages').where({ id: a.messageId, status: 'sending' }).update({
    status: a.status,
    last_error: a.error,
    sent_at: a.status === 'sent' ? tx.fn.now() : null,
    updated_at: tx.fn.now(),
  });
}

/** Messages left `sending` longer than `stuckSeconds` go back to pending, dated so that the
 *  idle sweep takes them at once. */
export async function releaseStuckMessages(tx: Tx, stuckSeconds: number, idleSeconds: number): Promise<void> {
  await tx('issuer_messages')
    .where('status', 'sending')
    .where('updated_at', '<', tx.raw(`now() - make_interval(secs => ?)`, [stuckSeconds]))
    .update({ status: 'pending', updated_at: tx.raw(`now() - make_interval(secs => ?)`, [idleSeconds + 1]) });
}

/** Pending messages untouched for `idleSeconds`, locked and marked touched. */
export async function takeIdleMessages(tx: Tx, idleSeconds: number, limit: number): Promise<IssuerMessageRow[]> {
  const idle = (await tx<IssuerMessageRow>('issuer_messages')
    .where('status', 'pending')
    .where('updated_at', '<', tx.raw(`now() - make_interval(secs => ?)`, [idleSeconds]))
    .orderBy('updated_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()) as IssuerMessageRow[];
  if (idle.length) await tx('issuer_messages').whereIn('id', idle.map((m) => m.id)).update({ updated_at: tx.fn.now() });
  return idle;
}
