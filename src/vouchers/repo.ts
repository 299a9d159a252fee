// Queries on vouchers, and the reads of parties, sections and guarantees a voucher shows; each
// takes the unit of work.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { jsonParam, run, statement } from '../db/statements';
import { notesJobs } from '../queue/outbox';
import type { VoucherKind } from './input';

export type VoucherStatus = 'pending' | 'signed' | 'failed';

export interface VoucherRow {
  id: string;
  kind: VoucherKind;
  subject_type: string;
  subject_id: string;
  section_id: string | null;
  bidder_id: string | null;
  data: Record<string, unknown>;
  record_sha256: string;
  status: VoucherStatus;
  pdf: Buffer | null;
  pdf_sha256: string | null;
  signer_subject: string | null;
  signed_at: Date | null;
  /** The last render attempt's error; kept once the voucher is failed. */
  error: string | null;
  /** Render attempts started, counted before each so that one that never returns counts too. */
  render_attempts: number;
  created_at: Date;
}

// ---- vouchers --------------------------------------------------------------------------------

export const findVoucher = (tx: Tx, id: string) => tx<VoucherRow>('vouchers').where({ id }).first() as Promise<VoucherRow | undefined>;

export type NewVoucher = Pick<VoucherRow, 'id' | 'kind' | 'subject_type' | 'subject_id' | 'section_id' | 'bidder_id' | 'data' | 'record_sha256'>;

