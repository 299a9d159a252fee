// Bank exceptions: what a deposit bank told us that the rules cannot settle on their own, kept
// for a person at the centre. Any module that reads bank messages records them here, in the
// transaction of the message, once per bank entry and kind however often the entry is notified.
//
// For reversals (冲正) the kind says whether the reversal was applied:
//   reversal_unmatched      NOT applied: no credit still holding the money matches it (none
//                           found, several fit, or the money was refunded, forfeited, is in
//                           flight to the payer or held in suspense); nothing else was changed.
//   reversal_after_opening  applied (the deposit is reversed, the ledger follows the bank), but
//                           the roster fixed at the opening counted it: the centre decides.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { toJsonSafe } from '../audit/canonical';
import { assert, Conflict, NotFound } from '../errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import type { Tx } from '../db/knex';
import type { Caller } from '../http/auth';
import { paginate, type Page } from '../http/pagination';
import { actorOf } from '../registry/service';
import * as repo from './exceptionsRepo';

/** Detail and resolution notes are read by people and end up in the audit log: bounded. */
export const bankExceptionDetailCharsMax = 1_000;
export const bankExceptionNoteCharsMax = 1_000;

export interface BankExceptionInput {
  bankId: string;
  kind: repo.BankExceptionKind;
  /** The bank's reference of the entry concerned: with the kind, the exception's identity. */
  entryRef: string;
  messageId?: string | null;
  amountFen?: bigint | null;
  currency?: string | null;
  sectionId?: string | null;
  bidderId?: string | null;
  depositId?: string | null;
  refundId?: string | null;
  /** What a person needs to know, in a sentence. */
  detail: string;
  data?: Record<string, unknown>;
  /** Who reported it; the bank by default. */
  actor?: Actor;
}

/** Records an exception once per (bank, entry, kind): asking again returns the one on record
 *  with `created: false` and changes nothing. */
export async function recordBankException(tx: Knex.Transaction, input: BankExceptionInput): Promise<{ exception: repo.BankExceptionRow; created: boolean }> {
  assert(input.entryRef.length > 0, 'a bank exception names the bank entry');
  assert(input.detail.length > 0, 'a bank exception says what is wrong');
  assert(input.amountFen === undefined || input.amountFen === null || input.amountFen >= 0n, 'a bank exception amount is not negative');
  const inserted = await repo.insertBankException(tx, {
    id: newId('bex'),
    bank_id: input.bankId,
    kind: input.kind,
    entry_ref: input.entryRef,
    message_id: input.messageId ?? null,
    amount_fen: input.amountFen ?? null,
    currency: input.currency ?? null,
    section_id: input.sectionId ?? null,
    bidder_id: input.bidderId ?? null,
    deposit_id: input.depositId ?? null,
    refund_id: input.refundId ?? null,
    detail: input.detail.slice(0, bankExceptionDetailCharsMax),
    data: toJsonSafe(input.data ?? {}) as Record<string, unknown>,
  });
  if (!inserted) {
    const existing = await repo.findBankExceptionOf(tx, input.bankId, input.entryRef, input.kind);
    assert(existing, `bank exception ${input.kind} of ${input.bankId}:${input.entryRef} conflicted but is not on record`);
    return { exception: existing, created: false };
  }
  await appendAudit(tx, {
    actor: input.actor ?? { type: 'bank', id: input.bankId },
    action: 'bank_exception.opened',
    entityType: 'bank_exception',
    entityId: inserted.id,
    data: {
      bankId: input.bankId,
      kind: input.kind,
      entryRef: input.entryRef,
      messageId: input.messageId ?? null,
      amount: input.amountFen === undefined || input.amountFen === null ? null : formatAmount(input.amountFen),
      sectionId: input.sectionId ?? null,
      bidderId: input.bidderId ?? null,
      depositId: input.depositId ?? null,
      refundId: input.refundId ?? null,
      detail: inserted.detail,
    },
  });
  return { exception: inserted, created: true };
}

export interface BankExceptionListQuery extends repo.BankExceptionFilter {
  limit: number;
  cursor?: string;
}

export function listBankExceptions(tx: Tx, query: BankExceptionListQuery): Promise<Page<repo.BankExceptionRow>> {
  return paginate(repo.bankExceptionsWhere(tx, query), query, (r: repo.BankExceptionRow) => r);
}

export async function getBankException(tx: Tx, id: string): Promise<repo.BankExceptionRow> {
  const row = await repo.findBankException(tx, id);
  if (!row) throw new NotFound('bank exception', id);
  return row;
}

/** A person at the centre says how the exception was dealt with; once only. */
export async function resolveBankException(tx: Knex.Transaction, caller: Caller, id: string, note: string): Promise<repo.BankExceptionRow> {
  const ex = await repo.lockBankException(tx, id);
  if (!ex) throw new NotFound('bank exception', id);
  if (ex.status !== 'open') throw new Conflict('exception_resolved', `bank exception ${id} was resolved already by ${ex.resolved_by ?? 'someone'}`);
  const row = await repo.markBankExceptionResolved(tx, id, { note: note.slice(0, bankExceptionNoteCharsMax), resolvedBy: caller.keyId });
  assert(row, `bank exception ${id} moved from open to resolved`);
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'bank_exception.resolved',
    entityType: 'bank_exception',
    entityId: id,
    data: { bankId: ex.bank_id, kind: ex.kind, entryRef: ex.entry_ref, note: row.resolution },
  });
  return row;
}
