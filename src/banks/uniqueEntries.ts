// One entry per bank reference in a notification. The service records a bank entry once, by its
// reference (deposits' unique key), so a message naming one reference twice either repeats
// itself (the same booking written twice: read once) or names two different bookings with one
// reference. Two different credits are both passed on: the service books the first and opens a
// reference_clash exception for the other, so neither's money is dropped without a word. Two
// different reversals under one reference cannot be told apart at all: the message is refused.
import { BankMessageInvalid, type CreditEntry, type CreditNotification } from './types';

/** The entry's content, bigints included, for comparing two readings of one reference. */
function canonical(e: CreditEntry): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** The notification with each repeated entry once, credits and reversals together; a repeated
 *  credit counts as ignored (read, not acted on), as every reversal already does. Throws when one
 *  reference names two different reversals. */
export function oneEntryPerReference(n: CreditNotification, what: string): CreditNotification {
  const seen = new Map<string, Set<string>>();
  let repeats = 0;
  const keep = (e: CreditEntry, differentIsRefused: boolean): boolean => {
    const content = canonical(e);
    const before = seen.get(e.entryRef);
    if (before === undefined) {
      seen.set(e.entryRef, new Set([content]));
      return true;
    }
    if (before.has(content)) return false;
    if (differentIsRefused) throw new BankMessageInvalid(`${what}: reference ${JSON.stringify(e.entryRef)} names two different bookings`);
    before.add(content);
    return true;
  };
  const credits = n.credits.filter((e) => {
    const first = keep(e, false);
    if (!first) repeats += 1;
    return first;
  });
  const reversals = n.reversals?.filter((e) => keep(e, true)) ?? [];
  const out: CreditNotification = { messageId: n.messageId, credits, ignored: n.ignored + repeats };
  if (reversals.length) out.reversals = reversals;
  return out;
}
