// R13 amounts of a refund, computed when it is submitted: the refund's value date is the
// business date on which it is sent. Rate tables come from the runtime.
import { interestFen, lateFeeFen, rateOn, type RateTable } from '../domain/interest';
import type { BusinessTables } from '../tables';
import type { Regime } from '../domain/dueDates';
import { daysBetween } from '../domain/time';

export interface RateTables {
  deposit: RateTable;
  loan: RateTable;
}

/** The R13 tables of the runtime (BIDBOND_DEPOSIT_RATE_FILE / BIDBOND_LOAN_RATE_FILE, or the
 *  built-in ones). */
export function rateTables(t: BusinessTables): RateTables {
  return { deposit: t.depositRates, loan: t.loanRates };
}

export interface RefundAmounts {
  principalFen: bigint;
  interestFen: bigint;
  lateFeeFen: bigint;
  totalFen: bigint;
  interestFrom: string;
  valueDate: string;
}

export function principalOnly(principalFen: bigint, valueDate: string): RefundAmounts {
  return { principalFen, interestFen: 0n, lateFeeFen: 0n, totalFen: principalFen, interestFrom: valueDate, valueDate };
}

export function refundAmounts(args: { principalFen: bigint; creditValueDate: string; valueDate: string; dueBy: string; regime: Regime; rates: RateTables }): RefundAmounts {
  // A credit valued after the day we pay it back (a bank's forward value date) earns nothing.
  const interestFrom = args.creditValueDate <= args.valueDate ? args.creditValueDate : args.valueDate;
  const interest = interestFen(args.principalFen, args.rates.deposit, interestFrom, args.valueDate);
  // R13: only government procurement owes a late fee, for the days past the due date.
  const lateFee = args.regime === 'government_procurement' ? lateFeeFen(args.principalFen, args.rates.loan, args.dueBy, args.valueDate) : 0n;
  return { principalFen: args.principalFen, interestFen: interest, lateFeeFen: lateFee, totalFen: args.principalFen + interest + lateFee, interestFrom, valueDate: args.valueDate };
}

/** 3500n millionths → "0.35" (at least two decimals, as banks print rates). */
export function percentOf(millionths: bigint): string {
  const whole = millionths / 10_000n;
  const frac = (millionths % 10_000n).toString().padStart(4, '0').replace(/0{1,2}$/, '').replace(/0$/, '');
  return `${whole}.${frac.padEnd(2, '0')}`;
}

export function interestDetail(rates: RateTables, a: RefundAmounts, dueBy: string) {
  const lateDays = daysBetween(dueBy, a.valueDate);
  return {
    interest: { valueDateFrom: a.interestFrom, valueDateTo: a.valueDate, days: daysBetween(a.interestFrom, a.valueDate), annualRatePercent: percentOf(rateOn(rates.deposit, a.interestFrom)) },
    lateFee: a.lateFeeFen > 0n ? { days: lateDays, annualRatePercent: percentOf((rateOn(rates.loan, a.valueDate) * 6n) / 5n) } : undefined,
  };
}
