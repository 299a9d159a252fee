// The references among statements, their entries, reconciliations, lines and exceptions are
// checked once per statement (migration 20261205005000) instead of row by row: a row naming a
// statement, reconciliation or line that does not exist is still refused by the database, with
// the foreign key's SQLSTATE and constraint name, and the referenced records can be neither
// deleted nor renumbered. The reconciliation itself comes through the API.
import request from 'supertest';
import type { Express } from 'express';
import type { Knex } from 'knex';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import { postJournal, suspenseAccountSpec, trustAccountSpec } from '../../src/ledger';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, type Bank } from '../api/deposits.support';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;
let bank: Bank;
let rid: string;
let statementId: string;
let lineIds: string[];

const date = '2024-05-06';

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  bank = await new DepositWorld(rt, app, centre).bank();
  const trust = (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number as string;
  // Three debits the ledger never saw: three lines, each an open exception.
  const entries: StatementEntry[] = [1, 2, 3].map((i) => ({
    entryRef: `REF${bank.id.slice(-8)}${i}`, direction: 'debit', amountFen: BigInt(100 * i), currency: 'CNY', bookedAt: `${date}T02:00:00Z`, valueDate: date,
    counterparty: { name: '某建设有限公司', accountNumber: `6222000000000${i}`, bankCode: '103100000026' },
  }));
  const xml = [...camt053Chunks({ messageId: `REFS${bank.id.slice(-8)}`, statementId: 'REFS', account: trust, currency: 'CNY', date, openingBalanceFen: 600n, closingBalanceFen: 0n, createdAt: new Date() }, entries)].join('');
  const res = await request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);
  expect(res.status).toBe(201);
  rid = res.body.id;
  const r = await rt.db('reconciliations').where({ id: rid }).first();
  statementId = String(r.statement_id);
  lineIds = (await rt.db('reconciliation_lines').where({ reconciliation_id: rid }).orderBy('id').pluck('id')).map(String);
  expect(lineIds).toHaveLength(3);
});

afterAll(async () => {
  await rt?.close();
});

/** Runs `work` in a transaction that is always rolled back, and returns what it threw. */
async function refusal(work: (tx: Knex.Transaction) => Promise<unknown>): Promise<{ code?: string; constraint?: string; message: string }> {
  let caught: unknown;
  await rt.db
    .transaction(async (tx) => {
      try {
        await work(tx);
      } catch (e) {
        caught = e;
      }
      throw new Error('rollback');
    })
    .catch(() => undefined);
  if (!caught) throw new Error('expected the database to refuse');
  return caught as { code?: string; constraint?: string; message: string };
}

const entryRow = (statement: string, lineNo: number) => ({
  statement_id: statement, line_no: lineNo, entry_ref: `X${lineNo}`, direction: 'debit', amount_fen: 1n, currency: 'CNY', booked_at: new Date(), value_date: date,
});

