// Every voucher the demo's section produced, fetched once signed, written to the output folder
// and checked back with POST /v1/vouchers/verify. Vouchers are found the way the console finds
// them, from the records they attest (GET /v1/vouchers?subjectId=: deposits, refunds, the
// roster), plus the ids the API handed out directly (verification reports, the reconciliation
// report).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { httpConcurrency, listAll, mapLimit, sleep, type Client } from './http';
import type { Progress } from './progress';

/** Vouchers are rendered and signed by the worker; this bounds the wait for the last ones. */
export const vouchersWaitMs = 150_000;
export const vouchersPollMs = 1_000;
/** Pages of one record's vouchers (100 each): a record has a handful. */
export const subjectVoucherPagesMax = 10;

export interface VoucherFile {
  id: string;
  kind: string;
  file: string;
  bytes: number;
  valid: boolean;
  matchesRecord: boolean;
  reason?: string;
}

export interface VoucherWanted {
  /** Records whose vouchers are all wanted (deposit, refund and roster ids). */
  subjects: Set<string>;
  /** Vouchers whose ids are already known. */
  ids: Set<string>;
}

interface VoucherRef {
  id: string;
  kind: string;
  status: 'pending' | 'signed' | 'failed';
}

function refuseFailed(v: VoucherRef, of: string): void {
  // A failed voucher is never signed: waiting for it would only end at the timeout.
  if (v.status === 'failed') throw new Error(`voucher ${v.id} (${v.kind}) of ${of} could not be rendered`);
}

/** Waits until every wanted subject has its vouchers and all of them are signed, and every
 *  wanted id is signed; returns id → kind. */
async function signedVouchers(auditor: Client, wanted: VoucherWanted, step: { tick(): void }): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const subjectsLeft = new Set(wanted.subjects);
  const idsLeft = new Set(wanted.ids);
  const deadline = Date.now() + vouchersWaitMs;
  for (;;) {
    await mapLimit([...subjectsLeft], httpConcurrency, async (subjectId) => {
      const vouchers = await listAll<VoucherRef>(auditor, `/v1/vouchers?subjectId=${subjectId}`, subjectVoucherPagesMax);
      for (const v of vouchers) refuseFailed(v, subjectId);
      if (vouchers.length === 0 || vouchers.some((v) => v.status !== 'signed')) return;
      for (const v of vouchers) found.set(v.id, v.kind);
      subjectsLeft.delete(subjectId);
      step.tick();
    });
    await mapLimit([...idsLeft], httpConcurrency, async (id) => {
      const v = await auditor.get<VoucherRef>(`/v1/vouchers/${id}`);
      refuseFailed(v, id);
      if (v.status !== 'signed') return;
      found.set(id, v.kind);
      idsLeft.delete(id);
      step.tick();
    });
    if (subjectsLeft.size + idsLeft.size === 0) return found;
    if (Date.now() > deadline) {
      const total = wanted.subjects.size + wanted.ids.size;
      throw new Error(`timed out waiting for vouchers: ${total - subjectsLeft.size - idsLeft.size} of ${total} signed`);
    }
    await sleep(vouchersPollMs);
  }
}

/** The first and third parameters are unused: the auditor's client knows the address, and
 *  vouchers are found from their subjects rather than from the audit log after a cursor. */
export async function collectVouchers(_apiUrl: string, auditor: Client, _auditCursor: string, wanted: VoucherWanted, dir: string, progress: Progress): Promise<VoucherFile[]> {
  mkdirSync(dir, { recursive: true });
  const total = wanted.subjects.size + wanted.ids.size;
  const signing = progress.step('vouchers signed by the worker', total);
  const signed = await signedVouchers(auditor, wanted, signing);
  signing.done();
  const entries = [...signed.entries()].sort(([a], [b]) => a.localeCompare(b));
  const step = progress.step('vouchers fetched and verified', entries.length);
  const files = await mapLimit(
    entries,
    httpConcurrency,
    async ([id, kind]) => {
      const pdf = (await auditor.request<Buffer>('GET', `/v1/vouchers/${id}/pdf`)).body;
      const file = path.join(dir, `${kind}-${id}.pdf`);
      writeFileSync(file, pdf);
      // Anyone may check a voucher with just the PDF; the auditor's key makes hundreds of checks
      // count against its own budget instead of the few a minute an anonymous address gets.
      const v = (await auditor.request('POST', '/v1/vouchers/verify', { raw: pdf, contentType: 'application/pdf' })).body;
      return { id, kind, file, bytes: pdf.length, valid: v.valid === true, matchesRecord: v.matchesRecord === true, reason: v.reason } satisfies VoucherFile;
    },
    step.tick,
  );
  step.done(`written to ${dir}`);
  return files;
}
