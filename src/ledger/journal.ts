// Journal transactions. Every movement of cash is one balanced journal; the database refuses an
// unbalanced one at commit and any change to a posted row, and this module asserts the same
// before it writes, so a programming error fails loudly here instead of at COMMIT.
import type { Knex } from 'knex';
import { assert } from '../errors';
import { assertFen } from '../domain/money';
import { newId } from '../domain/ids';
import type { AccountSpec } from './accounts';
import { columnList, run, statement, type Statement } from '../db/statements';

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

/** A batch with more journals than this is a bug: callers post one unit of work at a time
 *  (one notification's credits), and the batch travels as one statement parameter. */
export const journalsPerBatchMax = 1000;

/** Posts a balanced journal once per (kind, ref): posting the same movement again returns the
 *  journal already on record and writes nothing. */
export async function postJournal(tx: Knex.Transaction, input: JournalInput, opts: { reversesJournalId?: string } = {}): Promise<PostedJournal> {
  const [posted] = await postBatch(tx, [{ input, reversesJournalId: opts.reversesJournalId ?? null }]);
  return posted;
}

/** postJournal for each input, in a fixed number of statements whatever the batch's size: one
 *  that writes the new journals, the accounts their postings need and their postings, and one
 *  more only when some (kind, ref) was posted before (or twice in the batch: the first wins, as
 *  it would one after another). Every input is checked before anything is written, so one
 *  unbalanced journal refuses the whole batch. Results are in the order of the inputs. */
export async function postJournals(tx: Knex.Transaction, inputs: JournalInput[], alongside?: Alongside): Promise<PostedJournal[]> {
  return postBatch(
    tx,
    inputs.map((input) => ({ input, reversesJournalId: null })),
    alongside,
  );
}

/** Rows of another module written in the batch's statement: a statement made with
 *  `writeBatchSql(cte)`, and the values of its parameters from $4 on. */
export interface Alongside {
  statement: Statement;
  values: unknown[];
}

interface BatchItem {
  input: JournalInput;
  reversesJournalId: string | null;
}

interface WrittenRow extends PostingRow {
  kind: string;
  ref: string;
  memo: string;
  reverses_journal_id: string | null;
  journal_posted_at: Date;
}

interface ExistingRow extends JournalRow {
  posting_id: bigint;
  posting_account: string;
  posting_amount_fen: bigint;
  posting_posted_at: Date;
}

// Journals are inserted in (kind, ref) order and accounts in code order, so two batches that
// share keys wait on each other instead of deadlocking. The accounts' foreign keys are checked at
// the end of the statement, by which time the sibling insert has created them.
const journalColumns = { id: true, kind: true, ref: true, memo: true, reverses_journal_id: true, posted_at: true } as const;
const postingColumns = { id: true, journal_id: true, account: true, amount_fen: true, posted_at: true } as const;

/** The statement that writes a batch: its journals ($1), the accounts their postings need ($2)
 *  and the postings ($3). `alongside`, CTEs of another module's rows written in the same
 *  statement (from $4 on), saves its caller a round trip; they are inserted whatever the
 *  journals turn out to be, and their foreign keys, like the accounts', are checked at the end
 *  of the statement. */
export function writeBatchSql(alongside?: string): string {
  return `
WITH ${alongside ? `${alongside}, ` : ''}new_journals AS (
  INSERT INTO journals (id, kind, ref, memo, reverses_journal_id)
  SELECT id, kind, ref, memo, reverses FROM jsonb_to_recordset($1::jsonb) AS x(id text, kind text, ref text, memo text, reverses text)
  ORDER BY kind, ref
  ON CONFLICT (kind, ref) DO NOTHING
  RETURNING ${columnList<JournalRow>(null, journalColumns)}
), new_accounts AS (
  INSERT INTO ledger_accounts (code, type, bank_id, section_id, deposit_id)
  SELECT DISTINCT ON (code) code, type, bank_id, section_id, deposit_id
  FROM jsonb_to_recordset($2::jsonb) AS a(journal_id text, code text, type text, bank_id text, section_id text, deposit_id text)
  WHERE a.journal_id IN (SELECT id FROM new_journals)
  ORDER BY code
  ON CONFLICT (code) DO NOTHING
), new_postings AS (
  INSERT INTO postings (journal_id, account, amount_fen, posted_at)
  SELECT p.journal_id, p.account, p.amount_fen::bigint, j.posted_at
  FROM jsonb_to_recordset($3::jsonb) AS p(n int, journal_id text, account text, amount_fen text)
  JOIN new_journals j ON j.id = p.journal_id
  ORDER BY p.n
  RETURNING ${columnList<PostingRow>(null, postingColumns)}
)
SELECT ${columnList<PostingRow>('p', postingColumns)}, j.kind, j.ref, j.memo, j.reverses_journal_id, j.posted_at AS journal_posted_at
FROM new_postings p JOIN new_journals j ON j.id = p.journal_id
ORDER BY p.id`;
}