describe('references checked per statement', () => {
  it('refuses statement entries of a statement that does not exist, even among valid ones', async () => {
    const err = await refusal((tx) => tx('statement_entries').insert([entryRow(statementId, 1001), entryRow('987654321987', 1002)]));
    expect(err.code).toBe('23503');
    expect(err.constraint).toBe('statement_entries_statement_id_foreign');
    expect(err.message).toContain('statement_entries_statement_id_foreign');
  });

  it('accepts entries, lines and exceptions whose references exist', async () => {
    await rt.db.transaction(async (tx) => {
      await tx('statement_entries').insert([entryRow(statementId, 2001), entryRow(statementId, 2002)]);
      const [line] = await tx('reconciliation_lines').insert({ reconciliation_id: rid, result: 'missing_in_bank', entry_ref: 'X' }).returning('id');
      await tx('reconciliation_exceptions').insert({ reconciliation_id: rid, line_id: line.id, kind: 'missing_in_bank', entry_ref: 'X', amount_fen: 1n, detail: 'x' });
      throw new Error('rollback');
    }).catch((e: Error) => expect(e.message).toBe('rollback'));
  });

  it('refuses a line of a reconciliation that does not exist', async () => {
    const err = await refusal((tx) => tx('reconciliation_lines').insert({ reconciliation_id: 'rcn_missing', result: 'missing_in_bank' }));
    expect(err.code).toBe('23503');
    expect(err.constraint).toBe('reconciliation_lines_reconciliation_id_foreign');
  });

  it('refuses an exception of a reconciliation, or on a line, that does not exist', async () => {
    const row = { kind: 'missing_in_bank', entry_ref: 'X', amount_fen: 1n, detail: 'x' };
    const noReconciliation = await refusal((tx) => tx('reconciliation_exceptions').insert({ ...row, reconciliation_id: 'rcn_missing' }));
    expect(noReconciliation.code).toBe('23503');
    expect(noReconciliation.constraint).toBe('reconciliation_exceptions_reconciliation_id_foreign');
    const noLine = await refusal((tx) => tx('reconciliation_exceptions').insert({ ...row, reconciliation_id: rid, line_id: '999999999999' }));
    expect(noLine.code).toBe('23503');
    expect(noLine.constraint).toBe('reconciliation_exceptions_line_id_foreign');
  });

  it("refuses an exception on another reconciliation's line", async () => {
    const err = await refusal(async (tx) => {
      const other = 'rcn_refs_other_' + bank.id.slice(-8);
      const [st] = await tx('statements').insert({ bank_id: bank.id, source: 'cli' }).returning('id');
      await tx('reconciliations').insert({
        id: other, bank_id: bank.id, statement_id: st.id, statement_date: '2024-05-07', result: 'differences', opening_fen: 0n, closing_bank_fen: 0n, closing_ledger_fen: 0n,
        entry_count: 0, matched_count: 0, matched_credits_fen: 0n, matched_debits_fen: 0n, recovered_count: 0, exception_count: 0, source: 'cli', created_by: 'test',
      });
      await tx('reconciliation_exceptions').insert({ reconciliation_id: other, line_id: lineIds[0], kind: 'missing_in_ledger', entry_ref: 'X', amount_fen: 1n, detail: 'x' });
    });
    expect(err.code).toBe('23503');
    expect(err.constraint).toBe('reconciliation_exceptions_line_id_foreign');
  });

  it('refuses deleting or renumbering a statement, a reconciliation or a line, and moving a row to another', async () => {
    for (const work of [
      (tx: Knex.Transaction) => tx('statements').where({ id: statementId }).del(),
      (tx: Knex.Transaction) => tx('reconciliations').where({ id: rid }).del(),
      (tx: Knex.Transaction) => tx('reconciliation_lines').where({ id: lineIds[0] }).del(),
      (tx: Knex.Transaction) => tx('statements').where({ id: statementId }).update({ id: tx.raw('id + 1000000000') }),
      (tx: Knex.Transaction) => tx('reconciliations').where({ id: rid }).update({ id: `${rid}x` }),
      (tx: Knex.Transaction) => tx('reconciliation_lines').where({ id: lineIds[0] }).update({ id: tx.raw('id + 1000000000') }),
      (tx: Knex.Transaction) => tx('statement_entries').where({ statement_id: statementId, line_no: 1 }).update({ statement_id: tx.raw('statement_id + 1') }),
      (tx: Knex.Transaction) => tx('reconciliation_lines').where({ id: lineIds[0] }).update({ reconciliation_id: 'rcn_missing' }),
      async (tx: Knex.Transaction) => {
        // An exception on a line kept in reconciliation_exceptions, as written before exceptions
        // were kept on their lines.
        const [x] = await tx('reconciliation_exceptions').insert({ reconciliation_id: rid, line_id: lineIds[0], kind: 'missing_in_bank', entry_ref: 'X', amount_fen: 1n, detail: 'x' }).returning('id');
        await tx('reconciliation_exceptions').where({ reconciliation_id: rid, id: x.id }).update({ line_id: lineIds[1] });
      },
    ]) {
      const err = await refusal(work);
      expect(err.code).toBe('23503');
      expect(err.message).toMatch(/refused/);
    }
    // Nothing moved: the reconciliation reads as it was recorded.
    const res = await request(app).get(`/v1/reconciliations/${rid}`).set(bearer(centre));
    expect(res.status).toBe(200);
    expect(Number((await rt.db('reconciliation_lines').where({ reconciliation_id: rid }).count({ n: '*' }).first())!.n)).toBe(3);
    expect(Number((await rt.db('reconciliation_exception_rows').where({ reconciliation_id: rid }).whereNotNull('line_id').count({ n: '*' }).first())!.n)).toBe(3);
  });

  it("refuses an exception's correction journal that does not exist, when it is written or set later", async () => {
    const row = { reconciliation_id: rid, kind: 'missing_in_bank', entry_ref: 'X', amount_fen: 1n, detail: 'x' };
    const written = await refusal((tx) => tx('reconciliation_exceptions').insert({ ...row, correction_journal_id: 'jnl_missing' }));
    expect(written.code).toBe('23503');
    expect(written.constraint).toBe('reconciliation_exceptions_correction_journal_id_foreign');
    expect(written.message).toContain('reconciliation_exceptions_correction_journal_id_foreign');
    const lineWritten = await refusal((tx) => tx('reconciliation_lines').insert({ reconciliation_id: rid, result: 'missing_in_bank', exception_status: 'open', correction_journal_id: 'jnl_missing' }));
    expect(lineWritten.code).toBe('23503');
    expect(lineWritten.constraint).toBe('reconciliation_lines_correction_journal_id_foreign');
    const set = await refusal((tx) => tx('reconciliation_lines').where({ reconciliation_id: rid, id: lineIds[0] }).update({ correction_journal_id: 'jnl_missing' }));
    expect(set.code).toBe('23503');
    expect(set.constraint).toBe('reconciliation_lines_correction_journal_id_foreign');
    expect(set.message).toContain('reconciliation_lines_correction_journal_id_foreign');
    const exceptions = await rt.db('reconciliation_exception_rows').where({ reconciliation_id: rid }).whereNotNull('correction_journal_id');
    expect(exceptions).toEqual([]);
  });

  it("accepts a correction journal that exists, and an exception of the statement's own that has no line", async () => {
    await rt.db.transaction(async (tx) => {
      // A correction posted through the ledger in the same transaction as the resolution that
      // names it, as resolving an exception does.
      const { journal } = await postJournal(tx, {
        kind: 'bank_adjustment', ref: `${bank.id}:REFS-CORR`, memo: 'correction',
        postings: [{ account: trustAccountSpec(bank.id), amountFen: 1n }, { account: suspenseAccountSpec(bank.id), amountFen: -1n }],
      });
      const journalId = journal.id;
      await tx('reconciliation_lines').where({ reconciliation_id: rid, id: lineIds[1] }).update({ correction_journal_id: journalId });
      await tx('reconciliation_exceptions').insert({ reconciliation_id: rid, kind: 'balance_mismatch', entry_ref: 'REFS', amount_fen: 1n, detail: 'x' });
      throw new Error('rollback');
    }).catch((e: Error) => expect(e.message).toBe('rollback'));
  });

  it('lets the rows be updated otherwise (a line matched, an exception resolved)', async () => {
    await rt.db.transaction(async (tx) => {
      await tx('reconciliation_lines').where({ id: lineIds[0] }).update({ detail: 'looked at' });
      await tx('reconciliation_lines').where({ id: lineIds[0] }).update({ note: 'seen' });
      throw new Error('rollback');
    }).catch((e: Error) => expect(e.message).toBe('rollback'));
  });
});

