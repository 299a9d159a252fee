// The relay from the audit log to events, on a database of its own: it reads the log in its own
// order and never steps past a row that may still commit below one it has seen (a hole in the
// sequence), waits a bounded time for it, and writes each event once however many relays run.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Runtime } from '../../src/runtime';
import { appendAudit } from '../../src/audit/service';
import { relayEvents, relayRound } from '../../src/events/relay';
import { startTestRuntime } from '../support/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';

let isolated: IsolatedDatabase;
let rt: Runtime;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('webhooksrelay');
  rt = await startTestRuntime({ ...isolated.env });
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

const tendereeCreated = (id: string) => ({ actor: { type: 'centre' as const }, action: 'tenderee.created', entityType: 'tenderee', entityId: id, data: { name: id } });
const eventsOf = (id: string) => rt.db('events').where({ subject_id: id });

/** An audit row written the way an append outside the chain's lock would be: its own `seq`
 *  from the sequence, in a transaction the test commits or rolls back when it likes. */
async function looseAppend(tx: Knex.Transaction, id: string, at = new Date()): Promise<void> {
  await tx('audit_events').insert({
    id: `evt_${randomBytes(13).toString('hex').slice(0, 26)}`, at, actor_type: 'centre', action: 'tenderee.created',
    entity_type: 'tenderee', entity_id: id, data: JSON.stringify({ name: id }), prev_hash: randomBytes(32).toString('hex'), hash: randomBytes(32).toString('hex'),
  });
}

describe('the event relay', () => {
  it('waits at a row still in flight below a committed one, then relays both in order', async () => {
    await relayEvents(rt.db);
    const inFlight = await rt.db.transaction();
    await looseAppend(inFlight, 'tnd_inflight');
    // Appended and committed after the row in flight took its place in the sequence.
    await rt.db.transaction((tx) => appendAudit(tx, tendereeCreated('tnd_after')));

    const r1 = await relayRound(rt.db);
    expect(r1.events).toBe(0);
    expect(await eventsOf('tnd_after')).toHaveLength(0);
    const cursor = await rt.db('event_relay_cursors').where({ name: 'events' }).first();
    expect(cursor.gap_after_seq).not.toBeNull();

    await inFlight.commit();
    await relayEvents(rt.db);
    const [early] = await eventsOf('tnd_inflight');
    const [late] = await eventsOf('tnd_after');
    expect(BigInt(early.seq)).toBeLessThan(BigInt(late.seq));
    expect((await rt.db('event_relay_cursors').where({ name: 'events' }).first()).gap_after_seq).toBeNull();
  });

  it('steps over a hole left by a rollback once it has waited for it', async () => {
    await relayEvents(rt.db);
    const rolledBack = await rt.db.transaction();
    await looseAppend(rolledBack, 'tnd_never');
    await rt.db.transaction((tx) => appendAudit(tx, tendereeCreated('tnd_beyond')));
    await rolledBack.rollback();

    expect((await relayRound(rt.db, { gapWaitMs: 60_000 })).events).toBe(0);
    expect(await eventsOf('tnd_beyond')).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 300));
    await relayEvents(rt.db, { gapWaitMs: 200 });
    expect(await eventsOf('tnd_beyond')).toHaveLength(1);
    expect(await eventsOf('tnd_never')).toHaveLength(0);
  });

  it('steps at once over a hole in an old part of the log', async () => {
    await relayEvents(rt.db);
    const rolledBack = await rt.db.transaction();
    await looseAppend(rolledBack, 'tnd_old_never');
    await rolledBack.rollback();
    // The row after the hole was appended long ago: a log being caught up on.
    await rt.db.transaction((tx) => looseAppend(tx, 'tnd_old_beyond', new Date(Date.now() - 3600_000)));
    await relayRound(rt.db, { gapWaitMs: 60_000 });
    expect(await eventsOf('tnd_old_beyond')).toHaveLength(1);
  });

  it('writes each event once when relays run at the same time, in small batches', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `tnd_many${i}`);
    for (const id of ids) await rt.db.transaction((tx) => appendAudit(tx, tendereeCreated(id)));
    await Promise.all([relayEvents(rt.db, { batchSize: 7 }), relayEvents(rt.db, { batchSize: 5 }), relayEvents(rt.db, { batchSize: 11 })]);
    const rows = await rt.db('events').whereIn('subject_id', ids).orderBy('seq');
    expect(rows.map((r) => r.subject_id)).toEqual(ids);
    const { max } = await rt.db('audit_events').max({ max: 'seq' }).first() as { max: bigint };
    expect(BigInt((await rt.db('event_relay_cursors').where({ name: 'events' }).first()).audit_seq)).toBe(BigInt(max));
  });
});
