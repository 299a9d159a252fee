// HTTP for the statistics: JSON, or the same figures as a spreadsheet (`?format=xlsx`, or the
// path with `.xlsx`, which is what a link in a browser asks for), or put on record as a signed
// voucher (POST, like every other act of the centre, so it is idempotent and audited).
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { presentStatistics } from './present';
import * as s from './schemas';
import { statistics } from './service';
import { requestStatisticsVoucher } from './voucher';
import { statisticsWorkbook } from './xlsx';

const tags = ['statistics'];
const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const statisticsRoute = (path: string, operationId: string, always: 'xlsx' | undefined) =>
  defineRoute({
    method: 'get', path, operationId, tags,
    summary: 'The reform\'s measures over a period, optionally grouped: secured bids by cash and guarantee (保函替代率), guarantees, deposits, refunds (R11 on time, days held, interest), forfeitures, claims',
    access: { roles: ['centre', 'auditor'] }, query: s.statisticsQuery, response: always ? undefined : s.statisticsOut,
    produces: always ? [xlsxType] : ['application/json', xlsxType],
    handler: async ({ query, res, deps }) => {
      const out = presentStatistics(await statistics(deps.db, query));
      if ((always ?? query.format) !== 'xlsx') return out;
      const bytes = statisticsWorkbook(out);
      res.setHeader('Content-Type', xlsxType);
      res.setHeader('Content-Disposition', `attachment; filename="statistics-${out.from}-${out.to}${out.groupBy ? `-${out.groupBy}` : ''}.xlsx"`);
      res.send(bytes);
      return { sent: true };
    },
  });

export const statisticsRoutes: RouteDef<any, any, any>[] = [
  statisticsRoute('/v1/statistics', 'getStatistics', undefined),
  statisticsRoute('/v1/statistics.xlsx', 'getStatisticsXlsx', 'xlsx'),
  defineRoute({
    method: 'post', path: '/v1/statistics/vouchers', operationId: 'requestStatisticsVoucher', tags,
    summary: 'Put the statistics of a period on record as a signed PDF voucher (统计报表凭证): answered at once with the voucher id, rendered and signed by the vouchers queue',
    access: { roles: ['centre'] }, body: s.statisticsVoucherBody, response: s.statisticsVoucherOut, successStatus: 202,
    handler: async ({ tx, caller, body, deps }) => {
      const v = await requestStatisticsVoucher(deps.db, transactionOf(tx), caller, { ...body, format: 'json' });
      return { object: 'statistics_voucher' as const, voucherId: v.voucherId, from: v.statistics.from, to: v.statistics.to, groupBy: v.statistics.groupBy, recordSha256: v.recordSha256, statistics: v.statistics };
    },
  }),
];