// A reconciliation's row is written before its statement is read, and dated once the statement
// has been (migration 20261207001000): never committed without its date.
describe("a reconciliation's date, checked at commit", () => {
  async function undatedReconciliation(tx: Knex.Transaction, suffix: string): Promise<string> {
    const id = `rcn_undated_${suffix}_${bank.id.slice(-8)}`;
    const [st] = await tx('statements').insert({ bank_id: bank.id, source: 'cli' }).returning('id');
    await tx('reconciliations').insert({
      id, bank_id: bank.id, statement_id: st.id, statement_date: null, result: 'differences', opening_fen: 0n, closing_bank_fen: 0n, closing_ledger_fen: 0n,
      entry_count: 0, matched_count: 0, matched_credits_fen: 0n, matched_debits_fen: 0n, recovered_count: 0, exception_count: 0, source: 'cli', created_by: 'test',
    });
    return id;
  }

  it('refuses a reconciliation that reaches its commit without a date', async () => {
    const err = await refusal(async (tx) => {
      await undatedReconciliation(tx, 'a');
      // What COMMIT would check, checked now so that the transaction can still be rolled back.
      await tx.raw('SET CONSTRAINTS reconciliations_dated IMMEDIATE');
    });
    expect(err.code).toBe('23502');
    expect(err.message).toMatch(/was not given its statement's date/);
  });

  it('refuses a COMMIT of one never dated, and keeps nothing of it', async () => {
    const id = `rcn_undated_c_${bank.id.slice(-8)}`;
    await expect(
      rt.db.transaction(async (tx) => {
        await undatedReconciliation(tx, 'c');
      }),
    ).rejects.toMatchObject({ code: '23502' });
    expect(await rt.db('reconciliations').where({ id }).first()).toBeUndefined();
  });

  it('accepts one dated later in its own transaction', async () => {
    await rt.db
      .transaction(async (tx) => {
        const id = await undatedReconciliation(tx, 'b');
        await tx('reconciliations').where({ id }).update({ statement_date: '2024-05-08' });
        await tx.raw('SET CONSTRAINTS reconciliations_dated IMMEDIATE');
        throw new Error('rollback');
      })
      .catch((e: Error) => expect(e.message).toBe('rollback'));
  });
});
