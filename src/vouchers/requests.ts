// The seam every capability calls at its events: a voucher is requested in the event's own
// transaction (so an event never lacks its voucher, and a rolled-back event has none), then
// rendered and signed off the request path by the vouchers queue.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { canonicalJson, toJsonSafe } from '../audit/canonical';
import { newId } from '../domain/ids';
import { enqueueJob } from '../queue/outbox';
import type { VoucherKind } from './input';
import * as repo from './repo';

export type { VoucherKind } from './input';

export interface VoucherRequest {
  kind: VoucherKind;
  /** The record the voucher attests (a deposit, refund, guarantee, roster, reconciliation). */
  subjectType: string;
  subjectId: string;
  sectionId?: string;
  /** The bidder concerned: it may read the voucher. */
  bidderId?: string;
  /** What the voucher shows, frozen at the event (amounts as bigint fen are kept exactly). */
  data: Record<string, unknown>;
}

/** One voucher per kind and subject: asking again returns the first. */
export async function requestVoucher(tx: Knex.Transaction, req: VoucherRequest): Promise<string> {
  const data = toJsonSafe(req.data) as Record<string, unknown>;
  const recordSha256 = createHash('sha256').update(canonicalJson({ kind: req.kind, subjectType: req.subjectType, subjectId: req.subjectId, data })).digest('hex');
  const id = newId('vch');
  const inserted = await repo.insertVoucher(tx, {
    id,
    kind: req.kind,
    subject_type: req.subjectType,
    subject_id: req.subjectId,
    section_id: req.sectionId ?? null,
    bidder_id: req.bidderId ?? null,
    data,
    record_sha256: recordSha256,
  });
  if (!inserted) {
    const existing = await repo.findVoucherIdOf(tx, req.kind, req.subjectType, req.subjectId);
    if (!existing) throw new Error(`assertion: voucher ${req.kind} of ${req.subjectType} ${req.subjectId} conflicted but is not on record`);
    return existing;
  }
  await enqueueJob(tx, { queue: 'vouchers', name: 'render', jobId: `render.${id}`, payload: { voucherId: id } });
  return id;
}

/** requestVoucher for each request, in a fixed number of statements (a batch of events, such as
 *  a bank file's thousands of deposits): the voucher ids, in the order of the requests. */
export async function requestVouchers(tx: Knex.Transaction, reqs: VoucherRequest[]): Promise<string[]> {
  const rows = reqs.map((req) => {
    const data = toJsonSafe(req.data) as Record<string, unknown>;
    const recordSha256 = createHash('sha256').update(canonicalJson({ kind: req.kind, subjectType: req.subjectType, subjectId: req.subjectId, data })).digest('hex');
    return { id: newId('vch'), kind: req.kind, subject_type: req.subjectType, subject_id: req.subjectId, section_id: req.sectionId ?? null, bidder_id: req.bidderId ?? null, data, record_sha256: recordSha256 };
  });
  const inserted = await repo.insertVouchers(tx, rows);
  const ids: string[] = [];
  for (const row of rows) {
    if (inserted.has(row.id)) ids.push(row.id);
    else {
      const existing = await repo.findVoucherIdOf(tx, row.kind, row.subject_type, row.subject_id);
      if (!existing) throw new Error(`assertion: voucher ${row.kind} of ${row.subject_type} ${row.subject_id} conflicted but is not on record`);
      ids.push(existing);
    }
  }
  return ids;
}
