import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../src/runtime';
import type { Knex } from 'knex';
import { balanceOf, ensureAccount, postJournal, postJournals, reverseJournal, writeBatchSql } from '../../src/ledger';
import { statement } from '../../src/db/statements';
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

  describe('postJournals', () => {
    /** The statements a unit of work sends, counted by knex's query event for its transaction. */
    async function counted<T>(work: (tx: Knex.Transaction) => Promise<T>): Promise<{ result: T; statements: number }> {
      let statements = 0;
      const result = await rt.db.transaction(async (tx) => {
        const onQuery = () => statements++;
        tx.on('query', onQuery);
        try {
          return await work(tx);
        } finally {
          tx.off('query', onQuery);
        }
      });
      return { result, statements };
    }

    it('posts every journal of a batch, creating the accounts it names, in one statement', async () => {
      const t = tag();
      const cash = { code: `test:${t}:cash`, type: 'asset' as const };
      const owed = (i: number) => ({ code: `test:${t}:owed:${i}`, type: 'liability' as const });
      const inputs = [1, 2, 3].map((i) => ({ kind: 'test', ref: `${t}-${i}`, memo: `batch ${i}`, postings: [{ account: cash, amountFen: BigInt(i * 100) }, { account: owed(i), amountFen: BigInt(-i * 100) }] }));
      const { result, statements } = await counted((tx) => postJournals(tx, inputs));
      expect(statements).toBe(1);
      expect(result.map((r) => [r.created, r.journal.ref, r.postings.map((p) => p.amount_fen)])).toEqual([
        [true, `${t}-1`, [100n, -100n]],
        [true, `${t}-2`, [200n, -200n]],
        [true, `${t}-3`, [300n, -300n]],
      ]);
      for (const r of result) for (const p of r.postings) expect(p.posted_at).toEqual(r.journal.posted_at);
      expect(await balanceOf(rt.db, cash.code)).toBe(600n);
      expect(await balanceOf(rt.db, owed(2).code)).toBe(-200n);
      expect(await rt.db('ledger_accounts').where('code', 'like', `test:${t}:%`).orderBy('code').pluck('type')).toEqual(['asset', 'liability', 'liability', 'liability']);
    });

    it('answers a (kind, ref) posted before, or twice in the batch, with the journal on record and writes it once', async () => {
      const { a, l } = await accounts();
      const t = tag();
      const earlier = await rt.db.transaction((tx) => postJournal(tx, { kind: 'test', ref: `${t}-old`, memo: 'earlier', postings: [{ account: a, amountFen: 40n }, { account: l, amountFen: -40n }] }));
      const { result, statements } = await counted((tx) =>
        postJournals(tx, [
          { kind: 'test', ref: `${t}-new`, memo: 'new', postings: [{ account: a, amountFen: 5n }, { account: l, amountFen: -5n }] },
          { kind: 'test', ref: `${t}-old`, memo: 'again', postings: [{ account: a, amountFen: 999n }, { account: l, amountFen: -999n }] },
          { kind: 'test', ref: `${t}-new`, memo: 'twice', postings: [{ account: a, amountFen: 7n }, { account: l, amountFen: -7n }] },
        ]),
      );
      expect(statements).toBe(2);
      expect(result[0]).toMatchObject({ created: true, journal: { memo: 'new' } });
      expect(result[1]).toMatchObject({ created: false, journal: { id: earlier.journal.id, memo: 'earlier' } });
      expect(result[1].postings.map((p) => p.amount_fen)).toEqual([40n, -40n]);
      expect(result[2]).toMatchObject({ created: false, journal: { id: result[0].journal.id } });
      expect(result[2].postings.map((p) => p.amount_fen)).toEqual([5n, -5n]);
      expect(await balanceOf(rt.db, a)).toBe(45n);
    });

    it('refuses a batch holding one unbalanced journal and writes nothing of it', async () => {
      const t = tag();
      const cash = { code: `test:${t}:cash`, type: 'asset' as const };
      const owed = { code: `test:${t}:owed`, type: 'liability' as const };
      await expect(
        rt.db.transaction((tx) =>
          postJournals(tx, [
            { kind: 'test', ref: `${t}-ok`, memo: 'ok', postings: [{ account: cash, amountFen: 100n }, { account: owed, amountFen: -100n }] },
            { kind: 'test', ref: `${t}-bad`, memo: 'bad', postings: [{ account: cash, amountFen: 100n }, { account: owed, amountFen: -90n }] },
          ]),
        ),
      ).rejects.toThrow(/sum to 10 fen/);
      expect(await rt.db('journals').whereIn('ref', [`${t}-ok`, `${t}-bad`])).toHaveLength(0);
      expect(await rt.db('ledger_accounts').where('code', 'like', `test:${t}:%`)).toHaveLength(0);
    });

    it('posts nothing for an empty batch', async () => {
      const { result, statements } = await counted((tx) => postJournals(tx, []));
      expect(result).toEqual([]);
      expect(statements).toBe(0);
    });

    // Another module's rows written in the batch's statement (deposits/creditBatch.ts writes its
    // deposits so): here a row of an ordinary table, an account the journals do not name.
    const withAccount = statement(
      'test.ledgerWithAccount',
      writeBatchSql(`extra AS (INSERT INTO ledger_accounts (code, type) SELECT code, 'asset' FROM jsonb_to_recordset($4::jsonb) AS x(code text) RETURNING 1)`),
    );

    it('writes rows of another module in the statement that posts the batch, and with it only', async () => {
      const { a, l } = await accounts();
      const t = tag();
      const extra = `test:${t}:alongside`;
      const { result, statements } = await counted((tx) =>
        postJournals(tx, [{ kind: 'test', ref: t, memo: 'with rows alongside', postings: [{ account: a, amountFen: 30n }, { account: l, amountFen: -30n }] }], { statement: withAccount, values: [JSON.stringify([{ code: extra }])] }),
      );
      expect(statements).toBe(1);
      expect(result[0]).toMatchObject({ created: true, journal: { ref: t } });
      expect(await rt.db('ledger_accounts').where({ code: extra })).toHaveLength(1);

      // Rolled back with its batch: a refused journal writes nothing alongside; nor does a batch
      // of no journals, which is a caller's bug.
      const refused = `test:${tag()}:alongside`;
      await expect(
        rt.db.transaction((tx) => postJournals(tx, [{ kind: 'test', ref: tag(), memo: 'bad', postings: [{ account: a, amountFen: 30n }, { account: l, amountFen: -29n }] }], { statement: withAccount, values: [JSON.stringify([{ code: refused }])] })),
      ).rejects.toThrow(/sum to 1 fen/);
      await expect(rt.db.transaction((tx) => postJournals(tx, [], { statement: withAccount, values: [JSON.stringify([{ code: refused }])] }))).rejects.toThrow(/come with journals/);
      expect(await rt.db('ledger_accounts').where({ code: refused })).toHaveLength(0);
    });

    it('keeps the ledger whole when batches sharing accounts and refs run at once', async () => {
      const { a, l } = await accounts();
      const t = tag();
      const batch = (k: number) =>
        Array.from({ length: 5 }, (_, i) => ({ kind: 'test', ref: `${t}-${(i + k) % 7}`, memo: `b${k}`, postings: [{ account: a, amountFen: 10n }, { account: l, amountFen: -10n }] }));
      const results = await Promise.all([0, 1, 2, 3].map((k) => rt.db.transaction((tx) => postJournals(tx, batch(k)))));
      const createdRefs = results.flat().filter((r) => r.created).map((r) => r.journal.ref);
      expect(new Set(createdRefs).size).toBe(createdRefs.length);
      expect(createdRefs).toHaveLength(7);
      expect(await balanceOf(rt.db, a)).toBe(70n);
    });
  });
});
