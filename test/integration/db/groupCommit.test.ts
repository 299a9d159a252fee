// When a group of units starts its transaction (db/groupCommit.ts): at once when none is in
// flight; beside one in flight only once enough units wait to make a full group; never more than
// the spec's groups at once.
import { GroupCommitter, groupsInFlightMax, overlapGroupUnitsMin, type GroupCommitSpec } from '../../../src/db/groupCommit';
import type { Runtime } from '../../../src/runtime';
import { startTestRuntime } from '../../support/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

interface Unit {
  id: string;
}

/** A committer whose groups each hold their transaction open until the test releases them. */
function gatedCommitter(overrides: Partial<GroupCommitSpec<Unit, string>> = {}) {
  const started: { ids: string[]; backend: number; release: () => void }[] = [];
  let inTransaction = 0;
  let inTransactionMax = 0;
  const spec: GroupCommitSpec<Unit, string> = {
    work: 'gated',
    unitsMax: 16,
    groupKey: () => 'one',
    unitKey: (u) => u.id,
    act: async (tx, units) => {
      inTransaction += 1;
      inTransactionMax = Math.max(inTransactionMax, inTransaction);
      const [{ pid }] = (await tx.raw('SELECT pg_backend_pid() AS pid')).rows;
      await new Promise<void>((release) => started.push({ ids: units.map((u) => u.id), backend: pid, release }));
      inTransaction -= 1;
      return units.map((u) => ({ value: `done ${u.id}` }));
    },
    ...overrides,
  };
  return { committer: new GroupCommitter(rt, spec), started, inTransactionMax: () => inTransactionMax };
}

const settle = () => new Promise((r) => setTimeout(r, 50));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('a group beside one in its transaction', () => {
  it('starts only once enough units wait to make a full group, then shares the database with the first', async () => {
    expect(groupsInFlightMax).toBe(2);
    const { committer, started, inTransactionMax } = gatedCommitter();
    const submit = (id: string) => committer.submit({ id }, rt);
    // Nothing in flight: the first unit is a group at once.
    const answers = [submit('a')];
    await until(() => started.length === 1);
    // Fewer than the bound wait behind it.
    const fewer = Array.from({ length: overlapGroupUnitsMin - 1 }, (_, i) => `b${i}`);
    answers.push(...fewer.map(submit));
    await settle();
    expect(started).toHaveLength(1);
    // One more makes a full group, which starts while the first is still in its transaction.
    answers.push(submit('b-last'));
    await until(() => started.length === 2);
    expect(started[1].ids).toEqual([...fewer, 'b-last']);
    expect(started[1].backend).not.toBe(started[0].backend);
    // Two in flight: however many wait, no third starts until one of them commits.
    const more = Array.from({ length: overlapGroupUnitsMin + 1 }, (_, i) => `c${i}`);
    answers.push(...more.map(submit));
    await settle();
    expect(started).toHaveLength(2);
    started[0].release();
    await until(() => started.length === 3);
    expect(started[2].ids).toEqual(more);
    started[1].release();
    started[2].release();
    expect(await Promise.all(answers)).toEqual(['a', ...fewer, 'b-last', ...more].map((id) => `done ${id}`));
    expect(inTransactionMax()).toBe(2);
  });

  it('is not started while one is in flight when the spec allows one group at a time', async () => {
    const { committer, started, inTransactionMax } = gatedCommitter({ inFlightMax: 1 });
    const answers = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => committer.submit({ id }, rt));
    await until(() => started.length === 1);
    await settle();
    expect(started).toHaveLength(1);
    started[0].release();
    await until(() => started.length === 2);
    expect(started[1].ids).toEqual(['b', 'c', 'd', 'e', 'f']);
    started[1].release();
    await Promise.all(answers);
    expect(inTransactionMax()).toBe(1);
  });

  it('counts only the units of the oldest waiting unit\'s group key toward the bound', async () => {
    const { committer, started } = gatedCommitter({ groupKey: (u) => u.id.slice(0, 1) });
    const submit = (id: string) => committer.submit({ id }, rt);
    const answers = [submit('a0')];
    await until(() => started.length === 1);
    // Units of two keys wait, fewer than the bound of each: neither group starts beside the first.
    const mixed = Array.from({ length: overlapGroupUnitsMin - 1 }, (_, i) => [`x${i}`, `y${i}`]).flat();
    answers.push(...mixed.map(submit));
    await settle();
    expect(started).toHaveLength(1);
    answers.push(submit('x-last'));
    await until(() => started.length === 2);
    expect(started[1].ids).toEqual([...mixed.filter((id) => id.startsWith('x')), 'x-last']);
    for (const s of started) s.release();
    await until(() => started.length === 3);
    started[2].release();
    expect(started[2].ids).toEqual(mixed.filter((id) => id.startsWith('y')));
    await Promise.all(answers);
  });
});
