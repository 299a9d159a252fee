// The statistics put on record (统计报表凭证): the centre asks for the figures of a period as a
// signed PDF. The answer of `GET /v1/statistics` for the same query is frozen whole in the
// voucher's data, so the record's SHA-256 (printed on the voucher and in its QR code) covers
// every figure, and the vouchers queue renders and signs it like every other voucher.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { canonicalJson } from '../audit/canonical';
import { Unprocessable } from '../errors';
import type { Caller } from '../http/auth';
import { actorOf } from '../registry/service';
import type { StatisticsReportData } from '../vouchers/input';
import { findVoucher } from '../vouchers/repo';
import { requestVoucher } from '../vouchers/requests';
import { presentStatistics } from './present';
import type { StatisticsQuery } from './schemas';
import { statistics } from './service';

/** Groups one voucher may show: a list of the groups and six tables of a row per group. At this
 *  bound a year by tenderee is about 830 pages with names of ordinary length and 1,450 when every
 *  name is as long as the registry allows, inside `voucherPagesMax`; more is a spreadsheet's job
 *  (`GET /v1/statistics.xlsx`). */
export const statisticsVoucherGroupsMax = 3000;

/** More groups than a voucher shows: refused before anything is recorded. */
export function refuseOversizedVoucher(groups: number): void {
  if (groups <= statisticsVoucherGroupsMax) return;
  throw new Unprocessable(
    'too_many_groups',
    `the statistics have ${groups} groups; a voucher shows at most ${statisticsVoucherGroupsMax}: choose a shorter period or another grouping, or download the workbook`,
    'groupBy',
  );
}

export interface StatisticsVoucher {
  voucherId: string;
  subjectId: string;
  recordSha256: string;
  statistics: StatisticsReportData;
}

/** The subject is the figures themselves: asking again while nothing has changed returns the
 *  voucher already on record (one voucher per kind and subject), while a figure that moved
 *  makes a new one. */
function subjectIdOf(data: StatisticsReportData): string {
  const digest = createHash('sha256').update(canonicalJson(data)).digest('hex');
  return `${data.from}.${data.to}.${data.groupBy ?? 'all'}.${digest.slice(0, 32)}`;
}

/** Reads the figures on their own snapshot (`statistics`, a repeatable-read transaction), then
 *  records the voucher request in `tx`, the request's transaction, with its audit event. */
export async function requestStatisticsVoucher(db: Knex, tx: Knex.Transaction, caller: Caller, query: StatisticsQuery): Promise<StatisticsVoucher> {
  const figures: StatisticsReportData = presentStatistics(await statistics(db, query));
  refuseOversizedVoucher(figures.groups.length);
  const subjectId = subjectIdOf(figures);
  const voucherId = await requestVoucher(tx, { kind: 'statistics', subjectType: 'statistics', subjectId, data: figures as unknown as Record<string, unknown> });
  const row = await findVoucher(tx, voucherId);
  if (!row) throw new Error(`assertion: voucher ${voucherId} was just requested but is not on record`);
  const recordSha256 = row.record_sha256;
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'statistics.voucher_requested',
    entityType: 'voucher',
    entityId: voucherId,
    data: { from: figures.from, to: figures.to, groupBy: figures.groupBy, groups: figures.groups.length, recordSha256 },
  });
  return { voucherId, subjectId, recordSha256, statistics: figures };
}
