// A unit of work that joins the caller's transaction when there is one, so a service may be
// called on its own or inside another's transaction without nesting a second one.
import type { Knex } from 'knex';
import type { Tx } from './knex';

export function isTransaction(db: Tx): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true;
}

export async function inTransaction<T>(db: Tx, work: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return work(db);
  return db.transaction(work);
}

const serializationFailure = '40001';
const deadlockDetected = '40P01';
/** A serialization failure under load is retried a bounded number of times, then surfaces. */
export const serializableRetriesMax = 5;

/** Runs `work` in a SERIALIZABLE transaction, retrying on serialization failures and deadlocks. */
export async function inSerializableTransaction<T>(db: Knex, work: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work, { isolationLevel: 'serializable' });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code === serializationFailure || code === deadlockDetected) && attempt < serializableRetriesMax) {
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
        continue;
      }
      throw e;
    }
  }
}
