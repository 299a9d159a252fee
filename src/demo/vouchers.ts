// Every voucher the demo's section produced, fetched once signed, written to the output folder
// and checked back with POST /v1/vouchers/verify. Vouchers are found the way an auditor finds
// them: the `voucher.signed` events of the audit log since the demo began, for the demo's own
// subjects (deposits, refunds, the roster), plus the ids the API handed out directly
// (verification reports, the reconciliation report).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { call, httpConcurrency, mapLimit, sleep, type Client } from './http';
import type { Progress } from './progress';

/** Vouchers are rendered and signed by the worker; this bounds the wait for the last ones. */
export const vouchersWaitMs = 150_000;
export const vouchersPollMs = 1_000;
/** Audit pages read per poll (100 events each). */
export const auditPagesPerPollMax = 500;

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
  /** Subjects whose voucher is found in the audit log (deposit, refund and roster ids). */
  subjects: Set<string>;
  /** Vouchers whose ids are already known. */
  ids: Set<string>;
}

/** Waits until every wanted voucher is signed; returns id → kind. */
async function signedVouchers(auditor: Client, fromCursor: string, wanted: VoucherWanted, step: { tick(): void }): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const subjectsSeen = new Set<string>();
  let cursor = fromCursor;
  const deadline = Date.now() + vouchersWaitMs;
  const total = wanted.subjects.size + wanted.ids.size;
  for (;;) {
    for (let page = 0; page < auditPagesPerPollMax; page++) {
      const res = await auditor.get(`/v1/audit?action=voucher.signed&limit=100&cursor=${cursor}`);
      for (const e of res.data) {
        const id = e.entity.id as string;
        const subject = e.data.subjectId as string;
        if ((wanted.subjects.has(subject) || wanted.ids.has(id)) && !found.has(id)) {
          found.set(id, e.data.kind);
          if (wanted.subjects.has(subject)) subjectsSeen.add(subject);
          step.tick();
        }
        cursor = e.seq;
      }
      if (!res.hasMore) break;
    }
    const idsSeen = [...wanted.ids].filter((id) => found.has(id)).length;
    if (subjectsSeen.size + idsSeen >= total) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for vouchers: ${subjectsSeen.size + idsSeen} of ${total} signed`);
    await sleep(vouchersPollMs);
  }
}

export async function collectVouchers(apiUrl: string, auditor: Client, auditCursor: string, wanted: VoucherWanted, dir: string, progress: Progress): Promise<VoucherFile[]> {
  mkdirSync(dir, { recursive: true });
  const total = wanted.subjects.size + wanted.ids.size;
  const signing = progress.step('vouchers signed by the worker', total);
  const signed = await signedVouchers(auditor, auditCursor, wanted, signing);
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
      // Anyone may check a voucher: no key, just the PDF.
      const v = (await call('POST', `${apiUrl}/v1/vouchers/verify`, { raw: pdf, contentType: 'application/pdf' })).body;
      return { id, kind, file, bytes: pdf.length, valid: v.valid === true, matchesRecord: v.matchesRecord === true, reason: v.reason } satisfies VoucherFile;
    },
    step.tick,
  );
  step.done(`written to ${dir}`);
  return files;
}
