// The append-only, hash-chained event log. Every state change appends here in the same
// transaction as the change, so the log and the data can never disagree about what happened.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { beforeCommit, type Tx } from '../db/knex';
import { isTransaction } from '../db/tx';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import { canonicalJson, toJsonSafe } from './canonical';
import * as repo from './repo';
import type { AuditListQuery } from './schemas';

export const genesisHash = '0'.repeat(64);
/** Rows read per round while verifying, so the check runs in bounded memory on any log size. */
export const auditVerifyBatchSize = 2000;

export interface Actor {
  type: 'centre' | 'tenderee' | 'bidder' | 'auditor' | 'issuer' | 'bank' | 'system' | 'operator' | 'anonymous';
  id?: string;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  entityType?: string;
  entityId?: string;
  data?: Record<string, unknown>;
}

function hashEvent(e: { id: string; at: Date; actorType: string; actorId: string | null; action: string; entityType: string | null; entityId: string | null; data: unknown; prevHash: string }): string {
  return createHash('sha256').update(canonicalJson(e)).digest('hex');
}

type PendingEvent = Omit<Parameters<typeof hashEvent>[0], 'prevHash'>;
const pendingByTx = new WeakMap<object, PendingEvent[]>();

/** Appends an event to the chain in the caller's transaction. Inside a transaction opened by
 *  the service's own handle the chain is extended just before commit (in the order appended),
 *  so the chain's lock is held only for those inserts; elsewhere it is extended at once. */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<string> {
  const event: PendingEvent = {
    id: newId('evt'),
    at: new Date(),
    actorType: input.actor.type,
    actorId: input.actor.id ?? null,
    action: input.action,
    entityType: input.entityType ?? null,
    entityId: input.entityId ?? null,
    data: toJsonSafe(input.data ?? {}),
  };
  if (isTransaction(tx)) {
    let pending = pendingByTx.get(tx);
    if (pending) {
      pending.push(event);
      return event.id;
    }
    pending = [event];
    const flush = () => {
      const events = pendingByTx.get(tx) ?? [];
      pendingByTx.delete(tx);
      return extendChain(tx, events);
    };
    if (beforeCommit(tx, flush)) {
      pendingByTx.set(tx, pending);
      return event.id;
    }
  }
  await extendChain(tx, [event]);
  return event.id;
}

/** Hashed keys sort with prevHash last, so an event's hashed text is a prefix, the previous
 *  hash and a suffix: the database joins them once it holds the chain's lock. */
const prevHashTail = '"prevHash":""}';

async function extendChain(tx: Tx, events: PendingEvent[]): Promise<void> {
  await repo.appendToChain(tx, events.map(chainedInput));
}

function chainedInput(e: PendingEvent): repo.ChainedEventInput {
  const text = canonicalJson({ ...e, prevHash: '' });
  assert(text.endsWith(prevHashTail), 'prevHash is the last key of an audit event\'s hashed text');
  return {
    id: e.id,
    at: e.at,
    actor_type: e.actorType,
    actor_id: e.actorId,
    action: e.action,
    entity_type: e.entityType,
    entity_id: e.entityId,
    data: e.data,
    hash_prefix: text.slice(0, -2),
    hash_suffix: '"}',
  };
}

/** The events appended in `tx` and not yet written, handed to a caller that writes them in its
 *  own last statement (repo.insertPendingSql) instead of the statement just before commit;
 *  events appended after this are written before commit as usual. */
export function takePendingAudit(tx: Knex.Transaction): repo.ChainedEventInput[] {
  const events = pendingByTx.get(tx) ?? [];
  pendingByTx.delete(tx);
  return events.map(chainedInput);
}

export interface ChainCheck {
  ok: boolean;
  eventsChecked: number;
  firstBroken?: { seq: string; id: string; reason: 'hash_mismatch' | 'prev_hash_mismatch' };
}

/** Recomputes every hash in order and names the first event whose content or link is wrong. */
export async function verifyChain(tx: Tx): Promise<ChainCheck> {
  let prev = genesisHash;
  let afterSeq: bigint | undefined;
  let checked = 0;
  for (;;) {
    const rows = await repo.listEvents(tx, { afterSeq, limit: auditVerifyBatchSize });
    if (rows.length === 0) return { ok: true, eventsChecked: checked };
    for (const r of rows) {
      if (r.prev_hash !== prev) {
        return { ok: false, eventsChecked: checked, firstBroken: { seq: r.seq.toString(), id: r.id, reason: 'prev_hash_mismatch' } };
      }
      const recomputed = hashEvent({
        id: r.id,
        at: r.at,
        actorType: r.actor_type,
        actorId: r.actor_id,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        data: r.data,
        prevHash: r.prev_hash,
      });
      if (recomputed !== r.hash) {
        return { ok: false, eventsChecked: checked, firstBroken: { seq: r.seq.toString(), id: r.id, reason: 'hash_mismatch' } };
      }
      prev = r.hash;
      checked++;
    }
    afterSeq = rows[rows.length - 1].seq;
  }
}

/** A page of the log, oldest first; the cursor is the last `seq` returned. */
export async function listAuditEvents(tx: Tx, query: AuditListQuery): Promise<{ object: 'list'; data: repo.AuditRow[]; hasMore: boolean; nextCursor: string | null }> {
  const rows = await repo.listEvents(tx, {
    afterSeq: query.cursor === undefined ? undefined : BigInt(query.cursor),
    limit: query.limit + 1,
    entityType: query.entityType,
    entityId: query.entityId,
    action: query.action,
  });
  const page = rows.slice(0, query.limit);
  const hasMore = rows.length > query.limit;
  return { object: 'list', data: page, hasMore, nextCursor: hasMore ? page[page.length - 1].seq.toString() : null };
}
