// Rendering and signing vouchers off the request path, and checking a PDF against the record.
import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { Knex } from 'knex';
import forge from 'node-forge';
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { enqueueJob } from '../queue/outbox';
import type { Runtime } from '../runtime';
import { appendAudit } from '../audit/service';
import { composeVoucherData } from './compose';
import { renderVoucher, type VoucherInput } from './render';
import { signPdf } from './sign';
import { verifyPdf, type VerifyResult } from './verify';

/** A voucher still pending this long after its request is handed to the queue again. */
export const voucherStuckAfterSeconds = 120;
export const voucherSweepBatchSize = 500;

export interface VoucherRow {
  id: string;
  kind: VoucherInput['kind'];
  subject_type: string;
  subject_id: string;
  section_id: string | null;
  bidder_id: string | null;
  data: Record<string, unknown>;
  record_sha256: string;
  status: 'pending' | 'signed' | 'failed';
  pdf: Buffer | null;
  pdf_sha256: string | null;
  signer_subject: string | null;
  signed_at: Date | null;
  error: string | null;
  created_at: Date;
}

/** Amounts were frozen as decimal strings of fen (jsonb has no bigint); keys ending in `Fen`
 *  are read back as bigint, exactly. */
export function reviveFen(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => reviveFen(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, reviveFen(v, k)]));
  }
  if (key.endsWith('Fen') && typeof value === 'string' && /^-?\d{1,19}$/.test(value)) return BigInt(value);
  return value;
}

async function sectionIdentity(db: Knex, sectionId: string | null) {
  if (!sectionId) return undefined;
  const s = await db('sections as s').join('tenderees as t', 't.id', 's.tenderee_id').where('s.id', sectionId).first('s.*', 't.name as tenderee_name', 't.uscc as tenderee_uscc');
  if (!s) return undefined;
  return { projectCode: s.project_code, sectionCode: s.section_code, sectionName: s.name, tenderee: { name: s.tenderee_name, uscc: s.tenderee_uscc } };
}

export function verifyUrlFor(rt: Pick<Runtime, 'config'>, voucherId: string): string {
  const base = rt.config.BIDBOND_PUBLIC_URL ?? `http://${rt.config.HOST}:${rt.config.PORT}`;
  return `${base.replace(/\/$/, '')}/v1/vouchers/${voucherId}`;
}

export async function composeVoucherInput(rt: Runtime, row: VoucherRow): Promise<VoucherInput> {
  return {
    kind: row.kind,
    voucherId: row.id,
    issuedAt: row.created_at.toISOString(),
    centre: { name: rt.config.BIDBOND_CENTRE_NAME },
    section: await sectionIdentity(rt.db, row.section_id),
    verifyUrl: verifyUrlFor(rt, row.id),
    recordSha256: row.record_sha256,
    data: await composeVoucherData(rt.db, row.kind, reviveFen(row.data) as Record<string, unknown>, row.created_at),
  } as VoucherInput;
}

/** Renders and signs one voucher. Claims nothing until the end: the final UPDATE only applies
 *  to a row still pending, so two runs of the same job store one PDF. */
export async function renderAndSign(rt: Runtime, voucherId: string): Promise<'signed' | 'already' | 'missing'> {
  const row = (await rt.db('vouchers').where({ id: voucherId }).first()) as VoucherRow | undefined;
  if (!row) return 'missing';
  if (row.status === 'signed') return 'already';
  const input = await composeVoucherInput(rt, row);
  const unsigned = await renderVoucher(input);
  const signedAt = new Date();
  const pdf = Buffer.from(await signPdf(unsigned, rt.signer, { signedAt, reason: `bidbond ${row.kind} ${row.id}`, location: rt.config.BIDBOND_CENTRE_NAME }));
  const pdfSha256 = createHash('sha256').update(pdf).digest('hex');
  return rt.db.transaction(async (tx) => {
    const n = await tx('vouchers')
      .where({ id: voucherId })
      .whereIn('status', ['pending', 'failed'])
      .update({ status: 'signed', pdf, pdf_sha256: pdfSha256, signer_subject: rt.signer.subject, signed_at: signedAt, error: null });
    if (n === 0) return 'already' as const;
    await appendAudit(tx, {
      actor: { type: 'system' },
      action: 'voucher.signed',
      entityType: 'voucher',
      entityId: voucherId,
      data: { kind: row.kind, subjectType: row.subject_type, subjectId: row.subject_id, pdfSha256, recordSha256: row.record_sha256, signer: rt.signer.fingerprint },
    });
    return 'signed' as const;
  });
}

export interface VoucherCheck {
  valid: boolean;
  reason?: string;
  signer: { subject: string; fingerprint: string } | null;
  signedAt: string | null;
  voucherId: string | null;
  coversWholeFile: boolean;
  trusted: boolean;
  /** The PDF is byte-identical to the voucher on record, whose hash is also in the audit log. */
  matchesRecord: boolean;
}

export async function checkVoucherPdf(rt: Runtime, pdf: Buffer): Promise<VoucherCheck> {
  // Vouchers chain to the service's own signing chain, which need not be among the roots that
  // issuers' and banks' certificates chain to.
  const roots = [...rt.trustRoots.map((c) => forge.pki.certificateToPem(c)), ...rt.signer.chainPems];
  const r: VerifyResult = verifyPdf(pdf, roots);
  const sha = createHash('sha256').update(pdf).digest('hex');
  let matchesRecord = false;
  if (r.voucherId) {
    const row = await rt.db('vouchers').where({ id: r.voucherId, status: 'signed' }).first('pdf_sha256');
    const audited = row
      ? await rt.db('audit_events').where({ entity_type: 'voucher', entity_id: r.voucherId, action: 'voucher.signed' }).first('data')
      : undefined;
    matchesRecord = !!row && row.pdf_sha256 === sha && (audited?.data as { pdfSha256?: string } | undefined)?.pdfSha256 === sha;
  }
  return {
    valid: r.valid,
    reason: r.reason,
    signer: r.signer ?? null,
    signedAt: r.signedAt ?? null,
    voucherId: r.voucherId ?? null,
    coversWholeFile: r.coversWholeFile,
    trusted: r.trusted,
    matchesRecord,
  };
}

async function requeueStuckVouchers(rt: Runtime): Promise<number> {
  const stuck = await rt.db('vouchers')
    .where({ status: 'pending' })
    .where('created_at', '<', rt.db.raw(`now() - make_interval(secs => ?)`, [voucherStuckAfterSeconds]))
    .orderBy('created_at')
    .limit(voucherSweepBatchSize)
    .select('id');
  if (stuck.length === 0) return 0;
  await rt.db.transaction(async (tx) => {
    for (const v of stuck) await enqueueJob(tx, { queue: 'vouchers', name: 'render', jobId: `render.${v.id}.${Date.now()}`, payload: { voucherId: v.id } });
  });
  return stuck.length;
}

export const voucherSweepers: Sweeper[] = [{ name: 'vouchersRequeued', run: requeueStuckVouchers }];

export const voucherJobHandlers: HandlerTable = {
  vouchers: {
    render: async (rt: Runtime, job: Job) => {
      const voucherId = String(job.data.voucherId ?? '');
      if (!/^vch_/.test(voucherId)) throw new UnrecoverableError(`bad voucher id ${voucherId}`);
      try {
        return await renderAndSign(rt, voucherId);
      } catch (e) {
        await rt.db('vouchers').where({ id: voucherId, status: 'pending' }).update({ error: String((e as Error).message).slice(0, 500) });
        throw e;
      }
    },
  },
};
