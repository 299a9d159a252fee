// One entry per bank reference in a notification. The service records a bank entry once, by its
// reference (deposits' unique key), so a message naming one reference twice either repeats
// itself (the same booking written twice: read once) or names two different bookings with one
// reference (then which one the reference means cannot be told, and taking the first would
// drop the other's money without a word: the message is refused, nothing of it is acted on).
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from './types';

/** The entry's content, bigints included, for comparing two readings of one reference. */
function canonical(e: CreditEntry): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** The notification with each reference once, credits and reversals together; a repeated credit
 *  counts as ignored (read, not acted on), as every reversal already does. Throws when one
 *  reference names two different bookings. */
export function oneEntryPerReference(n: CreditNotification, what: string): CreditNotification {
  const seen = new Map<string, string>();
  let repeats = 0;
  const keep = (e: CreditEntry): boolean => {
    const content = canonical(e);
    const before = seen.get(e.entryRef);
    if (before === undefined) {
      seen.set(e.entryRef, content);
      return true;
    }
    if (before !== content) throw new BankMessageInvalid(`${what}: reference ${JSON.stringify(e.entryRef)} names two different bookings`);
    return false;
  };
  const credits = n.credits.filter((e) => {
    const first = keep(e);
    if (!first) repeats += 1;
    return first;
  });
  const reversals = n.reversals?.filter(keep) ?? [];
  const out: CreditNotification = { messageId: n.messageId, credits, ignored: n.ignored + repeats };
  if (reversals.length) out.reversals = reversals;
  return out;
}
