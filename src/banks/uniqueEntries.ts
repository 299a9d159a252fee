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
  // The first entry under each reference, and the contents read under it once it repeats: a
  // file of distinct references (the usual one, of thousands) is never serialised.
  const first = new Map<string, CreditEntry>();
  const contents = new Map<string, Set<string>>();
  let repeats = 0;
  const keep = (e: CreditEntry, differentIsRefused: boolean): boolean => {
    const before = first.get(e.entryRef);
    if (before === undefined) {
      first.set(e.entryRef, e);
      return true;
    }
    let seen = contents.get(e.entryRef);
    if (seen === undefined) {
      seen = new Set([canonical(before)]);
      contents.set(e.entryRef, seen);
    }
    const content = canonical(e);
    if (seen.has(content)) return false;
    if (differentIsRefused) throw new BankMessageInvalid(`${what}: reference ${JSON.stringify(e.entryRef)} names two different bookings`);
    seen.add(content);
    return true;
  };
  const credits = n.credits.filter((e) => {
    const kept = keep(e, false);
    if (!kept) repeats += 1;
    return kept;
  });
  const reversals = n.reversals?.filter((e) => keep(e, true)) ?? [];
  const out: CreditNotification = { messageId: n.messageId, credits, ignored: n.ignored + repeats };
  if (reversals.length) out.reversals = reversals;
  return out;
}
