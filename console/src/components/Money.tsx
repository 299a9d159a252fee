import { yuan } from '../format';

/** An amount as the API gave it, in yuan, right-aligned digits. */
export function Money({ amount }: { amount: string | null | undefined }) {
  return <span style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>{yuan(amount)}</span>;
}
