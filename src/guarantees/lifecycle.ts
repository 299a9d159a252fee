// The centre's side of a guarantee's life: securing at opening, claims (R10, R12) and release
// after contract or termination. Each change is guarded by the current status, audited in the
// same transaction, and any message to the issuer goes out through the outbox.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { Conflict, NotFound, RuleViolation, assert } from '../errors';
import { formatAmount, parseAmount } from '../domain/money';
import type { Caller } from '../http/auth';
import { findIssuer, findSection, findSectionForUpdate } from '../registry/repo';
import { actorOf } from '../registry/service';
import { requestVoucher } from '../vouchers/requests';
import { queueIssuerMessage } from './messages';
import * as repo from './repo';
import { presentGuarantee } from './present';
import { checkR2Validity, isLegalTransition, winnerClaimReasons, type ClaimReason } from './rules';
import { factsOf, sectionFacts } from './service';

export interface RosterGuarantee {
  bidderId: string;
  guaranteeId: string;
  status: 'secured' | 'invalid';
  /** Rule ids that failed, for an invalid one. */
  rules: string[];
}

/** At opening (R8: a valid guarantee counts as cash): every issued or amended guarantee that
 *  still covers R2 becomes `secured`; per bidder, the guarantee the roster should show. A bidder
 *  with only rejected or lapsed guarantees is `invalid` with the rules they broke. */
export async function secureGuaranteesAtOpening(tx: Knex.Transaction, sectionId: string): Promise<RosterGuarantee[]> {
  const section = await findSectionForUpdate(tx, sectionId);
  assert(section, `no section ${sectionId}`);
  const facts = await sectionFacts(tx, section);
  const byBidder = new Map<string, RosterGuarantee>();
  for (const g of await repo.guaranteesOfSectionForUpdate(tx, sectionId)) {
    let entry: RosterGuarantee | undefined;
    if (g.status === 'issued' || g.status === 'amended') {
      const r2 = checkR2Validity(factsOf(g), facts);
      if (r2.ok) {
        assert(await repo.updateGuaranteeStatus(tx, g.id, g.status, 'secured'), `guarantee ${g.id} changed under its lock`);
        await appendAudit(tx, { actor: { type: 'system' }, action: 'guarantee.secured', entityType: 'guarantee', entityId: g.id, data: { sectionId, bidderId: g.bidder_id } });
        entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'secured', rules: [] };
      } else {
        entry = { bidderId: g.bidder_id, guaranteeId: g.id, status: 'invalid', rules: ['R2'] };
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
  return [...byBidder.values()];
}

/** R12 claims by the centre. What the records here can prove is checked: the deadline has
 *  passed (R10: before it a bidder may still withdraw freely), and the winner-only reasons need
 *  an awarded section. Whether this bidder is the winner, or withdrew, is the caller's finding,
 *  recorded with the deciding key. */
export async function claimGuarantee(tx: Knex.Transaction, caller: Caller, guaranteeId: string, input: { reason: ClaimReason; amount: string }, now = new Date()) {
  const g = await repo.findGuaranteeForUpdate(tx, guaranteeId);
  if (!g) throw new NotFound('guarantee', guaranteeId);
  if (!isLegalTransition(g.status, 'claimed')) throw new Conflict('illegal_transition', `a ${g.status} guarantee cannot be claimed`);
  const section = (await findSection(tx, g.section_id))!;
  if (now.getTime() < section.bid_deadline.getTime()) {
    throw new Conflict('claim_before_deadline', `the bid deadline ${section.bid_deadline.toISOString()} has not passed; a claim needs one of the R12 grounds, all after the deadline (R10)`, 'R10');
  }
  if (winnerClaimReasons.includes(input.reason) && !['awarded', 'contracted'].includes(section.status)) {
    throw new Conflict('claim_needs_award', `${input.reason} concerns the winner; section ${section.id} is ${section.status}, not awarded`, 'R12');
  }
  const amountFen = parseAmount(input.amount);
  if (amountFen > g.amount_fen) {
    throw new RuleViolation('R12', 'claim_exceeds_guarantee', `claim ${formatAmount(amountFen)} exceeds the guarantee amount ${formatAmount(g.amount_fen)}`, 'amount');
  }
  const claimedAt = now;
  assert(
    await repo.updateGuaranteeStatus(tx, g.id, g.status, 'claimed', { claim_reason: input.reason, claim_amount_fen: amountFen, claimed_by: caller.keyId, claimed_at: claimedAt }),
    `guarantee ${g.id} changed under its lock`,
  );
  const issuer = (await findIssuer(tx, g.issuer_id))!;
  const messageId = issuer.callback_url
    ? await queueIssuerMessage(tx, {
        issuerId: issuer.id,
        kind: 'claim',
        subjectId: g.id,
        url: issuer.callback_url,
        payload: { guaranteeId: g.id, number: g.number, reason: input.reason, amount: formatAmount(amountFen), currency: g.currency, beneficiary: { uscc: g.beneficiary_uscc, name: g.beneficiary_name }, claimedAt: claimedAt.toISOString() },
      })
    : null;
  const voucherId = await requestVoucher(tx, {
    kind: 'claim_notice',
    subjectType: 'guarantee_claim',
    subjectId: g.id,
    sectionId: g.section_id,
    bidderId: g.bidder_id,
    data: { guaranteeId: g.id, issuerId: g.issuer_id, number: g.number, reason: input.reason, amountFen, guaranteeAmountFen: g.amount_fen, decidedBy: caller.keyId, claimedAt: claimedAt.toISOString() },
  });
  await appendAudit(tx, { actor: actorOf(caller), action: 'guarantee.claimed', entityType: 'guarantee', entityId: g.id, data: { reason: input.reason, amountFen, messageId, voucherId } });
  return { ...presentGuarantee((await repo.findGuarantee(tx, g.id))!), voucherId };
}

/** After the contract (R11) or a termination (R16) every guarantee still standing is released and
 *  its issuer told. Claimed guarantees stay with their claim. Returns the released ids. */
export async function releaseGuaranteesForSection(tx: Knex.Transaction, sectionId: string, reason: 'contract' | 'termination', actor: Actor): Promise<string[]> {
  const released: string[] = [];
  for (const g of await repo.guaranteesOfSectionForUpdate(tx, sectionId)) {
    if (!['issued', 'amended', 'secured'].includes(g.status)) continue;
    assert(await repo.updateGuaranteeStatus(tx, g.id, g.status, 'released', { release_reason: reason, released_at: new Date() }), `guarantee ${g.id} changed under its lock`);
    const issuer = (await findIssuer(tx, g.issuer_id))!;
    if (issuer.callback_url) {
      await queueIssuerMessage(tx, { issuerId: issuer.id, kind: 'release', subjectId: g.id, url: issuer.callback_url, payload: { guaranteeId: g.id, number: g.number, reason } });
    }
    await appendAudit(tx, { actor, action: 'guarantee.released', entityType: 'guarantee', entityId: g.id, data: { sectionId, reason, from: g.status } });
    released.push(g.id);
  }
  return released;
}

