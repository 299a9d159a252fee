// Guarantees lapse at the end of their validity: the minute sweep moves every guarantee still in
// force whose last valid day (Asia/Shanghai) has passed to `expired`, with its event and audit
// record. A guarantee in a claim or already released keeps its status: those ended differently.
import { appendAudit } from '../audit/service';
import { businessDate } from '../domain/time';
import type { Runtime } from '../runtime';
import * as repo from './repo';
import type { GuaranteeStatus } from './rules';

/** Guarantees expired per sweep; the next sweep takes the rest. */
export const guaranteeExpiryBatchMax = 500;
const inForce: GuaranteeStatus[] = ['issued', 'amended', 'secured'];

export async function expireGuarantees(rt: Pick<Runtime, 'db'>, now = new Date()): Promise<number> {
  const today = businessDate(now);
  return rt.db.transaction(async (tx) => {
    const lapsed = await repo.lapsedGuaranteesForUpdate(tx, inForce, today, guaranteeExpiryBatchMax);
    for (const g of lapsed) {
      if (!(await repo.updateGuaranteeStatus(tx, g.id, g.status, 'expired'))) continue;
      await repo.recordGuaranteeEvent(tx, { guaranteeId: g.id, type: 'expired', from: g.status, to: 'expired', eventId: `expiry.${g.id}`, data: { validTo: g.valid_to, on: today } });
      await appendAudit(tx, { actor: { type: 'system' }, action: 'guarantee.expired', entityType: 'guarantee', entityId: g.id, data: { from: g.status, validTo: g.valid_to, sectionId: g.section_id, bidderId: g.bidder_id } });
    }
    return lapsed.length;
  });
}
