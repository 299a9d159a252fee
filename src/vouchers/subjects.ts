// Vouchers found from the records they attest. Every record that has vouchers lists them, and
// `GET /v1/vouchers?subjectId=` lists one record's, answered exactly as the record itself would
// be: a caller who may not see the record (another bidder's, a tenderee's before the opening,
// R18) gets the same 404 as for a record that does not exist.
import type { Tx } from '../db/knex';
import { findDepositIn } from '../deposits/repo';
import { r18DepositScope } from '../deposits/rules';
import { NotFound } from '../errors';
import type { Caller } from '../http/auth';
import { findReconciliation } from '../reconciliation/repo';
import { findRefund } from '../refunds/repo';
import { getVisibleGuarantee } from '../guarantees/read';
import { getVisibleRoster } from '../sections/service';
import type { VoucherKind } from './input';
import * as repo from './repo';

export interface VoucherRef {
  id: string;
  kind: VoucherKind;
  status: repo.VoucherStatus;
}

export interface SubjectVouchers {
  /** The vouchers of one subject, oldest first; none when it has none (yet). */
  of(type: repo.VoucherSubjectKind, id: string): VoucherRef[];
}

/** The vouchers of every record of a page (or of one record and what it embeds) in one query. */
export async function vouchersOfSubjects(tx: Tx, subjects: Partial<Record<repo.VoucherSubjectKind, readonly string[]>>, kind?: VoucherKind): Promise<SubjectVouchers> {
  const rows = await repo.voucherRefsOfSubjects(tx, subjects, kind);
  const byOwner = new Map<string, VoucherRef[]>();
  for (const r of rows) {
    const key = `${r.owner_type}:${r.owner_id}`;
    let list = byOwner.get(key);
    if (!list) byOwner.set(key, (list = []));
    list.push({ id: r.id, kind: r.kind, status: r.status });
  }
  return { of: (type, id) => byOwner.get(`${type}:${id}`) ?? [] };
}

/** A subject is named by its id; the prefix says which kind of record it is. */
export const subjectKindByPrefix: Record<string, repo.VoucherSubjectKind> = {
  dep: 'deposit',
  rfd: 'refund',
  gty: 'guarantee',
  rsn: 'roster',
  rcn: 'reconciliation',
};

/** Throws the subject's own 404 unless the caller may see it, with the scoping of the subject's
 *  GET route: deposits sealed from a tenderee until the opening (R18), refunds for the centre,
 *  auditors and the bidder concerned, guarantees as `canSee` says (R18), rosters for the centre,
 *  auditors and the section's tenderee, reconciliations for the centre and auditors. */
export async function requireVisibleSubject(tx: Tx, caller: Caller, type: repo.VoucherSubjectKind, id: string): Promise<void> {
  const staff = caller.role === 'centre' || caller.role === 'auditor';
  switch (type) {
    case 'deposit':
      if (caller.role === 'none' || !(await findDepositIn(tx, r18DepositScope(caller), id))) throw new NotFound('deposit', id);
      return;
    case 'refund': {
      const r = staff || caller.role === 'bidder' ? await findRefund(tx, id) : undefined;
      if (!r || (caller.role === 'bidder' && r.bidder_id !== caller.bidderId)) throw new NotFound('refund', id);
      return;
    }
    case 'guarantee':
      await getVisibleGuarantee(tx, caller, id);
      return;
    case 'roster': {
      const sectionId = staff || caller.role === 'tenderee' ? await repo.findRosterSectionId(tx, id) : undefined;
      if (!sectionId) throw new NotFound('roster', id);
      try {
        await getVisibleRoster(tx, caller, sectionId);
      } catch (e) {
        if (e instanceof NotFound) throw new NotFound('roster', id);
        throw e;
      }
      return;
    }
    case 'reconciliation':
      if (!staff || !(await findReconciliation(tx, id))) throw new NotFound('reconciliation', id);
      return;
  }
}

export interface SubjectVoucherPage {
  object: 'list';
  subject: { type: repo.VoucherSubjectKind; id: string };
  data: VoucherRef[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** The vouchers of one record the caller may see, a page at a time (a guarantee verified many
 *  times has a report per verification). */
export async function listVouchersOfSubject(
  tx: Tx,
  caller: Caller,
  query: { subjectId: string; kind?: VoucherKind; limit: number; cursor?: string },
): Promise<SubjectVoucherPage> {
  const type = subjectKindByPrefix[query.subjectId.slice(0, 3)];
  if (!type) throw new NotFound('subject', query.subjectId);
  await requireVisibleSubject(tx, caller, type, query.subjectId);
  const rows = await repo.voucherRefsOfSubjects(tx, { [type]: [query.subjectId] }, query.kind, { afterId: query.cursor, limit: query.limit + 1 });
  const hasMore = rows.length > query.limit;
  const data = rows.slice(0, query.limit).map((r) => ({ id: r.id, kind: r.kind, status: r.status }));
  return { object: 'list', subject: { type, id: query.subjectId }, data, hasMore, nextCursor: hasMore ? data[data.length - 1].id : null };
}
