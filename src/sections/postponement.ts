// Postponed bid deadlines (延期开标): the centre moves the deadline of an open section later,
// before it passes, with a reason on record. From then on every rule judged against the
// deadline (R2, R3, the credit grade R4 reduces for) is judged against the new one; guarantees
// that no longer cover R2's window are sent extension requests in the same transaction.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { Conflict, NotFound, Unprocessable, assert } from '../errors';
import type { Caller } from '../http/auth';
import { actorOf } from '../registry/service';
import { requestExtensions, type ExtensionRequest } from '../guarantees/extensions';
import { countPostponements, insertPostponement, moveDeadline } from './postponementRepo';
import * as repo from './repo';
import type { LifecycleSection } from './repo';

/** How far one postponement may move the deadline: far beyond any real one, near enough to
 *  catch a mistyped year. */
export const postponementDaysMax = 365;
/** Postponements of one section: a tender postponed this often is a tender to terminate. */
export const postponementsPerSectionMax = 20;
const dayMs = 86_400_000;

export async function postponeSection(
  tx: Knex.Transaction,
  caller: Caller,
  sectionId: string,
  input: { bidDeadline: string; reason: string },
  now = new Date(),
): Promise<{ section: LifecycleSection; postponementId: string; extensionRequests: ExtensionRequest[] }> {
  const s = await repo.lockLifecycleSection(tx, sectionId);
  if (!s) throw new NotFound('section', sectionId);
  if (s.status !== 'open') throw new Conflict('illegal_transition', `a section in status ${s.status} cannot be postponed`);
  // R3: the deadline fixed who was in time; moving it once passed would let the late in.
  if (now.getTime() >= s.bid_deadline.getTime()) {
    throw new Conflict('deadline_passed', `the bid deadline ${s.bid_deadline.toISOString()} has passed: it can no longer be postponed`, 'R3');
  }
  const next = new Date(input.bidDeadline);
  if (next.getTime() <= s.bid_deadline.getTime()) {
    throw new Unprocessable('deadline_not_later', `a postponement moves the deadline later than ${s.bid_deadline.toISOString()}`, 'bidDeadline');
  }
  if (next.getTime() - s.bid_deadline.getTime() > postponementDaysMax * dayMs) {
    throw new Unprocessable('postponement_too_long', `a postponement moves the deadline by at most ${postponementDaysMax} days`, 'bidDeadline');
  }
  if ((await countPostponements(tx, sectionId)) >= postponementsPerSectionMax) {
    throw new Conflict('too_many_postponements', `section ${sectionId} has been postponed ${postponementsPerSectionMax} times already`);
  }
  const moved = await moveDeadline(tx, sectionId, s.bid_deadline, next);
  assert(moved, `section ${sectionId} kept its deadline under its lock`);
  const postponementId = await insertPostponement(tx, { section_id: sectionId, previous_deadline: s.bid_deadline, bid_deadline: next, reason: input.reason, requested_by: caller.keyId });
  const actor = actorOf(caller);
  const section = (await repo.findLifecycleSection(tx, sectionId))!;
  const extensionRequests = await requestExtensions(tx, section, s.bid_deadline, actor);
  await appendAudit(tx, {
    actor,
    action: 'section.postponed',
    entityType: 'section',
    entityId: sectionId,
    data: { postponementId, previousDeadline: s.bid_deadline.toISOString(), bidDeadline: next.toISOString(), reason: input.reason, extensionRequests: extensionRequests.length },
  });
  return { section, postponementId, extensionRequests };
}
