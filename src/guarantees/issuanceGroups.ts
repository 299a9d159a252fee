// Issuances committed in groups (db/groupCommit.ts): in a deadline rush issuers send dozens of
// guarantees in the last minutes, and those that arrive together are committed in one
// transaction, one after the other in arrival order, each exactly as alone (its own claim of its
// event id, checks, R7's one-live check against the ones before it, answer and audit events).
// An issuance refused (a rule that leaves nothing to record, a reused event id) fails its group,
// whose issuances are then committed one by one, so the refusal is its answer alone.
import { groupCommitterOf, type GroupCommitSpec } from '../db/groupCommit';
import type { AppDeps } from '../http/deps';
import type { WebhookSender } from '../http/webhookAuth';
import type { IssuanceBody } from './schemas';
import { receiveIssuance, type WebhookAnswer } from './service';

/** Issuances committed in one transaction at most. */
export const issuanceGroupUnitsMax = 16;
/** Groups in their transactions at once. An issuance's statements are its own (not one set for
 *  the group, as a notice's credits are), so a group runs them one after the other on one
 *  connection: with a single group in flight PostgreSQL's other core would wait. */
export const issuanceGroupsInFlightMax = 3;

export interface IssuanceUnit {
  sender: WebhookSender;
  body: IssuanceBody;
  rawBody: Buffer;
}

export const issuanceWork: GroupCommitSpec<IssuanceUnit, WebhookAnswer> = {
  work: 'issuances',
  unitsMax: issuanceGroupUnitsMax,
  inFlightMax: issuanceGroupsInFlightMax,
  // Issuers' guarantees may share a transaction: each is claimed and judged on its own.
  groupKey: () => 'issuances',
  unitKey: (u) => `${u.sender.id}\u0000${u.body.eventId}`,
  act: async (tx, units) => {
    const outcomes = [];
    for (const u of units) outcomes.push({ value: await receiveIssuance(tx, u.sender, u.body, u.rawBody) });
    return outcomes;
  },
};

/** A signed issuance, answered once it is committed. */
export function receiveIssuanceGrouped(deps: AppDeps, unit: IssuanceUnit): Promise<WebhookAnswer> {
  const committer = groupCommitterOf(
    deps,
    issuanceWork.work,
    () => issuanceWork,
  );
  return committer.submit(unit, deps.log);
}
