// The journals of a whole payment message at once: one balanced journal per refund (its
// reservation, or its settlement), written with a few set-based statements instead of several
// round trips each. The same checks as the ledger's postJournal (balanced, two to
// journalPostingsMax legs, no zero leg), and the database's commit-time balance trigger holds
// for these journals as for any other. Every journal here is new: each is keyed by an attempt
// id that has never been posted under its kind, so a conflict is a bug, not a replay.
import type { Knex } from 'knex';
import { assert } from '../errors';
import { newId } from '../domain/ids';
import { assertFen } from '../domain/money';
import { journalMemoCharsMax, journalPostingsMax, type AccountSpec, type JournalInput } from '../ledger';

/** Rows per INSERT: PostgreSQL takes at most 65,535 bind parameters per statement. */
const rowsPerInsertMax = 2_000;

function assertBalanced(j: JournalInput): void {
  const what = `journal ${j.kind}/${j.ref}`;
  assert(/^[a-z_]{1,40}$/.test(j.kind), `${what}: kind`);
  assert(j.ref.length > 0, `${what}: ref must not be empty`);
  assert(j.postings.length >= 2 && j.postings.length <= journalPostingsMax, `${what}: ${j.postings.length} postings`);
  let sum = 0n;
  for (const p of j.postings) {
    assertFen(p.amountFen, `${what} posting amount`);
    assert(p.amountFen !== 0n, `${what}: a posting of zero`);
    sum += p.amountFen;
  }
  assert(sum === 0n, `${what}: postings sum to ${sum} fen, not zero`);
}

/** Posts new journals; returns their ids in input order. */
export async function postNewJournals(tx: Knex.Transaction, inputs: JournalInput[]): Promise<string[]> {
  if (inputs.length === 0) return [];
  for (const j of inputs) assertBalanced(j);
  const specs = new Map<string, AccountSpec>();
  for (const j of inputs) for (const p of j.postings) if (typeof p.account !== 'string') specs.set(p.account.code, p.account);
  const accountRows = [...specs.values()].map((a) => ({ code: a.code, type: a.type, bank_id: a.bankId ?? null, section_id: a.sectionId ?? null, deposit_id: a.depositId ?? null }));
  for (let i = 0; i < accountRows.length; i += rowsPerInsertMax) {
    await tx('ledger_accounts').insert(accountRows.slice(i, i + rowsPerInsertMax)).onConflict('code').ignore();
  }
  const ids = inputs.map(() => newId('jnl'));
  const postedAt = new Map<string, Date>();
  for (let i = 0; i < inputs.length; i += rowsPerInsertMax) {
    const rows = inputs.slice(i, i + rowsPerInsertMax).map((j, k) => ({ id: ids[i + k], kind: j.kind, ref: j.ref, memo: j.memo.slice(0, journalMemoCharsMax), reverses_journal_id: null }));
    const inserted = (await tx('journals').insert(rows).onConflict(['kind', 'ref']).ignore().returning(['id', 'posted_at'])) as { id: string; posted_at: Date }[];
    assert(inserted.length === rows.length, `${rows.length - inserted.length} of the journals were posted before`);
    for (const r of inserted) postedAt.set(r.id, r.posted_at);
  }
  const postings = inputs.flatMap((j, k) =>
    j.postings.map((p) => ({ journal_id: ids[k], account: typeof p.account === 'string' ? p.account : p.account.code, amount_fen: p.amountFen, posted_at: postedAt.get(ids[k])! })),
  );
  for (let i = 0; i < postings.length; i += rowsPerInsertMax) await tx('postings').insert(postings.slice(i, i + rowsPerInsertMax));
  return ids;
}
