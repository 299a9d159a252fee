// The seam every capability calls at its events: a voucher is requested in the event's own
// transaction (so an event never lacks its voucher, and a rolled-back event has none), then
// rendered and signed off the request path by the vouchers queue.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { canonicalJson, toJsonSafe } from '../audit/canonical';
import { newId } from '../domain/ids';
import { enqueueJob } from '../queue/outbox';

export type VoucherKind = 'deposit_receipt' | 'refund_voucher' | 'verification_report' | 'opening_roster' | 'claim_notice' | 'reconciliation_report';

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
  const inserted = await tx('vouchers')
    .insert({
      id,
      kind: req.kind,
      subject_type: req.subjectType,
      subject_id: req.subjectId,
      section_id: req.sectionId ?? null,
      bidder_id: req.bidderId ?? null,
      data: JSON.stringify(data),
      record_sha256: recordSha256,
    })
    .onConflict(['kind', 'subject_type', 'subject_id'])
    .ignore()
    .returning('id');
  if (inserted.length === 0) {
    const existing = await tx('vouchers').where({ kind: req.kind, subject_type: req.subjectType, subject_id: req.subjectId }).first('id');
    return existing.id;
  }
  await enqueueJob(tx, { queue: 'vouchers', name: 'render', jobId: `render.${id}`, payload: { voucherId: id } });
  return id;
}
