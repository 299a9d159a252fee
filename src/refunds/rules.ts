// The rules a refund follows, each named by its rule id. Pure: no I/O, no clock.
//   R13: what is paid back, computed when the refund is submitted (its value date is the business
//        date on which it is sent), from the runtime's rate tables.
//   R17: where it is paid, and when a person must decide instead of the worker (after a
//        rejection, and after the payee's bank returned a payment: 退汇).
import { interestFen, lateFeeFen, rateOn, type RateTable } from '../domain/interest';
import type { Regime } from '../domain/dueDates';
import { daysBetween } from '../domain/time';
import type { BusinessTables } from '../tables';
import type { DecisionRow, ManualCode, RefundRow } from './repo';

/** Attempts per refund (since the last recorded decision) before a person must look at it. */
export const refundAttemptsMax = 5;
/** R17: the account is gone or is not the payer's: another try cannot succeed, and paying
 *  anywhere else needs a recorded decision. */
export const permanentRejectReasons: readonly string[] = ['AC01', 'AC04', 'BE01'];

// ---- R13 -----------------------------------------------------------------------------------

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

/** A credit returned from suspense secured no bid: R13 speaks of bid deposits, so only the
 *  money itself goes back. */
export function principalOnly(principalFen: bigint, valueDate: string): RefundAmounts {
  return { principalFen, interestFen: 0n, lateFeeFen: 0n, totalFen: principalFen, interestFrom: valueDate, valueDate };
}

export function r13RefundAmounts(args: { principalFen: bigint; creditValueDate: string; valueDate: string; dueBy: string; regime: Regime; rates: RateTables }): RefundAmounts {
  // A credit valued after the day we pay it back (a bank's forward value date) earns nothing.
  const interestFrom = args.creditValueDate <= args.valueDate ? args.creditValueDate : args.valueDate;
  const interest = interestFen(args.principalFen, args.rates.deposit, interestFrom, args.valueDate);
  // Only government procurement owes a late fee, for the days past the due date.
  const lateFee = args.regime === 'government_procurement' ? lateFeeFen(args.principalFen, args.rates.loan, args.dueBy, args.valueDate) : 0n;
  return { principalFen: args.principalFen, interestFen: interest, lateFeeFen: lateFee, totalFen: args.principalFen + interest + lateFee, interestFrom, valueDate: args.valueDate };
}

/** 3500n millionths → "0.35" (at least two decimals, as banks print rates). */
export function percentOf(millionths: bigint): string {
  const whole = millionths / 10_000n;
  const frac = (millionths % 10_000n).toString().padStart(4, '0').replace(/0{1,2}$/, '').replace(/0$/, '');
  return `${whole}.${frac.padEnd(2, '0')}`;
}

/** The R13 computation as the refund voucher shows it: periods, days and rates. */
export function r13InterestDetail(rates: RateTables, a: RefundAmounts, dueBy: string) {
  const lateDays = daysBetween(dueBy, a.valueDate);
  return {
    interest: { valueDateFrom: a.interestFrom, valueDateTo: a.valueDate, days: daysBetween(a.interestFrom, a.valueDate), annualRatePercent: percentOf(rateOn(rates.deposit, a.interestFrom)) },
    lateFee: a.lateFeeFen > 0n ? { days: lateDays, annualRatePercent: percentOf((rateOn(rates.loan, a.valueDate) * 6n) / 5n) } : undefined,
  };
}

// ---- R17 -----------------------------------------------------------------------------------

export interface Payee {
  number: string;
  name: string;
  bankCode: string | null;
}

/** R17: where the money came from, unless a person recorded a decision for another account. */
export function r17Payee(
  refund: Pick<RefundRow, 'creditor_account_number' | 'creditor_account_name' | 'creditor_bank_code'>,
  decision: Pick<DecisionRow, 'account_number' | 'account_name' | 'account_bank_code'> | undefined,
): Payee {
  if (decision?.account_number) return { number: decision.account_number, name: decision.account_name!, bankCode: decision.account_bank_code };
  return { number: refund.creditor_account_number, name: refund.creditor_account_name, bankCode: refund.creditor_bank_code };
}

export type FailedAttemptStatus = 'rejected' | 'no_record';

/** What becomes of a refund whose attempt ended without the money arriving: another attempt,
 *  or a person. R17: a payee account the bank refuses is never swapped for another by the
 *  worker; and a refund that keeps failing stops at `refundAttemptsMax`. */
