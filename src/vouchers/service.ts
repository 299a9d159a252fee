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
import { getPublicVoucher, publicSummaryOf, type Bilingual, type PublicVoucher } from './public';
import { verifyPdf, type VerifyResult } from './verify';

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

export type VoucherVerdict = 'valid' | 'changed' | 'untrusted' | 'unknown';

export interface VoucherCheck {
  /** One word for the person holding the file; the fields after `voucher` are the evidence. */
  verdict: VoucherVerdict;
  message: Bilingual;
  /** The public summary of the voucher on record these bytes are; only when valid. */
  voucher: PublicVoucher | null;
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

const verdictMessages: Record<VoucherVerdict | 'not_ours' | 'not_recorded' | 'unsigned', Bilingual> = {
  valid: { zh: '凭证真实有效：签名完好，与存档凭证逐字节一致。', en: 'Valid: the signature is intact and the file is byte-identical to the voucher on record.' },
  changed: { zh: '凭证已被改动：签名损坏，或签名后文件内容被修改或追加。', en: 'Changed: the signature is broken, or the file was modified or added to after signing.' },
  untrusted: { zh: '签名不可信：签名证书不属于本中心的签章证书链。', en: 'Untrusted: the file is signed with a certificate that does not chain to our signing root.' },
  not_ours: { zh: '签名不可信：文件由其他机构的证书签名，不是本中心出具的凭证。', en: 'Untrusted: the file is signed by another party\'s certificate, not by our voucher signer.' },
  unknown: { zh: '未找到该凭证：这不是本中心出具的凭证，或存档中没有与之一致的记录。', en: 'Unknown: this is not one of our vouchers, or no voucher on record has these bytes.' },
  not_recorded: { zh: '未找到与该文件一致的存档凭证：签名来自本中心，但存档中没有完全相同的文件。', en: 'Unknown: signed by us, but no voucher on record is byte-identical to this file.' },
  unsigned: { zh: '文件没有可识别的电子签名，不是本中心出具的凭证。', en: 'Unknown: the file carries no readable signature, so it is not one of our vouchers.' },
};

export async function checkVoucherPdf(deps: Pick<AppDeps, 'db' | 'trustRoots' | 'signer' | 'config'>, pdf: Buffer): Promise<VoucherCheck> {
  // Vouchers chain to the service's own signing chain, which need not be among the roots that
  // issuers' and banks' certificates chain to.
  const roots = [...deps.trustRoots.map((c) => forge.pki.certificateToPem(c)), ...deps.signer.chainPems];
  const r = verifyPdf(pdf, roots);
  const sha = createHash('sha256').update(pdf).digest('hex');
  let matchesRecord = false;
  let record: repo.VoucherRow | undefined;
  if (r.voucherId) {
    record = await repo.findVoucher(deps.db, r.voucherId);
    const recorded = record?.status === 'signed' ? record.pdf_sha256 : undefined;
    const audited = recorded
      ? (await listAuditEvents(deps.db, { limit: 1, entityType: 'voucher', entityId: r.voucherId, action: 'voucher.signed' })).data[0]
      : undefined;
    matchesRecord = recorded === sha && (audited?.data as { pdfSha256?: string } | undefined)?.pdfSha256 === sha;
  }
  const { verdict, message } = verdictOf(r, matchesRecord, deps.signer.fingerprint);
  return {
    verdict,
    message,
    voucher: verdict === 'valid' && record ? ((await publicSummaryOf(deps.db, deps, record)) ?? null) : null,
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

/** Broken beats untrusted beats unknown: a file whose signature does not hold (or cannot even
 *  be read where the file says it is) is "changed" whoever signed it, since that is what its
 *  holder must be told first. A file byte-identical to a record we signed is ours whatever key
 *  signed it then (keys rotate); one that is not is ours only if our current signer signed it,
 *  and an intact signature by another certificate, even one chaining to a root we trust for
 *  issuers and banks, is not a voucher of ours. */
function verdictOf(r: VerifyResult, matchesRecord: boolean, ourFingerprint: string): { verdict: VoucherVerdict; message: Bilingual } {
  if (!r.signed) return { verdict: 'unknown', message: verdictMessages.unsigned };
  if (!r.intact) return { verdict: 'changed', message: verdictMessages.changed };
  if (!r.trusted) return { verdict: 'untrusted', message: verdictMessages.untrusted };
  if (matchesRecord) return { verdict: 'valid', message: verdictMessages.valid };
  if (r.signer?.fingerprint !== ourFingerprint) return { verdict: 'untrusted', message: verdictMessages.not_ours };
  return { verdict: 'unknown', message: r.voucherId ? verdictMessages.not_recorded : verdictMessages.unknown };
}

/** The check of a file uploaded on the page of one voucher: also whether it is that voucher.
 *  An id not shown publicly answers the same 404 as the summary. */
export async function checkPdfAgainstVoucher(deps: Pick<AppDeps, 'db' | 'trustRoots' | 'signer' | 'config'>, voucherId: string, pdf: Buffer): Promise<VoucherCheck & { matchesVoucher: boolean }> {
  const shown = await getPublicVoucher(deps.db, deps, voucherId);
  const check = await checkVoucherPdf(deps, pdf);
  return { ...check, matchesVoucher: check.verdict === 'valid' && check.voucherId === shown.id };
}
