// A guarantee's part in the section lifecycle: securing at opening and release after contract
// or termination. Each change is guarded by the current status, audited in the same
// transaction, and any message to the issuer goes out through the outbox.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { assert } from '../errors';
import { findIssuer, findSectionForUpdate } from '../registry/repo';
import { queueIssuerMessage } from './messages';
import * as repo from './repo';
import { checkR2Validity, checkR4Amount, factsOf } from './rules';
import { requirementKey, requirementsFor } from '../credit/service';
import { sectionFacts } from './service';

export interface RosterGuarantee {
  bidderId: string;
  guaranteeId: string;
  status: 'secured' | 'invalid';
  /** Rule ids that failed, for an invalid one. */
  rules: string[];
}

/** At opening (R8: a valid guarantee counts as cash): every issued or amended guarantee that
 *  still covers R2, and R4 for its bidder's credit grade at the deadline as it now stands (a
 *  postponement may outlast the grade that reduced it), becomes `secured`; per bidder, the
 *  guarantee the roster should show. A bidder with only rejected or lapsed guarantees is
 *  `invalid` with the rules they broke. */
export async function secureGuaranteesAtOpening(tx: Knex.Transaction, sectionId: string): Promise<RosterGuarantee[]> {
  const section = await findSectionForUpdate(tx, sectionId);
  assert(section, `no section ${sectionId}`);
  const facts = await sectionFacts(tx, section);
  const byBidder = new Map<string, RosterGuarantee>();
  const securedNow: { id: string; bidderId: string }[] = [];
  const guarantees = await repo.guaranteesOfSectionForUpdate(tx, sectionId);
  const requirements = await requirementsFor(tx, guarantees.map((g) => ({ section, bidderId: g.bidder_id })));
  for (const g of guarantees) {
    let entry: RosterGuarantee | undefined;
    if (g.status === 'issued' || g.status === 'amended') {
      const r2 = checkR2Validity(factsOf(g), facts);
      const r4 = checkR4Amount(factsOf(g), { ...facts, requirement: requirements.get(requirementKey(sectionId, g.bidder_id)) });
      if (r2.ok && r4.ok) {
        securedNow.push({ id: g.id, bidderId: g.bidder_id });
        entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'secured', rules: [] };
      } else {
        entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'invalid', rules: [r2, r4].filter((c) => !c.ok).map((c) => c.rule) };
      }
    } else if (g.status === 'secured') {
      entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'secured', rules: [] };
    } else if (g.status === 'rejected') {
      entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'invalid', rules: g.checks.filter((c) => !c.ok).map((c) => c.rule) };
    }
    if (!entry) continue;
    const seen = byBidder.get(g.bidder_id);
    if (!seen || (seen.status !== 'secured' && entry.status === 'secured')) byBidder.set(g.bidder_id, entry);
  }
  // One statement for the section, whatever its size: the rows are locked above, so every one
  // of them is still issued or amended.
  const moved = await repo.secureIssuedGuarantees(tx, securedNow.map((g) => g.id));
  assert(moved === securedNow.length, `guarantees of ${sectionId} changed under their lock (${moved} of ${securedNow.length} secured)`);
  for (const g of securedNow) {
    await appendAudit(tx, { actor: { type: 'system' }, action: 'guarantee.secured', entityType: 'guarantee', entityId: g.id, data: { sectionId, bidderId: g.bidderId } });
  }
  return [...byBidder.values()];
}

/** After the contract (R11) or a termination (R16) every guarantee still standing is released and
 *  its issuer told. Claimed guarantees stay with their claim. Returns the released ids. */
export async function releaseGuaranteesForSection(tx: Knex.Transaction, sectionId: string, reason: 'contract' | 'termination', actor: Actor): Promise<string[]> {
  const standing = (await repo.guaranteesOfSectionForUpdate(tx, sectionId)).filter((g) => ['issued', 'amended', 'secured'].includes(g.status));
  // One statement for the section, whatever its size: the rows are locked above.
  const moved = await repo.releaseGuarantees(tx, standing.map((g) => g.id), { release_reason: reason, released_at: new Date() });
  assert(moved === standing.length, `guarantees of ${sectionId} changed under their lock (${moved} of ${standing.length} released)`);
  const issuers = new Map<string, Awaited<ReturnType<typeof findIssuer>>>();
  for (const g of standing) {
    if (!issuers.has(g.issuer_id)) issuers.set(g.issuer_id, await findIssuer(tx, g.issuer_id));
    const issuer = issuers.get(g.issuer_id)!;
    if (issuer.callback_url) {
      await queueIssuerMessage(tx, { issuerId: issuer.id, kind: 'release', subjectId: g.id, url: issuer.callback_url, payload: { guaranteeId: g.id, number: g.number, reason } });
    }
    await appendAudit(tx, { actor, action: 'guarantee.released', entityType: 'guarantee', entityId: g.id, data: { sectionId, reason, from: g.status } });
  }
  return standing.map((g) => g.id);
}

