import type { Runtime } from '../../src/runtime';
import { appendAudit, verifyChain } from '../../src/audit/service';
import { startTestRuntime } from '../support/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

describe('audit chain under concurrency', () => {
  it('keeps one unbroken chain when many transactions append at once, each transaction keeping its events in order', async () => {
    const tag = `t${Date.now()}`;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rt.db.transaction(async (tx) => {
          for (let k = 0; k < 3; k++) await appendAudit(tx, { actor: { type: 'system' }, action: 'test.append', entityType: 'test', entityId: `${tag}-${i}`, data: { k } });
        }),
      ),
    );
    const rows = await rt.db('audit_events').where('entity_id', 'like', `${tag}-%`).orderBy('seq');
    expect(rows).toHaveLength(60);
    for (let i = 0; i < 20; i++) {
      const mine = rows.filter((r) => r.entity_id === `${tag}-${i}`);
      expect(mine.map((r) => r.data.k)).toEqual([0, 1, 2]);
      // Appended together just before commit, so nothing of another transaction lands between them.
      expect(Number(mine[2].seq - mine[0].seq)).toBe(2);
    }
    expect((await verifyChain(rt.db)).ok).toBe(true);
  });

  it('extends the chain at commit with one statement for all of a transaction\'s events', async () => {
    const tag = `one${Date.now()}`;
    const statements: string[] = [];
    await rt.db.transaction(async (tx) => {
      tx.on('query', (q: { sql: string }) => statements.push(q.sql));
      for (let k = 0; k < 5; k++) await appendAudit(tx, { actor: { type: 'system' }, action: 'test.append', entityType: 'test', entityId: tag, data: { k } });
    });
    expect(statements.filter((sql) => /audit/i.test(sql))).toHaveLength(1);
    const rows = await rt.db('audit_events').where({ entity_id: tag }).orderBy('seq');
    expect(rows.map((r) => r.data.k)).toEqual([0, 1, 2, 3, 4]);
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    expect((await verifyChain(rt.db)).ok).toBe(true);
  });

  it('writes nothing for a transaction that rolls back', async () => {
    const tag = `rb${Date.now()}`;
    await expect(
      rt.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: { type: 'system' }, action: 'test.append', entityType: 'test', entityId: tag });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await rt.db('audit_events').where({ entity_id: tag })).toHaveLength(0);
  });

  it('appends at once outside a transaction', async () => {
    const tag = `nt${Date.now()}`;
    await appendAudit(rt.db, { actor: { type: 'system' }, action: 'test.append', entityType: 'test', entityId: tag });
    expect(await rt.db('audit_events').where({ entity_id: tag })).toHaveLength(1);
  });
});
