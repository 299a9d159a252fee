// A sender's event id is recorded once, with the answer given. The same event again returns the
// first answer and acts no second time; two deliveries at once are serialised on a lock so that
// exactly one acts.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Conflict } from '../errors';

export const eventIdLengthMax = 128;

export async function onceForEvent(
  tx: Knex.Transaction,
  sender: { type: string; id: string },
  eventId: string,
  rawBody: Buffer,
  act: () => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  const requestHash = createHash('sha256').update(rawBody).digest('hex');
  await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?))', [`${sender.type}:${sender.id}`, eventId]);
  const seen = await tx('webhook_events').where({ sender_type: sender.type, sender_id: sender.id, event_id: eventId }).first();
  if (seen) {
    if (seen.request_hash !== requestHash) {
      throw new Conflict('event_id_reused', `event ${eventId} was already received with a different body`);
    }
    return { status: seen.response_status, body: seen.response_body, replayed: true };
  }
  const result = await act();
  await tx('webhook_events').insert({
    sender_type: sender.type,
    sender_id: sender.id,
    event_id: eventId,
    request_hash: requestHash,
    response_status: result.status,
    response_body: JSON.stringify(result.body ?? null),
  });
  return { ...result, replayed: false };
}
