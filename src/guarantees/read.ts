// Reading guarantees and verifying them (验真). R18: before opening nobody but the bidder itself
// and the centre's operators (and auditors) may learn who secured a section, so a tenderee sees
// nothing of its sections' guarantees while they are `open`: 404 for one, an empty list.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { NotFound } from '../errors';
import { businessDate } from '../domain/time';
import type { RuleCheck } from '../domain/rules';
import type { Caller } from '../http/auth';
import { paginate } from '../http/pagination';
import { findSection } from '../registry/repo';
import { actorOf } from '../registry/service';
import { requestVoucher } from '../vouchers/requests';
import * as repo from './repo';
import { presentGuarantee } from './present';
import { inForceStatuses } from './rules';

type Db = Knex | Knex.Transaction;

/** Whether the caller may see this guarantee at all; an invisible one is answered as absent. */
export async function canSee(db: Db, caller: Caller, g: repo.GuaranteeRow): Promise<boolean> {
  if (caller.role === 'centre' || caller.role === 'auditor') return true;
  if (caller.role === 'bidder') return caller.bidderId === g.bidder_id;
  if (caller.role === 'tenderee') {
    const s = await findSection(db, g.section_id);
    return !!s && s.tenderee_id === caller.tendereeId && s.status !== 'open';
  }
  return false;
}

export async function getVisibleGuarantee(db: Db, caller: Caller, id: string): Promise<repo.GuaranteeRow> {
  const g = await repo.findGuarantee(db, id);
  if (!g || !(await canSee(db, caller, g))) throw new NotFound('guarantee', id);
  return g;
}

export async function listGuarantees(db: Db, caller: Caller, query: { limit: number; cursor?: string; sectionId?: string; bidderId?: string; status?: string }) {
  const q = db('guarantees as g').select('g.*');
  if (query.sectionId) q.where('g.section_id', query.sectionId);
  if (query.bidderId) q.where('g.bidder_id', query.bidderId);
  if (query.status) q.where('g.status', query.status);
  if (caller.role === 'bidder') q.where('g.bidder_id', caller.bidderId!);
  if (caller.role === 'tenderee') {
    q.join('sections as s', 's.id', 'g.section_id').where('s.tenderee_id', caller.tendereeId!).whereNot('s.status', 'open');
  }
  return paginate(q, { ...query, idColumn: 'g.id' }, (r: repo.GuaranteeRow) => presentGuarantee(r));
}

/** 验真: authentic means this issuer sent the guarantee to us through a signed webhook (every
 *  record here came that way) and, when a document hash is given, the document is the one it
 *  signed for. The report is a voucher per guarantee, hash asked and status seen, so asking the
 *  same question again returns the same report while a changed answer gets a new one. */
export async function verifyGuarantee(
  tx: Knex.Transaction,
  caller: Caller,
  query: { issuerId: string; number: string; documentSha256?: string },
  now = new Date(),
) {
  const found = await repo.findGuaranteeByNumber(tx, query.issuerId, query.number);
  const g = found && (await canSee(tx, caller, found)) ? found : undefined;
  if (!g) {
    // Unknown, or not the caller's to know about: the same plain answer either way.
    return {
      authentic: false,
      status: 'unknown',
      guarantee: null,
      checks: [{ rule: 'record', ok: false, detail: `no guarantee ${query.number} from issuer ${query.issuerId} is on record` }],
      voucherId: null,
    };
  }
  const checks: RuleCheck[] = [
    { rule: 'signature', ok: true, detail: `issued by ${g.issuer_id} through a webhook signed with certificate ${g.certificate_fingerprint}` },
  ];
  if (query.documentSha256 !== undefined) {
    const same = query.documentSha256 === g.document_sha256;
    checks.push({ rule: 'document', ok: same, detail: same ? 'the document is the one the issuer signed for' : 'the document differs from the one the issuer signed for' });
  }
  const today = businessDate(now);
  const inForce = inForceStatuses.includes(g.status) && g.valid_to >= today;
  checks.push({ rule: 'in_force', ok: inForce, detail: inForce ? `${g.status}, valid until ${g.valid_to}` : `${g.status}, valid ${g.valid_from} to ${g.valid_to}; not in force on ${today}` });
  checks.push(...g.checks);
  const authentic = query.documentSha256 === undefined || query.documentSha256 === g.document_sha256;
  const voucherId = await requestVoucher(tx, {
    kind: 'verification_report',
    subjectType: 'guarantee_verification',
    subjectId: `${g.id}.${query.documentSha256 ?? 'nohash'}.${g.status}`,
    sectionId: g.section_id,
    bidderId: g.bidder_id,
    data: {
      guaranteeId: g.id,
      issuerId: g.issuer_id,
      number: g.number,
      kind: g.kind,
      amountFen: g.amount_fen,
      validFrom: g.valid_from,
      validTo: g.valid_to,
      status: g.status,
      documentSha256: g.document_sha256,
      documentSha256Asked: query.documentSha256 ?? null,
      authentic,
      checks,
    },
  });
  await appendAudit(tx, { actor: actorOf(caller), action: 'guarantee.verified', entityType: 'guarantee', entityId: g.id, data: { authentic, status: g.status, voucherId } });
  return { authentic, status: g.status, guarantee: presentGuarantee(g), checks, voucherId };
}
