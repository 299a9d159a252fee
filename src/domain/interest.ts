// R13: interest on a refunded deposit = principal × annual rate × days / 360 (the 360-day
// year Chinese banks use for deposit interest), days from the credit's value date to the
// refund's value date: the first day counts, the last does not (算头不算尾). When the rate
// changes inside the period each piece accrues at its own rate and the exact sum is rounded
// once, half-up to the fen. Late refunds under government_procurement also owe a fee at the
// loan rate × 1.2 (MoF Order 87 art. 38: 同期贷款基准利率上浮20%).
//
// Rates are held as bigint millionths of one (3500n = 0.35%) and written in configuration as
// a percent string with at most 4 decimals ("0.35", "3.45"), which maps onto millionths
// exactly. A percent, not a fraction, because that is how the PBoC and banks publish rates,
// and because the upper bound below then catches a fraction typed where a percent belongs.
import { divRoundHalfUp } from './money';
import { addCalendarDays, daysBetween, epochDay, isBusinessDate } from './time';

export interface RateEntry {
  /** First business date on which the rate applies. */
  readonly from: string;
  readonly annualRateMillionths: bigint;
}
/** Sorted by `from`, strictly ascending; each entry holds until the next one's `from`. */
export type RateTable = readonly RateEntry[];

export const rateMillionthsPerUnit = 1_000_000n;
export const dayCountBasis = 360n;
/** 24% a year is far above any deposit or loan rate the tables could hold; a larger figure is
 *  a mistake such as a fraction typed as a percent. */
export const annualRatePercentMax = 24;
export const rateEntriesMax = 1_000;

export class InvalidRateTable extends Error {
  constructor(reason: string) {
    super(`invalid rate table: ${reason}`);
    this.name = 'InvalidRateTable';
  }
}

export function percentToMillionths(percent: string): bigint {
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(percent);
  if (!m) throw new InvalidRateTable(`rate ${JSON.stringify(percent)} must be a percent like "0.35" with at most 4 decimals`);
  const millionths = BigInt(m[1]) * 10_000n + BigInt((m[2] ?? '').padEnd(4, '0'));
  if (millionths > BigInt(annualRatePercentMax) * 10_000n) {
    throw new InvalidRateTable(`rate ${percent}% is above ${annualRatePercentMax}%; rates are written in percent`);
  }
  return millionths;
}

/** The rate in force on `date`. Throws for a date before the table starts: silently using
 *  zero would under-pay interest. */
export function rateOn(table: RateTable, date: string): bigint {
  epochDay(date);
  let found: RateEntry | undefined;
  for (const entry of table) {
    if (entry.from <= date) found = entry;
    else break;
  }
  if (!found) throw new Error(`no rate configured for ${date}; the table starts ${table[0]?.from ?? '(empty)'}`);
  return found.annualRateMillionths;
}

/** Σ principal × rate × days over [fromDate, toDate), split where the rate changes: the
 *  exact numerator over millionths, before dividing by the day basis. */
function accrue(principalFen: bigint, table: RateTable, fromDate: string, toDate: string): bigint {
  if (typeof principalFen !== 'bigint' || principalFen < 0n) throw new Error('assertion: principal must be a non-negative bigint');
  const days = daysBetween(fromDate, toDate);
  if (days < 0) throw new Error(`assertion: period ends (${toDate}) before it starts (${fromDate})`);
  if (days === 0) return 0n;
  rateOn(table, fromDate);
  let sum = 0n;
  let pieceStart = fromDate;
  while (pieceStart < toDate) {
    const next = table.find((e) => e.from > pieceStart);
    const pieceEnd = next && next.from < toDate ? next.from : toDate;
    sum += principalFen * rateOn(table, pieceStart) * BigInt(daysBetween(pieceStart, pieceEnd));
    pieceStart = pieceEnd;
  }
  return sum;
}

/** R13 interest in fen from the credit's value date to the refund's value date. */
export function interestFen(principalFen: bigint, rates: RateTable, fromDate: string, toDate: string): bigint {
  return divRoundHalfUp(accrue(principalFen, rates, fromDate, toDate), dayCountBasis * rateMillionthsPerUnit);
}

