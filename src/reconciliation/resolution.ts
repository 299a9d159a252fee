// A person's decision on an exception. The ledger is never edited: where the decision is that
// the ledger must follow the bank (a bank fee, interest credited, a refund that never left),
// the correction is a new balanced journal between the trust account and the bank's suspense
// account, for a person to clear from there; the exception records the decision, who took it
// and the journal.
import type { Knex } from 'knex';
import { appendAudit } from '../audit/service';
import { Conflict, NotFound, Unprocessable, assert } from '../errors';
import { formatAmount } from '../domain/money';
import type { Caller } from '../http/auth';
import { postJournal, suspenseAccountSpec, trustAccountSpec } from '../ledger';
import * as repo from './repo';

export const resolutionDecisions = ['explained', 'bank_to_correct', 'corrected'] as const;
export type ResolutionDecision = (typeof resolutionDecisions)[number];
export const resolutionNoteCharsMax = 1_000;

export interface ResolutionInput {
  decision: ResolutionDecision;
  note: string;
  correction?: { counterAccount: 'suspense'; memo?: string };
}

/** Kinds a correcting journal can answer: each names one movement whose size both sides state. */
const correctableKinds = new Set(['missing_in_ledger', 'amount_mismatch', 'missing_in_bank']);

export async function resolveException(tx: Knex.Transaction, caller: Caller, reconciliationId: string, exceptionId: string, input: ResolutionInput) {
  const rcn = await repo.lockReconciliation(tx, reconciliationId);
  if (!rcn) throw new NotFound('reconciliation', reconciliationId);
  const ex = await repo.lockException(tx, reconciliationId, exceptionId);
  if (!ex) throw new NotFound('exception', exceptionId);
  if (ex.status !== 'open') throw new Conflict('exception_resolved', `exception ${exceptionId} was resolved already (${ex.decision})`);
  if (rcn.superseded_by) throw new Conflict('reconciliation_superseded', `reconciliation ${reconciliationId} was superseded by ${rcn.superseded_by}; resolve its exceptions there`);
  if ((input.decision === 'corrected') !== (input.correction !== undefined)) {
    throw new Unprocessable('correction_required', 'a correction goes with the decision "corrected", and only with it', 'correction');
  }
  const actor = { type: 'centre' as const, id: caller.keyId };
  let correctionJournalId: string | null = null;
  if (input.correction) {
    if (!correctableKinds.has(ex.kind)) throw new Unprocessable('not_correctable', `a ${ex.kind} is not corrected by a journal: decide it without one`, 'correction');
    assert(ex.line_id !== null, `a ${ex.kind} exception names its line`);
    const line = (await repo.findLine(tx, ex.line_id))!;
    // How the trust account must move so the ledger says what the bank says.
    const bankFen = line.bank_amount_fen ?? 0n;
    const ledgerFen = line.ledger_amount_fen ?? 0n;
    const deltaFen = ex.kind === 'missing_in_ledger' ? bankFen : ex.kind === 'amount_mismatch' ? bankFen - ledgerFen : -ledgerFen;
    if (deltaFen === 0n) throw new Unprocessable('nothing_to_correct', 'the two sides already agree on the amount', 'correction');
    const bankId = rcn.bank_id;
    // Keyed by the bank entry, so that a later statement matches the correction by the bank's
    // reference; a movement the bank never made is keyed by its journal.
    const ref = ex.kind === 'missing_in_bank' ? `${bankId}:unbooked:${line.journal_id}` : `${bankId}:${line.entry_ref}`;
    const posted = await postJournal(tx, {
      kind: 'bank_adjustment',
      ref,
      memo: `${input.correction.memo ?? input.note} (reconciliation ${reconciliationId}, exception ${exceptionId}: ${ex.kind} ${ex.entry_ref})`,
      postings: [
        { account: trustAccountSpec(bankId), amountFen: deltaFen },
        { account: suspenseAccountSpec(bankId), amountFen: -deltaFen },
      ],
    });
    if (!posted.created) throw new Conflict('already_corrected', `a correction for ${ex.entry_ref} was posted before (journal ${posted.journal.id})`);
    correctionJournalId = posted.journal.id;
    await appendAudit(tx, {
      actor, action: 'ledger.correction_posted', entityType: 'journal', entityId: posted.journal.id,
      data: { reconciliationId, exceptionId: String(exceptionId), kind: ex.kind, entryRef: ex.entry_ref, trustMovement: formatAmount(deltaFen), counterAccount: 'suspense' },
    });
  }
  const row = await repo.resolveException(tx, ex, { decision: input.decision, note: input.note, correctionJournalId, resolvedBy: caller.keyId });
  await appendAudit(tx, {
    actor, action: 'reconciliation.exception_resolved', entityType: 'reconciliation', entityId: reconciliationId,
    data: { reconciliationId, exceptionId: String(exceptionId), kind: ex.kind, entryRef: ex.entry_ref, decision: input.decision, note: input.note, correctionJournalId },
  });
  return row;
}