export function r17AfterFailedAttempt(args: { attemptStatus: FailedAttemptStatus; reasonCode: string | undefined; attemptsCount: number }):
  | { next: 'scheduled'; manualCode: null; manualReason: null }
  | { next: 'manual'; manualCode: ManualCode; manualReason: string } {
  const permanent = args.attemptStatus === 'rejected' && !!args.reasonCode && permanentRejectReasons.includes(args.reasonCode);
  if (permanent) return { next: 'manual', manualCode: 'account_rejected', manualReason: `R17: the bank rejected the payee account (${args.reasonCode}); a person must decide where the money goes` };
  if (args.attemptsCount >= refundAttemptsMax) return { next: 'manual', manualCode: 'attempts_exhausted', manualReason: `no settlement after ${refundAttemptsMax} attempts (last: ${args.reasonCode ?? args.attemptStatus})` };
  return { next: 'scheduled', manualCode: null, manualReason: null };
}

// ---- returns (退汇) ---------------------------------------------------------------------------

/** ISO 20022 ExternalReturnReason1Code, as a person at the centre needs to read them. */
export const returnReasonTexts: Readonly<Record<string, string>> = {
  AC01: 'incorrect account number (账号不正确)',
  AC03: 'invalid creditor account number (收款账号无效)',
  AC04: 'closed account (账户已销户)',
  AC06: 'blocked account (账户已冻结)',
  AG01: 'transaction forbidden on this account (账户不允许此交易)',
  AM05: 'duplicate payment (重复付款)',
  BE01: 'account name does not match the account (户名与账号不符)',
  MD07: 'account holder deceased or dissolved (收款人已注销)',
  MS02: 'refused by the payee (收款人拒收)',
  MS03: 'reason not given by the bank (银行未说明原因)',
  NARR: 'see the bank\'s narrative (见银行附言)',
};

export function returnReasonText(reasonCode: string, additionalInfo?: string): string {
  const known = returnReasonTexts[reasonCode] ?? 'a reason code this service does not know';
  return additionalInfo ? `${known}; the bank adds: ${additionalInfo}` : known;
}

/** R17 after a return: the money is back and owed to the bidder again, but the account it was
 *  paid to refused it, so the worker never sends it anywhere by itself; a person decides (a
 *  retry to the same account, or to another with the decision on record). */
export function r17AfterReturn(args: { reasonCode: string; additionalInfo?: string; endToEndId: string; creditorAccount: string }): string {
  return (
    `R17: the payee's bank returned the payment ${args.endToEndId} to account ${args.creditorAccount} ` +
    `(${args.reasonCode}: ${returnReasonText(args.reasonCode, args.additionalInfo)}); the money is held for the bidder again. ` +
    'Retry with a recorded decision (to the same account, or to another one the decision names).'
  ).slice(0, 1000);
}

/** How often one refund's money may come back and be sent again; beyond that the centre pays it
 *  outside the service. Bounds the end-to-end id's suffix as well. */
export const refundReturnsMax = 20;

/** Which payment of its refund an end-to-end id is: 1 for the refund's first id (its first
 *  attempt's), n for `<first id>-<n>`. */
export function paymentGeneration(firstEndToEndId: string, endToEndId: string): number {
  if (endToEndId === firstEndToEndId) return 1;
  const m = /^(.*)-(\d{1,7})$/.exec(endToEndId);
  if (!m || m[1] !== firstEndToEndId) throw new Error(`assertion: end-to-end id ${endToEndId} does not follow ${firstEndToEndId}`);
  return Number(m[2]);
}

/** The end-to-end id a returned refund is sent again under: `<first id>-<n>` for its n-th
 *  payment. The previous id's payment was made and came back, and a bank refuses any instruction
 *  under an id it has paid (DUPL), so a retry needs a new one. This is safe only because the old
 *  id's payment is over: a bank pays an id at most once, that once was settled, and its money is
 *  back in the trust account (we booked the return); no other instruction under it can pay. */
export function endToEndIdAfterReturn(firstEndToEndId: string, returnedEndToEndId: string): string {
  const n = paymentGeneration(firstEndToEndId, returnedEndToEndId) + 1;
  if (n > refundReturnsMax + 1) throw new Error(`assertion: a refund sent more than ${refundReturnsMax + 1} times (${firstEndToEndId})`);
  const next = `${firstEndToEndId}-${n}`;
  // ISO 20022 EndToEndId is Max35Text; cn-h2h's bizSerialNo is as long.
  if (next.length > 35) throw new Error(`assertion: end-to-end id ${next} longer than 35 characters`);
  return next;
}
