// POST /sandbox/reversals: the bank takes back a credit it booked (冲正), as a bank does when
// it finds the credit should never have been made. The money goes back to the payer; the
// account credited is debited even if it has since been closed, because the bank is undoing
// its own booking. A reversal of money into the trust account is notified to the service: a
// debit with the reversal indicator and the references of the credit it undoes.
import { formatAmount } from '../domain/money';
import { table, type SandboxContext } from './context';
import { SandboxError } from './errors';
import { strictBody } from './bodies';
import { isTrustAccount } from './accounts';
import { post, type EntryRow } from './ledger';
import { enqueueNotification } from './notifier';

/** Transfer references are the simulator's own ("SBX" + 22 characters). */
const transferRefPattern = /^[A-Za-z0-9]{1,40}$/;

export interface ReversalInput {
  ref: string;
}

export function parseReversal(body: unknown): ReversalInput {
  const b = strictBody(body, ['ref']);
  if (typeof b.ref !== 'string' || !transferRefPattern.test(b.ref)) {
    throw new SandboxError(400, 'invalid_request', 'ref must be the ref POST /sandbox/transfers answered', 'ref');
  }
  return { ref: b.ref };
}

export async function reverseTransfer(ctx: SandboxContext, input: ReversalInput) {
  const result = await ctx.db.transaction(async (tx) => {
    // The transfer's row lock serializes two reversals of it; the second then finds the first.
    const original = await tx(table(ctx, 'customer_transfers')).where({ ref: input.ref }).forUpdate().first();
    if (!original) throw new SandboxError(404, 'transfer_not_found', `no transfer ${input.ref} was booked through POST /sandbox/transfers`, 'ref');
    const done = await tx(table(ctx, 'reversals')).where({ original_transfer_ref: input.ref }).first();
    if (done) throw new SandboxError(409, 'already_reversed', `transfer ${input.ref} was already reversed by ${done.reversal_transfer_ref}`, 'ref');
    const entries: EntryRow[] = await tx(table(ctx, 'entries')).where({ transfer_ref: input.ref }).orderBy('seq');
    const paid = entries.find((e) => e.direction === 'debit');
    const credited = entries.find((e) => e.direction === 'credit');
    if (!paid || !credited || entries.length !== 2) throw new Error(`assertion: customer transfer ${input.ref} booked a debit and a credit`);
    if (isTrustAccount(ctx, paid.account_number)) {
      // The trust account's own payments come back as returns from the payee's bank; the
      // service is notified of credits into the trust account and their reversals only.
      throw new SandboxError(422, 'not_reversible', `transfer ${input.ref} was paid from the trust account: a payment out is returned (POST /sandbox/returns), not reversed`, 'ref');
    }
    const posting = await post(tx, ctx, {
      kind: 'reversal',
      origin: 'bank',
      amountFen: credited.amount_fen,
      debit: { account: credited.account_number, addressedAccount: credited.addressed_account ?? undefined, reversesRef: credited.ref },
      credit: { account: paid.account_number, reversesRef: paid.ref },
      endToEndId: credited.end_to_end_id ?? undefined,
      remittance: credited.remittance ?? undefined,
      requireOpen: false,
    });
    const debit = posting.debit!;
    const debited = posting.accounts.get(debit.account_number)!;
    const messageId = debited.kind === 'trust' ? await enqueueNotification(tx, ctx, debit, debited) : null;
    await tx(table(ctx, 'reversals')).insert({ original_transfer_ref: input.ref, reversal_transfer_ref: posting.transferRef });
    return { posting, messageId };
  });
  if (result.messageId) ctx.wakeNotifier();
  const { posting, messageId } = result;
  return {
    ref: posting.transferRef,
    reverses: input.ref,
    bookedAt: posting.bookedAt.toISOString(),
    amount: formatAmount(posting.debit!.amount_fen),
    currency: 'CNY',
    debitedAccount: posting.debit!.account_number,
    creditedAccount: posting.credit!.account_number,
    debitRef: posting.debit!.ref,
    creditRef: posting.credit!.ref,
    notified: messageId !== null,
    notificationMessageId: messageId,
  };
}
