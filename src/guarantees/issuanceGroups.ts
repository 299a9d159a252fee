// Issuances committed in groups (db/groupCommit.ts): in a deadline rush issuers send dozens of
// guarantees in the last minutes, and those that arrive together are committed in one
// transaction, their event ids claimed in one statement and their guarantees written in another,
// each judged in arrival order exactly as alone (its own claim, checks, R7's one-live check
// against the ones before it, answer and audit events).
// An issuance refused (a rule that leaves nothing to record, a reused event id) fails its group,
// whose issuances are then committed one by one, so the refusal is its answer alone.
import { groupCommitterOf, type GroupCommitSpec } from '../db/groupCommit';
import type { AppDeps } from '../http/deps';
import { receiveIssuance, receiveIssuances, type IssuanceInput, type WebhookAnswer } from './service';

/** Issuances committed in one transaction at most. */
export const issuanceGroupUnitsMax = 16;
export const issuanceWork: GroupCommitSpec<IssuanceInput, WebhookAnswer> = {
  work: 'issuances',
  unitsMax: issuanceGroupUnitsMax,
  // Issuers' guarantees may share a transaction: each is claimed and judged on its own.
  groupKey: () => 'issuances',
  unitKey: (u) => `${u.sender.id}\u0000${u.body.eventId}`,
  // Alone (a quiet moment, or a group committed again one by one), an issuance also settles a
  // race lost at insert itself (service.ts, recordGuarantee).
  act: async (tx, units) =>
    units.length === 1
      ? [{ value: await receiveIssuance(tx, units[0].sender, units[0].body, units[0].rawBody) }]
      : (await receiveIssuances(tx, units)).map((value) => ({ value })),
};

/** A signed issuance, answered once it is committed. */
export function receiveIssuanceGrouped(deps: AppDeps, unit: IssuanceInput): Promise<WebhookAnswer> {
  const committer = groupCommitterOf(
    deps,
    issuanceWork.work,
    () => issuanceWork,
  );
  return committer.submit(unit, deps);
}
