// Vouchers' use cases: reading them as a caller may, rendering and signing them off the request
// path with a bounded number of attempts, and checking a PDF against the record.
import { createHash } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import forge from 'node-forge';
import { appendAudit, listAuditEvents } from '../audit/service';
import type { Tx } from '../db/knex';
import { NotFound } from '../errors';
import type { Caller } from '../http/auth';
import type { AppDeps } from '../http/deps';
import { enqueueJob } from '../queue/outbox';
import type { Runtime } from '../runtime';
import { composeVoucherInput } from './compose';
import * as repo from './repo';
import { renderAndSignVoucher } from './sign';
import { verifyPdf } from './verify';

/** Rendering is deterministic in the voucher's data: an attempt that failed this often will fail
 *  again, and the voucher is marked failed for a person to look at instead of being retried for
 *  ever. */
export const voucherRenderAttemptsMax = 5;
/** A pending voucher this long after its request is handed to the queue again. */
export const voucherStuckAfterSeconds = 120;
export const voucherSweepBatchSize = 500;
export const voucherErrorCharsMax = 500;

// ---- reading ---------------------------------------------------------------------------------

/** The centre and auditors see every voucher; a bidder the ones about itself. */
function visibleTo(caller: Caller, v: repo.VoucherRow): boolean {
  if (caller.role === 'centre' || caller.role === 'auditor') return true;
  return caller.role === 'bidder' && v.bidder_id !== null && v.bidder_id === caller.bidderId;
}

export async function findVisibleVoucher(tx: Tx, caller: Caller, id: string): Promise<repo.VoucherRow> {
  const v = await repo.findVoucher(tx, id);
  if (!v || !visibleTo(caller, v)) throw new NotFound('voucher', id);
  return v;
}

export async function findVisibleSignedPdf(tx: Tx, caller: Caller, id: string): Promise<{ id: string; pdf: Buffer; pdfSha256: string }> {
  const v = await repo.findVoucher(tx, id);
  if (!v || !visibleTo(caller, v) || v.status !== 'signed' || !v.pdf || !v.pdf_sha256) throw new NotFound('signed voucher', id);
  return { id: v.id, pdf: v.pdf, pdfSha256: v.pdf_sha256 };
}

// ---- rendering and signing -------------------------------------------------------------------

/** Renders and signs a voucher not yet signed. Claims nothing until the end: the final UPDATE
 *  only applies to a row not yet signed, so two runs of the same job store one PDF. */
export async function renderAndSign(rt: Runtime, voucherId: string): Promise<'signed' | 'already' | 'missing'> {
  const row = await repo.findVoucher(rt.db, voucherId);
  if (!row) return 'missing';
  if (row.status === 'signed') return 'already';
  return signVoucher(rt, row);
}

async function signVoucher(rt: Runtime, row: repo.VoucherRow): Promise<'signed' | 'already'> {
  const input = await composeVoucherInput(rt, row);
  const signedAt = new Date();
  const pdf = await renderAndSignVoucher(input, rt.signer, { signedAt, reason: `bidbond ${row.kind} ${row.id}`, location: rt.config.BIDBOND_CENTRE_NAME });
  const pdfSha256 = createHash('sha256').update(pdf).digest('hex');
  return rt.db.transaction(async (tx) => {
    if (!(await repo.storeSignedPdf(tx, row.id, { pdf, pdfSha256, signerSubject: rt.signer.subject, signedAt }))) return 'already' as const;
    await appendAudit(tx, {
      actor: { type: 'system' },
      action: 'voucher.signed',
      entityType: 'voucher',
      entityId: row.id,
      data: { kind: row.kind, subjectType: row.subject_type, subjectId: row.subject_id, pdfSha256, recordSha256: row.record_sha256, signer: rt.signer.fingerprint },
    });
    return 'signed' as const;
  });
}

