// A transaction PostgreSQL aborts for a deadlock is run again from the start, a bounded number of
// times; anything else is the caller's at once.
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../src/runtime';
import { transactionAttemptsMax, transactionRetried } from '../../src/db/retry';
import { startTestRuntime } from '../support/runtime';

let rt: Runtime;
const table = `retry_${randomBytes(5).toString('hex')}`;
beforeAll(async () => {
  rt = await startTestRuntime();
  await rt.db.raw(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
  await rt.db(table).insert([{ id: 1, n: 0 }, { id: 2, n: 0 }]);
});
afterAll(async () => {
  await rt.db.raw(`DROP TABLE IF EXISTS ${table}`);
  await rt.close();
});

/** Resolves once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

describe('transactions aborted by the database', () => {
  it('two transactions that deadlock both complete: the one PostgreSQL aborts runs again', async () => {
    const bothHoldTheirFirstRow = barrier(2);
    const attempts = { a: 0, b: 0 };
    const retried: string[] = [];
    const lockInOrder = (who: 'a' | 'b', first: number, second: number) =>
      transactionRetried(
        rt.db,
        async (tx) => {
          attempts[who] += 1;
          await tx(table).where({ id: first }).increment('n', 1);
          if (attempts[who] === 1) await bothHoldTheirFirstRow();
          await tx(table).where({ id: second }).increment('n', 1);
        },
        (err) => retried.push(`${who}:${(err as { code: string }).code}`),
      );
    await Promise.all([lockInOrder('a', 1, 2), lockInOrder('b', 2, 1)]);
    // Usually one abort. A second is possible and still correct: the aborted side's retry can take
    // its first row before the woken partner updates it, and the two deadlock again; the pause
    // before a retry makes that rare, and the attempt bound keeps it finite.
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried.length).toBeLessThanOrEqual(2);
    for (const r of retried) expect(r).toMatch(/^[ab]:40P01$/);
    expect(attempts.a + attempts.b).toBe(2 + retried.length);
    // Each row was incremented once per completed transaction, never by the aborted attempt.
    expect((await rt.db(table).orderBy('id')).map((r) => r.n)).toEqual([2, 2]);
  });

  it('stops after transactionAttemptsMax attempts and hands the abort to the caller', async () => {
    let attempts = 0;
    const abort = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    await expect(
      transactionRetried(rt.db, async (tx) => {
        attempts += 1;
        await tx(table).where({ id: 1 }).increment('n', 100);
        throw abort;
      }),
    ).rejects.toBe(abort);
    expect(attempts).toBe(transactionAttemptsMax);
    expect((await rt.db(table).where({ id: 1 }).first()).n).toBeLessThan(100);
  });

  it('runs other failures once', async () => {
    let attempts = 0;
    await expect(
      transactionRetried(rt.db, async (tx) => {
        attempts += 1;
        await tx.raw(`INSERT INTO ${table} (id, n) VALUES (1, 0)`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(attempts).toBe(1);
  });
});
