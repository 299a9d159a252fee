// Statistics as the API shows them: amounts as decimal strings of yuan, counts as numbers.
import { formatAmount } from '../domain/money';
import { share, type CountAmount, type Figures } from './rules';
import type { Statistics } from './service';

const ca = (x: CountAmount) => ({ count: Number(x.count), amount: formatAmount(x.amountFen) });

export function presentFigures(f: Figures) {
  const securedCount = f.bidsCash.count + f.bidsGuarantee.count;
  const securedFen = f.bidsCash.amountFen + f.bidsGuarantee.amountFen;
  return {
    sections: { created: Number(f.sectionsCreated), opened: Number(f.sectionsOpened), terminated: Number(f.sectionsTerminated) },
    bids: {
      secured: Number(securedCount),
      cash: ca(f.bidsCash),
      guarantee: ca(f.bidsGuarantee),
      guaranteeShare: { byCount: share(f.bidsGuarantee.count, securedCount), byAmount: share(f.bidsGuarantee.amountFen, securedFen) },
    },
    guarantees: { bank: ca(f.guarantees.bank), insurance: ca(f.guarantees.insurance), guarantor: ca(f.guarantees.guarantor), rejected: Number(f.guaranteesRejected) },
    deposits: { received: ca(f.depositsReceived) },
    refunds: {
      paid: ca(f.refunds.paid),
      interestPaid: formatAmount(f.refunds.interestFen),
      lateFeesPaid: formatAmount(f.refunds.lateFeeFen),
      onTime: Number(f.refunds.onTime),
      late: Number(f.refunds.late),
      r11: { onTime: Number(f.refunds.r11OnTime), late: Number(f.refunds.r11Late) },
      daysHeld: { mean: f.refunds.daysHeldMean, p95: f.refunds.daysHeldP95 },
    },
    forfeitures: ca(f.forfeitures),
    claimsPaid: ca(f.claimsPaid),
  };
}

export function presentStatistics(s: Statistics) {
  return {
    object: 'statistics' as const,
    from: s.from,
    to: s.to,
    groupBy: s.groupBy === 'none' ? null : s.groupBy,
    currency: 'CNY' as const,
    totals: presentFigures(s.totals),
    groups: s.groups.map((g) => ({ key: g.key, name: g.name, ...presentFigures(g.figures) })),
  };
}
