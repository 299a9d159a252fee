// A postponed bid deadline (延期开标) moves R2's window: a guarantee must be valid from no later
// than the new deadline's date until that date plus the bid-validity days. Every guarantee in
// force that no longer covers the window is sent an extension request, signed like an
// application, naming the validity now needed; the issuer answers with the usual `amended`
// event. One not extended by the deadline fails R2 at the opening, which judges against the
// section's deadline as it then stands. Its bidder is told through the audit log's events.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { requiredValidUntil } from '../domain/rules';
import { toBusinessDate } from '../domain/time';
import { findIssuer, type SectionRow } from '../registry/repo';
import { queueIssuerMessage } from './messages';
import * as repo from './repo';
import { checkR2Validity, factsOf } from './rules';
import { sectionFacts } from './service';

/** Statuses in which a guarantee stands for its bidder before the opening and can still be
 *  amended by its issuer. */
const extendable = ['issued', 'amended'] as const;

export interface ExtensionRequest {
  guaranteeId: string;
  bidderId: string;
  issuerId: string;
  /** The signed message to the issuer; null when the issuer registered no callbackUrl. */
  messageId: string | null;
}

/** Sends an extension request for each guarantee of the section, judged against its new
 *  deadline (`section` as it stands after the postponement), that no longer covers R2. */
export async function requestExtensions(tx: Knex.Transaction, section: SectionRow, previousDeadline: Date, actor: Actor): Promise<ExtensionRequest[]> {
  const facts = await sectionFacts(tx, section);
  const validFromRequired = toBusinessDate(section.bid_deadline);
  const validUntilRequired = requiredValidUntil(section.bid_deadline, section.bid_validity_days);
  const requests: ExtensionRequest[] = [];
  for (const g of await repo.guaranteesOfSectionForUpdate(tx, section.id)) {
    if (!(extendable as readonly string[]).includes(g.status)) continue;
    const r2 = checkR2Validity(factsOf(g), facts);
    if (r2.ok) continue;
    const issuer = await findIssuer(tx, g.issuer_id);
    const messageId = issuer?.callback_url
      ? await queueIssuerMessage(tx, {
          issuerId: issuer.id,
          kind: 'extension_request',
          subjectId: g.id,
          url: issuer.callback_url,
          payload: {
            guaranteeId: g.id,
            number: g.number,
            section: { id: section.id, projectCode: section.project_code, sectionCode: section.section_code, name: section.name },
            previousDeadline: previousDeadline.toISOString(),
            bidDeadline: section.bid_deadline.toISOString(),
            validFrom: g.valid_from,
            validTo: g.valid_to,
            validFromRequired,
            validUntilRequired,
            reason: r2.detail,
            answerTo: { amended: `/v1/issuers/${issuer.id}/guarantees/${encodeURIComponent(g.number)}/events` },
          },
        })
      : null;
    await appendAudit(tx, {
      actor,
      action: 'guarantee.extension_requested',
      entityType: 'guarantee',
      entityId: g.id,
      data: { sectionId: section.id, bidderId: g.bidder_id, issuerId: g.issuer_id, number: g.number, validTo: g.valid_to, validUntilRequired, bidDeadline: section.bid_deadline.toISOString(), messageId, rule: 'R2' },
    });
    requests.push({ guaranteeId: g.id, bidderId: g.bidder_id, issuerId: g.issuer_id, messageId });
  }
  return requests;
}