/** One voucher per kind and subject: false when that voucher is already on record. */
export async function insertVoucher(tx: Tx, row: NewVoucher): Promise<boolean> {
  const inserted = await tx('vouchers')
    .insert({ ...row, data: JSON.stringify(row.data) })
    .onConflict(['kind', 'subject_type', 'subject_id'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/** Vouchers of a batch rendered by one job at most: a bank file's ten thousand receipts are two
 *  hundred jobs for BullMQ and the outbox to carry, not ten thousand. */
export const voucherRenderJobVouchersMax = 50;

// The vouchers of a batch and the render jobs of those inserted, in one statement (a bank file's
// thousand deposits ask for a thousand receipts): a `renderMany` job per run of
// `voucherRenderJobVouchersMax` inserted vouchers, in request order, under the first one's id.
const insertVouchersWithJobs = statement(
  'vouchers.insertWithJobs',
  `WITH x AS (
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(n int, id text, kind text, subject_type text, subject_id text, section_id text, bidder_id text, data jsonb, record_sha256 text)
   ), v AS (
     INSERT INTO vouchers (id, kind, subject_type, subject_id, section_id, bidder_id, data, record_sha256)
     SELECT id, kind, subject_type, subject_id, section_id, bidder_id, data, record_sha256 FROM x ORDER BY n
     ON CONFLICT (kind, subject_type, subject_id) DO NOTHING
     RETURNING id
   ), runs AS (
     SELECT x.id, x.n, (row_number() OVER (ORDER BY x.n) - 1) / ${voucherRenderJobVouchersMax} AS run FROM x JOIN v ON v.id = x.id
   ), jobs AS (
     INSERT INTO outbox (queue, job_name, job_id, payload)
     SELECT 'vouchers', 'renderMany', 'renderMany.' || (array_agg(id ORDER BY n))[1], jsonb_build_object('voucherIds', string_agg(id, ',' ORDER BY n))
     FROM runs GROUP BY run ORDER BY run
   )
   SELECT id FROM v`,
);

/** insertVoucher for each row, in one statement, with their render jobs: the ids of the rows
 *  inserted (the others were on record already, and their jobs with them). */
export async function insertVouchers(tx: Knex.Transaction, rows: NewVoucher[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  notesJobs(tx);
  const inserted = await run<{ id: string }>(tx, insertVouchersWithJobs, [jsonParam(rows.map((row, n) => ({ n, ...row })))]);
  return new Set(inserted.map((r) => r.id));
}

export async function findVoucherIdOf(tx: Tx, kind: VoucherKind, subjectType: string, subjectId: string): Promise<string | undefined> {
  const row = await tx('vouchers').where({ kind, subject_type: subjectType, subject_id: subjectId }).first('id');
  return row?.id;
}

/** Counts one more render attempt of a pending voucher; undefined when it is not pending. */
export async function claimRenderAttempt(tx: Tx, id: string): Promise<VoucherRow | undefined> {
  const [row] = await tx('vouchers')
    .where({ id, status: 'pending' })
    .update({ render_attempts: tx.raw('render_attempts + 1') })
    .returning('*');
  return row as VoucherRow | undefined;
}

/** Stores the signed PDF unless another run already did. A failed voucher may still be signed
 *  by a run that started before it failed: the PDF is then the better record. */
export async function storeSignedPdf(tx: Tx, id: string, signed: { pdf: Buffer; pdfSha256: string; signerSubject: string; signedAt: Date }): Promise<boolean> {
  const n = await tx('vouchers')
    .where({ id })
    .whereIn('status', ['pending', 'failed'])
    .update({ status: 'signed', pdf: signed.pdf, pdf_sha256: signed.pdfSha256, signer_subject: signed.signerSubject, signed_at: signed.signedAt, error: null });
  return n > 0;
}

/** Records a failed attempt of a pending voucher; it becomes failed once `attemptsMax` attempts
 *  were made. Undefined when the voucher is no longer pending. */
export async function recordRenderError(tx: Tx, id: string, error: string, attemptsMax: number): Promise<Pick<VoucherRow, 'status' | 'render_attempts'> | undefined> {
  const [row] = await tx('vouchers')
    .where({ id, status: 'pending' })
    .update({ error, status: tx.raw(`CASE WHEN render_attempts >= ? THEN 'failed' ELSE status END`, [attemptsMax]) })
    .returning(['status', 'render_attempts']);
  return row;
}

/** Pending vouchers requested longer ago than `olderThanSeconds`, oldest first. */
export async function stalePendingVoucherIds(tx: Tx, olderThanSeconds: number, limit: number): Promise<string[]> {
  const rows = await tx('vouchers')
    .where({ status: 'pending' })
    .where('created_at', '<', tx.raw(`now() - make_interval(secs => ?)`, [olderThanSeconds]))
    .orderBy('created_at')
    .limit(limit)
    .select('id');
  return rows.map((r: { id: string }) => r.id);
}

/** Served by the partial indexes on pending and on failed vouchers. */
export async function countVouchersWithStatus(tx: Tx, status: 'pending' | 'failed'): Promise<number> {
  const row = await tx('vouchers').where({ status }).count<{ n: string }>('* as n').first();
  return Number(row?.n ?? 0);
}

// ---- what a voucher shows of other records ---------------------------------------------------

export interface PartyRow {
  name: string;
  uscc: string;
}

export const findParty = (tx: Tx, table: 'bidders' | 'tenderees', id: string) => tx(table).where({ id }).first('name', 'uscc') as Promise<PartyRow | undefined>;

export interface SectionIdentityRow {
  project_code: string;
  section_code: string;
  name: string;
  tenderee_name: string;
  tenderee_uscc: string;
}

export const findSectionIdentity = (tx: Tx, sectionId: string) =>
  tx('sections as s')
    .join('tenderees as t', 't.id', 's.tenderee_id')
    .where('s.id', sectionId)
    .first('s.project_code', 's.section_code', 's.name', 't.name as tenderee_name', 't.uscc as tenderee_uscc') as Promise<SectionIdentityRow | undefined>;

export interface GuaranteeIdentityRow {
  issuer_id: string;
  number: string;
  kind: 'bank' | 'insurance' | 'guarantor';
  amount_fen: bigint;
  valid_from: string;
  valid_to: string;
  issued_at: Date;
  applicant_name: string;
  applicant_uscc: string;
  beneficiary_name: string;
  beneficiary_uscc: string;
  project_code: string;
  section_code: string;
  status: string;
  document_sha256: string;
  certificate_fingerprint: string;
}

export const findGuaranteeIdentity = (tx: Tx, guaranteeId: string) =>
  tx('guarantees')
    .where({ id: guaranteeId })
    .first(
      'issuer_id', 'number', 'kind', 'amount_fen', 'valid_from', 'valid_to', 'issued_at', 'applicant_name', 'applicant_uscc', 'beneficiary_name',
      'beneficiary_uscc', 'project_code', 'section_code', 'status', 'document_sha256', 'certificate_fingerprint',
    ) as Promise<GuaranteeIdentityRow | undefined>;

export interface IssuerIdentityRow {
  name: string;
  kind: 'bank' | 'insurance' | 'guarantor';
  bank_code: string | null;
}

export const findIssuerIdentity = (tx: Tx, issuerId: string) => tx('issuers').where({ id: issuerId }).first('name', 'kind', 'bank_code') as Promise<IssuerIdentityRow | undefined>;

// ---- vouchers of their subjects --------------------------------------------------------------

/** The records that carry vouchers, as the API names them. */
export const voucherSubjectKinds = ['deposit', 'refund', 'guarantee', 'roster', 'reconciliation'] as const;
export type VoucherSubjectKind = (typeof voucherSubjectKinds)[number];

/** A subject's vouchers are found under these (kind, subject type) pairs: a refund paid again or
 *  returned again after a return has its voucher on the payment (refund_attempt), and each
 *  verification of a guarantee has its own report, keyed `<guaranteeId>.<hash>.<status>`. Listing
 *  the kinds keeps every branch on the unique (kind, subject_type, subject_id) index. */
const subjectKinds = {
  deposit: ['deposit_receipt', 'deposit_reversal'],
  refund: ['refund_voucher', 'refund_return'],
  guarantee: ['claim_notice', 'verification_report'],
  roster: ['opening_roster'],
  reconciliation: ['reconciliation_report'],
} as const satisfies Record<VoucherSubjectKind, readonly VoucherKind[]>;

export interface VoucherRefRow {
  id: string;
  kind: VoucherKind;
  status: VoucherStatus;
  created_at: Date;
  /** The subject asked for (a refund for a voucher kept on one of its payments). */
  owner_type: VoucherSubjectKind;
  owner_id: string;
}

/** Every voucher of the given subjects in one statement, in id order (ids are time-sortable): a
 *  page of a list asks for the vouchers of all its rows at once. `kind` narrows to one kind;
 *  `page` reads one page after a cursor. */
export async function voucherRefsOfSubjects(
  tx: Tx,
  subjects: Partial<Record<VoucherSubjectKind, readonly string[]>>,
  kind?: VoucherKind,
  page?: { afterId?: string; limit: number },
): Promise<VoucherRefRow[]> {
  const branches: string[] = [];
  const bindings: Knex.RawBinding[] = [];
  const cols = 'v.id, v.kind, v.status, v.created_at';
  const kindsOf = (s: VoucherSubjectKind) => (subjectKinds[s] as readonly VoucherKind[]).filter((k) => kind === undefined || k === kind);
  const direct = (s: VoucherSubjectKind, subjectType: string, ids: readonly string[]) => {
    const kinds = kindsOf(s);
    if (kinds.length === 0 || ids.length === 0) return;
    branches.push(`SELECT ${cols}, '${s}' AS owner_type, v.subject_id AS owner_id FROM vouchers v WHERE v.kind = ANY(?::text[]) AND v.subject_type = ? AND v.subject_id = ANY(?::text[])`);
    bindings.push(kinds, subjectType, [...ids]);
  };
  const { deposit = [], refund = [], guarantee = [], roster = [], reconciliation = [] } = subjects;
  direct('deposit', 'deposit', deposit);
  direct('refund', 'refund', refund);
  if (refund.length > 0 && kindsOf('refund').length > 0) {
    branches.push(
      `SELECT ${cols}, 'refund' AS owner_type, a.refund_id AS owner_id FROM refund_attempts a
         JOIN vouchers v ON v.kind = ANY(?::text[]) AND v.subject_type = 'refund_attempt' AND v.subject_id = a.id
        WHERE a.refund_id = ANY(?::text[])`,
    );
    bindings.push(kindsOf('refund'), [...refund]);
  }
  if (guarantee.length > 0) {
    if (kindsOf('guarantee').includes('claim_notice')) {
      branches.push(`SELECT ${cols}, 'guarantee' AS owner_type, v.subject_id AS owner_id FROM vouchers v WHERE v.kind = 'claim_notice' AND v.subject_type = 'guarantee_claim' AND v.subject_id = ANY(?::text[])`);
      bindings.push([...guarantee]);
    }
    if (kindsOf('guarantee').includes('verification_report')) {
      // The report's subject id starts with the guarantee's; its section narrows the scan to
      // the section index.
      branches.push(
        `SELECT ${cols}, 'guarantee' AS owner_type, split_part(v.subject_id, '.', 1) AS owner_id FROM vouchers v
          WHERE v.kind = 'verification_report' AND v.subject_type = 'guarantee_verification'
            AND v.section_id IN (SELECT g.section_id FROM guarantees g WHERE g.id = ANY(?::text[]))
            AND split_part(v.subject_id, '.', 1) = ANY(?::text[])`,
      );
      bindings.push([...guarantee], [...guarantee]);
    }
  }
  direct('roster', 'roster', roster);
  direct('reconciliation', 'reconciliation', reconciliation);
  if (branches.length === 0) return [];
  let sql = `SELECT * FROM (${branches.join('\nUNION ALL\n')}) refs`;
  if (page?.afterId !== undefined) {
    sql += ' WHERE id > ?';
    bindings.push(page.afterId);
  }
  sql += ' ORDER BY id';
  if (page) {
    sql += ' LIMIT ?';
    bindings.push(page.limit);
  }
  const { rows } = await tx.raw(sql, bindings);
  return rows as VoucherRefRow[];
}

/** The section of an opening roster, by the roster's id. */
export async function findRosterSectionId(tx: Tx, rosterId: string): Promise<string | undefined> {
  const row = (await tx('rosters').where({ id: rosterId }).first('section_id')) as { section_id: string } | undefined;
  return row?.section_id;
}

export interface PublicSectionRow {
  project_code: string;
  section_code: string;
  name: string;
  opened_at: Date | null;
}

/** What anyone may know of a section, and whether it has opened (R18). */
export const findPublicSection = (tx: Tx, sectionId: string) =>
  tx('sections').where({ id: sectionId }).first('project_code', 'section_code', 'name', 'opened_at') as Promise<PublicSectionRow | undefined>;
