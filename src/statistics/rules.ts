// Pure arithmetic of the statistics: shares in bigint with half-up rounding, the period, and
// figures added up per group.
import { addCalendarDays, daysBetween, startOfBusinessDay } from '../domain/time';

/** A period longer than this is more than any report needs and a scan nobody should start by
 *  accident. */
export const statisticsPeriodDaysMax = 3661;
/** Decimal places of a share (保函替代率): "0.6667" is 66.67 %. */
export const shareDecimals = 4;

/** part / whole as a decimal string rounded half-up, or null when there is no whole. */
export function share(part: bigint, whole: bigint, decimals = shareDecimals): string | null {
  if (whole <= 0n) return null;
  if (part < 0n || part > whole) throw new Error(`assertion failed: a share of ${part} in ${whole}`);
  const scale = 10n ** BigInt(decimals);
  const scaled = (part * scale * 2n + whole) / (whole * 2n);
  const int = scaled / scale;
  const frac = (scaled % scale).toString().padStart(decimals, '0');
  return `${int}.${frac}`;
}

export function periodOf(from: string, to: string): { fromAt: Date; toAt: Date; fromDate: string; toDate: string; days: number } {
  const days = daysBetween(from, to) + 1;
  return { fromAt: startOfBusinessDay(from), toAt: startOfBusinessDay(addCalendarDays(to, 1)), fromDate: from, toDate: to, days };
}

export interface CountAmount {
  count: bigint;
  amountFen: bigint;
}

export const zero = (): CountAmount => ({ count: 0n, amountFen: 0n });

export interface Figures {
  sectionsCreated: bigint;
  sectionsOpened: bigint;
  sectionsTerminated: bigint;
  bidsCash: CountAmount;
  bidsGuarantee: CountAmount;
  guarantees: Record<'bank' | 'insurance' | 'guarantor', CountAmount>;
  guaranteesRejected: bigint;
  depositsReceived: CountAmount;
  refunds: {
    paid: CountAmount;
    interestFen: bigint;
    lateFeeFen: bigint;
    onTime: bigint;
    late: bigint;
    r11OnTime: bigint;
    r11Late: bigint;
    daysHeldMean: string | null;
    daysHeldP95: string | null;
  };
  forfeitures: CountAmount;
  claimsPaid: CountAmount;
}

export function emptyFigures(): Figures {
  return {
    sectionsCreated: 0n,
    sectionsOpened: 0n,
    sectionsTerminated: 0n,
    bidsCash: zero(),
    bidsGuarantee: zero(),
    guarantees: { bank: zero(), insurance: zero(), guarantor: zero() },
    guaranteesRejected: 0n,
    depositsReceived: zero(),
    refunds: { paid: zero(), interestFen: 0n, lateFeeFen: 0n, onTime: 0n, late: 0n, r11OnTime: 0n, r11Late: 0n, daysHeldMean: null, daysHeldP95: null },
    forfeitures: zero(),
    claimsPaid: zero(),
  };
}