/** One render attempt of a pending voucher, counted in the database before it starts. The
 *  attempt that reaches `voucherRenderAttemptsMax` without a PDF marks the voucher failed and
 *  throws UnrecoverableError, so that neither BullMQ nor the sweep tries again. */
export async function attemptRender(rt: Runtime, voucherId: string): Promise<'signed' | 'already' | 'missing' | 'failed'> {
  const row = await repo.claimRenderAttempt(rt.db, voucherId);
  if (!row) {
    const current = await repo.findVoucher(rt.db, voucherId);
    if (!current) return 'missing';
    return current.status === 'failed' ? 'failed' : 'already';
  }
  // More attempts than allowed were started: the last one never returned (its worker died, say
  // out of memory on this voucher), so another could only end the same way.
  if (row.render_attempts > voucherRenderAttemptsMax) {
    const error = `render attempt ${row.render_attempts - 1} did not finish${row.error ? `; the one before: ${row.error}` : ''}`.slice(0, voucherErrorCharsMax);
    await recordRenderFailure(rt, row, error);
    throw new UnrecoverableError(`voucher ${row.id} failed after ${voucherRenderAttemptsMax} render attempts`);
  }
  try {
    return await signVoucher(rt, row);
  } catch (e) {
    const error = (e instanceof Error ? e.message : String(e)).slice(0, voucherErrorCharsMax);
    if ((await recordRenderFailure(rt, row, error)) === 'failed') {
      throw new UnrecoverableError(`voucher ${row.id} failed after ${voucherRenderAttemptsMax} render attempts: ${error}`);
    }
    throw e;
  }
}

async function recordRenderFailure(rt: Runtime, row: repo.VoucherRow, error: string): Promise<repo.VoucherStatus | undefined> {
  return rt.db.transaction(async (tx) => {
    const after = await repo.recordRenderError(tx, row.id, error, voucherRenderAttemptsMax);
    if (after?.status === 'failed') {
      await appendAudit(tx, {
        actor: { type: 'system' },
        action: 'voucher.failed',
        entityType: 'voucher',
        entityId: row.id,
        data: { kind: row.kind, subjectType: row.subject_type, subjectId: row.subject_id, recordSha256: row.record_sha256, renderAttempts: after.render_attempts, error },
      });
    }
    return after?.status;
  });
}

/** Hands pending vouchers to the queue again (their job may have been lost with Redis); failed
 *  ones are left alone. */
export async function requeueStuckVouchers(rt: Runtime): Promise<number> {
  const ids = await repo.stalePendingVoucherIds(rt.db, voucherStuckAfterSeconds, voucherSweepBatchSize);
  if (ids.length === 0) return 0;
  await rt.db.transaction(async (tx) => {
    for (const id of ids) await enqueueJob(tx, { queue: 'vouchers', name: 'render', jobId: `render.${id}.${Date.now()}`, payload: { voucherId: id } });
  });
  return ids.length;
}

// ---- checking --------------------------------------------------------------------------------

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

export async function checkVoucherPdf(deps: Pick<AppDeps, 'db' | 'trustRoots' | 'signer'>, pdf: Buffer): Promise<VoucherCheck> {
  // Vouchers chain to the service's own signing chain, which need not be among the roots that
  // issuers' and banks' certificates chain to.
  const roots = [...deps.trustRoots.map((c) => forge.pki.certificateToPem(c)), ...deps.signer.chainPems];
  const r = verifyPdf(pdf, roots);
  const sha = createHash('sha256').update(pdf).digest('hex');
  let matchesRecord = false;
  if (r.voucherId) {
    const recorded = await repo.signedPdfSha256(deps.db, r.voucherId);
    const audited = recorded
      ? (await listAuditEvents(deps.db, { limit: 1, entityType: 'voucher', entityId: r.voucherId, action: 'voucher.signed' })).data[0]
      : undefined;
    matchesRecord = recorded === sha && (audited?.data as { pdfSha256?: string } | undefined)?.pdfSha256 === sha;
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
