// Reading guarantees. R18: before the opening nobody but the bidder itself and the centre's
// operators (and auditors) may learn who secured a section, so a tenderee sees nothing of its
// sections' guarantees until the opening: 404 for one, an empty list. A section terminated
// before its opening never opened, and its tenderee never learns who secured it.
import type { Tx } from '../db/knex';
import { r18TendereeMayLearnSecurities } from '../domain/rules';
import { NotFound, assert } from '../errors';
import type { Caller } from '../http/auth';
import { paginate } from '../http/pagination';
import { findSection } from '../registry/repo';
import * as repo from './repo';

/** Whether the caller may see this guarantee at all; an invisible one is answered as absent. */
export async function canSee(db: Tx, caller: Caller, g: repo.GuaranteeRow): Promise<boolean> {
  if (caller.role === 'centre' || caller.role === 'auditor') return true;
  if (caller.role === 'bidder') return caller.bidderId === g.bidder_id;
  if (caller.role === 'tenderee') {
    const s = await findSection(db, g.section_id);
    return !!s && s.tenderee_id === caller.tendereeId && r18TendereeMayLearnSecurities({ openedAt: s.opened_at });
  }
  return false;
}

export async function getVisibleGuarantee(db: Tx, caller: Caller, id: string): Promise<repo.GuaranteeRow> {
  const g = await repo.findGuarantee(db, id);
  if (!g || !(await canSee(db, caller, g))) throw new NotFound('guarantee', id);
  return g;
}

function scopeOf(caller: Caller): repo.GuaranteeScope {
  if (caller.role === 'bidder') return { bidderId: caller.bidderId! };
  // The query keeps a tenderee to its sections that have opened, as canSee does (R18).
  if (caller.role === 'tenderee') return { tendereeId: caller.tendereeId! };
  assert(caller.role === 'centre' || caller.role === 'auditor', `role ${caller.role} may list guarantees`);
  return { all: true };
}

export function listGuarantees(db: Tx, caller: Caller, query: { limit: number; cursor?: string; sectionId?: string; bidderId?: string; status?: string }) {
  return paginate(repo.guaranteesQuery(db, scopeOf(caller), query), { ...query, idColumn: 'g.id' }, (r: repo.GuaranteeRow) => r);
}
