// The reform's measures for supervisors: how many bids were secured by guarantee instead of
// cash (保函替代率), what cash was held and for how long, whether refunds came on time (R11),
// and what was kept (forfeitures) or claimed. Every figure is an SQL aggregate over the records
// and the ledger, so it equals them by construction.
import type { Knex } from 'knex';
import type { Tx } from '../db/knex';
import { BadRequest } from '../errors';
import * as repo from './repo';
import { emptyFigures, periodOf, statisticsPeriodDaysMax, type Figures } from './rules';
import type { StatisticsQuery } from './schemas';

export interface GroupFigures {
  key: string | null;
  name: string | null;
  figures: Figures;
}

export interface Statistics {
  from: string;
  to: string;
  groupBy: repo.GroupBy;
  totals: Figures;
  groups: GroupFigures[];
}

async function figuresBy(tx: Tx, groupBy: repo.GroupBy, p: repo.Period): Promise<Map<string | null, Figures>> {
  // One query after another on the one snapshot: a report never holds more than one connection.
  const created = await repo.sectionsAt(tx, groupBy, p, 'created_at');
  const sections = await repo.sectionsOpened(tx, groupBy, p);
  const terminated = await repo.sectionsAt(tx, groupBy, p, 'terminated_at');
  const bids = await repo.securedBids(tx, groupBy, p);
  const guarantees = await repo.guaranteesByKind(tx, groupBy, p);
  const deposits = await repo.depositsReceived(tx, groupBy, p);
  const refunds = await repo.refundsPaid(tx, groupBy, p);
  const forfeitures = await repo.forfeitures(tx, groupBy, p);
  const claims = await repo.claimsPaid(tx, groupBy, p);
  const out = new Map<string | null, Figures>();
  const at = (key: string | null) => {
    let f = out.get(key);
    if (!f) out.set(key, (f = emptyFigures()));
    return f;
  };
  for (const r of created) at(r.key).sectionsCreated = BigInt(r.count);
  for (const r of sections) at(r.key).sectionsOpened = BigInt(r.count);
  for (const r of terminated) at(r.key).sectionsTerminated = BigInt(r.count);
  for (const r of bids) {
    const f = at(r.key);
    const slot = r.security === 'cash' ? f.bidsCash : f.bidsGuarantee;
    slot.count += BigInt(r.count);
    slot.amountFen += BigInt(r.amount_fen);
  }
  for (const r of guarantees) {
    const f = at(r.key);
    f.guarantees[r.kind].count += BigInt(r.issued);
    f.guarantees[r.kind].amountFen += BigInt(r.amount_fen);
    f.guaranteesRejected += BigInt(r.rejected);
  }
  for (const r of deposits) at(r.key).depositsReceived = { count: BigInt(r.count), amountFen: BigInt(r.amount_fen) };
  for (const r of forfeitures) at(r.key).forfeitures = { count: BigInt(r.count), amountFen: BigInt(r.amount_fen) };
  for (const r of claims) at(r.key).claimsPaid = { count: BigInt(r.count), amountFen: BigInt(r.amount_fen) };
  for (const r of refunds) {
    at(r.key).refunds = {
      paid: { count: BigInt(r.count), amountFen: BigInt(r.principal_fen ?? 0n) },
      interestFen: BigInt(r.interest_fen ?? 0n),
      lateFeeFen: BigInt(r.late_fee_fen ?? 0n),
      onTime: BigInt(r.on_time),
      late: BigInt(r.late),
      r11OnTime: BigInt(r.r11_on_time),
      r11Late: BigInt(r.r11_late),
      daysHeldMean: r.days_held_mean,
      daysHeldP95: r.days_held_p95,
    };
  }
  return out;
}

/** Every figure is read from one snapshot of the database (a repeatable-read, read-only
 *  transaction), so the groups, the totals and the ledger they are checked against agree even
 *  while money moves. */
export async function statistics(db: Knex, query: StatisticsQuery): Promise<Statistics> {
  const p = periodOf(query.from, query.to);
  if (p.days < 1) throw new BadRequest('invalid_period', '`to` is before `from`', 'to');
  if (p.days > statisticsPeriodDaysMax) throw new BadRequest('period_too_long', `a period of at most ${statisticsPeriodDaysMax} days`, 'from');
  const groupBy = query.groupBy ?? 'none';
  return db.transaction(
    async (tx) => {
      // Totals are counted on their own, not added up from the groups: a mean or a 95th
      // percentile does not add, and a group key may be missing (a cash bid has no issuer).
      const totals = (await figuresBy(tx, 'none', p)).get('all') ?? emptyFigures();
      const grouped = groupBy === 'none' ? new Map<string | null, Figures>() : await figuresBy(tx, groupBy, p);
      const keys = [...grouped.keys()].sort((a, b) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
      const names = await repo.namesOf(tx, groupBy, keys.filter((k): k is string => k !== null));
      return {
        from: query.from,
        to: query.to,
        groupBy,
        totals,
        groups: keys.map((key) => ({ key, name: key === null ? null : (names.get(key) ?? null), figures: grouped.get(key)! })),
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
