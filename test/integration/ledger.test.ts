import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../src/runtime';
import { balanceOf, ensureAccount, postJournal, reverseJournal } from '../../src/ledger';
import { startTestRuntime } from '../support/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

const tag = () => randomBytes(6).toString('hex');
async function accounts() {
  const t = tag();
  const a = { code: `test:${t}:cash`, type: 'asset' as const };
  const l = { code: `test:${t}:owed`, type: 'liability' as const };
  await ensureAccount(rt.db, a);
  await ensureAccount(rt.db, l);
  return { a: a.code, l: l.code };
}

describe('ledger', () => {
  it('refuses in code a journal whose postings do not sum to zero', async () => {
    const { a, l } = await accounts();
    await expect(rt.db.transaction((tx) => postJournal(tx, { kind: 'test', ref: tag(), memo: 'x', postings: [{ account: a, amountFen: 100n }, { account: l, amountFen: -99n }] }))).rejects.toThrow(/sum to 1 fen/);
  });

  it('refuses at commit an unbalanced journal written past the code, and an empty one', async () => {
    const { a } = await accounts();
    const id = `jnl_${tag()}`;
    await expect(
      rt.db.transaction(async (tx) => {
        await tx('journals').insert({ id, kind: 'test', ref: tag(), memo: 'raw' });
        await tx('postings').insert({ journal_id: id, account: a, amount_fen: 100n });
      }),
    ).rejects.toThrow(/unbalanced|at least two/);
    await expect(rt.db.transaction((tx) => tx('journals').insert({ id: `jnl_${tag()}`, kind: 'test', ref: tag(), memo: 'empty' }))).rejects.toThrow(/at least two/);
    expect(await rt.db('journals').where({ id })).toHaveLength(0);
  });

  it('is append-only: updates and deletes of journals and postings are refused', async () => {
    const { a, l } = await accounts();
    const { journal } = await rt.db.transaction((tx) => postJournal(tx, { kind: 'test', ref: tag(), memo: 'x', postings: [{ account: a, amountFen: 500n }, { account: l, amountFen: -500n }] }));
    await expect(rt.db('postings').where({ journal_id: journal.id }).update({ amount_fen: 1n })).rejects.toThrow(/append-only/);
    await expect(rt.db('postings').where({ journal_id: journal.id }).del()).rejects.toThrow(/append-only/);
    await expect(rt.db('journals').where({ id: journal.id }).update({ memo: 'changed' })).rejects.toThrow(/append-only/);
    await expect(rt.db('journals').where({ id: journal.id }).del()).rejects.toThrow(/append-only/);
    expect(await balanceOf(rt.db, a)).toBe(500n);
  });

  it('posts a movement once per kind and ref, and corrects by a reversal that nets to zero', async () => {
    const { a, l } = await accounts();
    const ref = tag();
    const input = { kind: 'test', ref, memo: 'x', postings: [{ account: a, amountFen: 700n }, { account: l, amountFen: -700n }] };
    const first = await rt.db.transaction((tx) => postJournal(tx, input));
    const again = await rt.db.transaction((tx) => postJournal(tx, input));
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, journal: { id: first.journal.id } });
    expect(await balanceOf(rt.db, a)).toBe(700n);
    const rev = await rt.db.transaction((tx) => reverseJournal(tx, first.journal.id, 'posted in error'));
    expect(rev.journal.reverses_journal_id).toBe(first.journal.id);
    const revAgain = await rt.db.transaction((tx) => reverseJournal(tx, first.journal.id, 'again'));
    expect(revAgain.created).toBe(false);
    expect(await balanceOf(rt.db, a)).toBe(0n);
    expect(await balanceOf(rt.db, l)).toBe(0n);
  });

  it('gives the balance at any past moment', async () => {
    const { a, l } = await accounts();
    await rt.db.transaction((tx) => postJournal(tx, { kind: 'test', ref: tag(), memo: '1', postings: [{ account: a, amountFen: 100n }, { account: l, amountFen: -100n }] }));
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await rt.db.transaction((tx) => postJournal(tx, { kind: 'test', ref: tag(), memo: '2', postings: [{ account: a, amountFen: 250n }, { account: l, amountFen: -250n }] }));
    expect(await balanceOf(rt.db, a, between)).toBe(100n);
    expect(await balanceOf(rt.db, a)).toBe(350n);
    expect(await balanceOf(rt.db, l)).toBe(-350n);
    expect(await balanceOf(rt.db, a, new Date(0))).toBe(0n);
  });
});