const writeBatch = statement('ledger.writeBatch', writeBatchSql());

const readPosted = statement('ledger.readPosted', `
SELECT ${columnList<JournalRow>('j', journalColumns)}, p.id AS posting_id, p.account AS posting_account, p.amount_fen AS posting_amount_fen, p.posted_at AS posting_posted_at
FROM (SELECT DISTINCT kind, ref FROM jsonb_to_recordset($1::jsonb) AS x(kind text, ref text)) x
-- One lookup per journal and its postings (db/statements.ts: plans that hold as the tables grow).
CROSS JOIN LATERAL (SELECT * FROM journals j WHERE j.kind = x.kind AND j.ref = x.ref LIMIT 1) j
CROSS JOIN LATERAL (SELECT * FROM postings p WHERE p.journal_id = j.id OFFSET 0) p
ORDER BY j.id, p.id`);

async function postBatch(tx: Knex.Transaction, items: BatchItem[], alongside?: Alongside): Promise<PostedJournal[]> {
  assert(items.length <= journalsPerBatchMax, `more than ${journalsPerBatchMax} journals in one batch`);
  for (const { input } of items) {
    assert(/^[a-z_]{1,40}$/.test(input.kind), `journal kind ${JSON.stringify(input.kind)}`);
    assert(input.ref.length > 0, 'journal ref must not be empty');
    assertBalanced(input.postings, `journal ${input.kind}/${input.ref}`);
  }
  if (items.length === 0) {
    assert(!alongside, 'rows written alongside a batch of journals come with journals');
    return [];
  }

  const journals: { id: string; kind: string; ref: string; memo: string; reverses: string | null }[] = [];
  const accounts: { journal_id: string; code: string; type: string; bank_id: string | null; section_id: string | null; deposit_id: string | null }[] = [];
  const postings: { n: number; journal_id: string; account: string; amount_fen: string }[] = [];
  for (const { input, reversesJournalId } of items) {
    const id = newId('jnl');
    journals.push({ id, kind: input.kind, ref: input.ref, memo: input.memo.slice(0, journalMemoCharsMax), reverses: reversesJournalId });
    for (const p of input.postings) {
      if (typeof p.account === 'string') {
        postings.push({ n: postings.length, journal_id: id, account: p.account, amount_fen: p.amountFen.toString() });
        continue;
      }
      const a = p.account;
      accounts.push({ journal_id: id, code: a.code, type: a.type, bank_id: a.bankId ?? null, section_id: a.sectionId ?? null, deposit_id: a.depositId ?? null });
      postings.push({ n: postings.length, journal_id: id, account: a.code, amount_fen: p.amountFen.toString() });
    }
  }

  const written = await run<WrittenRow>(tx, alongside?.statement ?? writeBatch, [JSON.stringify(journals), JSON.stringify(accounts), JSON.stringify(postings), ...(alongside?.values ?? [])]);
  const created = new Map<string, PostedJournal>();
  for (const r of written) {
    let posted = created.get(r.journal_id);
    if (!posted) {
      posted = {
        journal: { id: r.journal_id, kind: r.kind, ref: r.ref, memo: r.memo, reverses_journal_id: r.reverses_journal_id, posted_at: r.journal_posted_at },
        postings: [],
        created: true,
      };
      created.set(r.journal_id, posted);
    }
    posted.postings.push({ id: r.id, journal_id: r.journal_id, account: r.account, amount_fen: r.amount_fen, posted_at: r.posted_at });
  }

  const key = (kind: string, ref: string) => `${kind}\u0000${ref}`;
  const before = new Map<string, PostedJournal>();
  const missing = journals.filter((j) => !created.has(j.id));
  if (missing.length > 0) {
    const rows = await run<ExistingRow>(tx, readPosted, [JSON.stringify(missing.map((j) => ({ kind: j.kind, ref: j.ref })))]);
    for (const r of rows) {
      const k = key(r.kind, r.ref);
      let posted = before.get(k);
      if (!posted) {
        posted = {
          journal: { id: r.id, kind: r.kind, ref: r.ref, memo: r.memo, reverses_journal_id: r.reverses_journal_id, posted_at: r.posted_at },
          postings: [],
          created: false,
        };
        before.set(k, posted);
      }
      posted.postings.push({ id: r.posting_id, journal_id: r.id, account: r.posting_account, amount_fen: r.posting_amount_fen, posted_at: r.posting_posted_at });
    }
  }

  return journals.map((j) => {
    const posted = created.get(j.id) ?? before.get(key(j.kind, j.ref));
    assert(posted, `journal ${j.kind}/${j.ref} neither written nor on record`);
    return posted;
  });
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