/** R13 late fee (资金占用费) for a refund paid after `dueDate`: one day for each day after
 *  it up to and including the day paid, each at that day's loan rate × 1.2. 0 when on time. */
export function lateFeeFen(principalFen: bigint, loanRates: RateTable, dueDate: string, paidDate: string): bigint {
  if (daysBetween(dueDate, paidDate) <= 0) return 0n;
  const numerator = accrue(principalFen, loanRates, addCalendarDays(dueDate, 1), addCalendarDays(paidDate, 1)) * 6n;
  return divRoundHalfUp(numerator, dayCountBasis * rateMillionthsPerUnit * 5n);
}

/** Reads `[{from: "YYYY-MM-DD", annualRatePercent: "0.35"}, …]` (configuration). */
export function loadRateTable(json: unknown): RateTable {
  if (!Array.isArray(json) || json.length === 0) throw new InvalidRateTable('must be a non-empty array of {from, annualRatePercent}');
  if (json.length > rateEntriesMax) throw new InvalidRateTable(`more than ${rateEntriesMax} entries`);
  const table: RateEntry[] = [];
  for (const [i, raw] of json.entries()) {
    if (typeof raw !== 'object' || raw === null) throw new InvalidRateTable(`entry ${i} must be an object`);
    const { from, annualRatePercent, ...rest } = raw as Record<string, unknown>;
    const extra = Object.keys(rest).filter((k) => k !== 'comment');
    if (extra.length > 0) throw new InvalidRateTable(`entry ${i} has unknown keys ${extra.join(', ')}`);
    if (!isBusinessDate(from)) throw new InvalidRateTable(`entry ${i}: from must be a YYYY-MM-DD date`);
    if (typeof annualRatePercent !== 'string') {
      // A JSON number has already been through a double; we refuse to guess what was meant.
      throw new InvalidRateTable(`entry ${i}: annualRatePercent must be a string such as "0.35"`);
    }
    const previous = table[table.length - 1];
    if (previous && previous.from >= from) throw new InvalidRateTable(`entry ${i}: dates must be strictly ascending`);
    table.push(Object.freeze({ from, annualRateMillionths: percentToMillionths(annualRatePercent) }));
  }
  return Object.freeze(table);
}

/** The PBoC benchmark demand-deposit rate (活期存款基准利率), 0.35% since 2012-07-06 and left
 *  unchanged by the last benchmark adjustment of 2015-10-24. Banks pay their own rates (often
 *  lower); which table applies to a deposit bank is configuration. */
export const defaultDepositRateTable: RateTable = loadRateTable([
  { from: '2012-07-06', annualRatePercent: '0.35' },
]);

/** "同期贷款基准利率": the PBoC 1-year benchmark loan rate until the reform of 2019-08-20,
 *  then the 1-year LPR (贷款市场报价利率) as published on each fixing date. Rates after the
 *  last entry here must be added in configuration as they are published. */
export const defaultLoanRateTable: RateTable = loadRateTable([
  { from: '2015-10-24', annualRatePercent: '4.35' },
  { from: '2019-08-20', annualRatePercent: '4.25' },
  { from: '2019-09-20', annualRatePercent: '4.20' },
  { from: '2019-11-20', annualRatePercent: '4.15' },
  { from: '2020-02-20', annualRatePercent: '4.05' },
  { from: '2020-04-20', annualRatePercent: '3.85' },
  { from: '2021-12-20', annualRatePercent: '3.80' },
  { from: '2022-01-20', annualRatePercent: '3.70' },
  { from: '2022-08-22', annualRatePercent: '3.65' },
  { from: '2023-06-20', annualRatePercent: '3.55' },
  { from: '2023-08-21', annualRatePercent: '3.45' },
  { from: '2024-07-22', annualRatePercent: '3.35' },
  { from: '2024-10-21', annualRatePercent: '3.10' },
  { from: '2025-05-20', annualRatePercent: '3.00' },
]);
