// Journal transactions. Every movement of cash is one balanced journal; the database refuses an
// unbalanced one at commit and any change to a posted row, and this module asserts the same
// before it writes, so a programming error fails loudly here instead of at COMMIT.
import type { Knex } from 'knex';
import { assert } from '../errors';
import { assertFen } from '../domain/money';
import { newId } from '../domain/ids';
import { ensureAccount, type AccountSpec } from './accounts';

/** A journal with more legs than this is a bug (ours move money between two or three places). */
export const journalPostingsMax = 100;
export const journalMemoCharsMax = 500;

export interface PostingInput {
  /** An account code (see accounts.ts) or a spec that creates the account if missing. */
  account: string | AccountSpec;
  /** Debit positive, credit negative. */
  amountFen: bigint;
}

export interface JournalInput {
  kind: string;
  /** The movement's own reference (a bank entry ref, a deposit id): unique per kind. */
  ref: string;
  memo: string;
  postings: PostingInput[];
}

export interface JournalRow {
  id: string;
  kind: string;
  ref: string;
  memo: string;
  reverses_journal_id: string | null;
  posted_at: Date;
}

export interface PostingRow {
  id: bigint;
  journal_id: string;
  account: string;
  amount_fen: bigint;
  posted_at: Date;
}

export interface PostedJournal {
  journal: JournalRow;
  postings: PostingRow[];
  /** False when this kind and ref were posted before: nothing was written this time. */
  created: boolean;
}

function assertBalanced(postings: { amountFen: bigint }[], what: string): void {
  assert(postings.length >= 2, `${what}: a journal needs at least two postings`);
  assert(postings.length <= journalPostingsMax, `${what}: more than ${journalPostingsMax} postings`);
  let sum = 0n;
  for (const p of postings) {
    assertFen(p.amountFen, `${what} posting amount`);
    assert(p.amountFen !== 0n, `${what}: a posting of zero`);
    sum += p.amountFen;
  }
  assert(sum === 0n, `${what}: postings sum to ${sum} fen, not zero`);
}

/** Posts a balanced journal once per (kind, ref): posting the same movement again returns the
 *  journal already on record and writes nothing. */
export async function postJournal(tx: Knex.Transaction, input: JournalInput, opts: { reversesJournalId?: string } = {}): Promise<PostedJournal> {
  assert(/^[a-z_]{1,40}$/.test(input.kind), `journal kind ${JSON.stringify(input.kind)}`);
  assert(input.ref.length > 0, 'journal ref must not be empty');
  assertBalanced(input.postings, `journal ${input.kind}/${input.ref}`);
  const id = newId('jnl');
  const inserted = await tx('journals')
    .insert({ id, kind: input.kind, ref: input.ref, memo: input.memo.slice(0, journalMemoCharsMax), reverses_journal_id: opts.reversesJournalId ?? null })
    .onConflict(['kind', 'ref'])
    .ignore()
    .returning('*');
  if (inserted.length === 0) {
    const journal = (await tx<JournalRow>('journals').where({ kind: input.kind, ref: input.ref }).first())!;
    return { journal, postings: await postingsOf(tx, journal.id), created: false };
  }
  const journal = inserted[0] as JournalRow;
  const codes: string[] = [];
  for (const p of input.postings) {
    if (typeof p.account === 'string') codes.push(p.account);
    else {
      await ensureAccount(tx, p.account);
      codes.push(p.account.code);
    }
  }
  const rows = await tx('postings')
    .insert(input.postings.map((p, i) => ({ journal_id: id, account: codes[i], amount_fen: p.amountFen, posted_at: journal.posted_at })))
    .returning('*');
  return { journal, postings: rows as PostingRow[], created: true };
}

/** The correction of a posted journal: the same postings with opposite signs. A journal is
 *  reversed at most once (unique reverses_journal_id). */
export async function reverseJournal(tx: Knex.Transaction, journalId: string, memo: string): Promise<PostedJournal> {
  const original = await tx<JournalRow>('journals').where({ id: journalId }).first();
  assert(original, `journal ${journalId} exists`);
  assert(original.reverses_journal_id === null, `journal ${journalId} is itself a reversal`);
  const postings = await postingsOf(tx, journalId);
  return postJournal(
    tx,
    { kind: 'reversal', ref: journalId, memo, postings: postings.map((p) => ({ account: p.account, amountFen: -p.amount_fen })) },
    { reversesJournalId: journalId },
  );
}

export const postingsOf = (tx: Knex | Knex.Transaction, journalId: string) =>
  tx<PostingRow>('postings').where({ journal_id: journalId }).orderBy('id') as unknown as Promise<PostingRow[]>;

/** Debit-positive balance of an account, counting postings up to and including `at`. */
export async function balanceOf(tx: Knex | Knex.Transaction, account: string, at?: Date): Promise<bigint> {
  const q = tx('postings').where({ account }).sum({ total: 'amount_fen' });
  if (at) q.where('posted_at', '<=', at);
  const [{ total }] = await q;
  // sum(int8) is numeric: it comes back as a decimal string, exact.
  return total === null ? 0n : BigInt(total as string);
}
