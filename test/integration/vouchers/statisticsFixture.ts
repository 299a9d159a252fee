// Statistics voucher data as the statistics answer writes it, for any number of groups: figures
// that vary by group, names as long as the registry allows when extreme, amounts up to the
// largest the money module allows.
import { formatAmount } from '../../../src/domain/money';
import type { StatisticsFigures, StatisticsReportData } from '../../../src/vouchers/input';

/** The largest amount the money module allows, as fixtures.ts has it. */
const amountFenMax = 99999999999999999n;

const longCompany =
  '中铁建设集团华东第七工程局有限公司暨长三角一体化示范区基础设施投资建设发展联合体牵头单位（上海）国际工程咨询管理股份有限公司第二分公司 China Railway Construction East China No.7 Engineering Bureau Co., Ltd. Consortium Lead';

export function statisticsFigures(i: number, extreme = false): StatisticsFigures {
  const amount = (fen: bigint) => formatAmount(extreme ? amountFenMax : fen);
  const n = (base: number) => base + (i % 7);
  return {
    sections: { created: n(3), opened: n(2), terminated: i % 2 },
    bids: {
      secured: n(10) + n(5),
      cash: { count: n(10), amount: amount(BigInt(n(10)) * 2000000n + 1234n) },
      guarantee: { count: n(5), amount: amount(BigInt(n(5)) * 3000000n + 5678n) },
      guaranteeShare: { byCount: '0.3333', byAmount: i % 3 === 0 ? null : '0.4286' },
    },
    guarantees: {
      bank: { count: n(3), amount: amount(BigInt(n(3)) * 3000000n) },
      insurance: { count: n(1), amount: amount(BigInt(n(1)) * 2000000n) },
      guarantor: { count: i % 3, amount: amount(BigInt(i % 3) * 1500000n) },
      rejected: i % 2,
    },
    deposits: { received: { count: n(11), amount: amount(BigInt(n(11)) * 2000000n + 99n) } },
    refunds: {
      paid: { count: n(8), amount: amount(BigInt(n(8)) * 2000000n) },
      interestPaid: amount(BigInt(n(8)) * 417n),
      lateFeesPaid: amount(BigInt(i % 2) * 250n),
      onTime: n(7),
      late: 1,
      r11: { onTime: n(6), late: i % 2 },
      daysHeld: { mean: `${n(20)}.5`, p95: `${n(40)}.0` },
    },
    forfeitures: { count: i % 2, amount: amount(BigInt(i % 2) * 2000000n) },
    claimsPaid: { count: i % 3 === 1 ? 1 : 0, amount: amount(i % 3 === 1 ? 2000000n : 0n) },
  };
}

/** The statistics of a year by tenderee with `groups` tenderees. */
export function statisticsReport(groups: number, opts: { extreme?: boolean } = {}): StatisticsReportData {
  const x = opts.extreme ?? false;
  return {
    object: 'statistics',
    from: '2025-01-01',
    to: '2025-12-31',
    groupBy: 'tenderee',
    currency: 'CNY',
    totals: statisticsFigures(groups, x),
    groups: Array.from({ length: groups }, (_, i) => ({
      key: `tnd_01jtest${String(i).padStart(18, '0')}`,
      name: x ? `${longCompany}${i}` : `苏州市第${i + 1}建设管理局`,
      ...statisticsFigures(i, x),
    })),
  };
}
