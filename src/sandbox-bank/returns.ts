// POST /sandbox/returns: the payee's bank sends back a payment the trust account made (退汇),
// as it does when the payee's account turns out closed, unknown or held by someone else after
// the payment had settled. The money comes back into the trust account (taken from the payee's
// account when that account is at the sandbox) and the service is notified: a credit with the
// return reason and the end-to-end id of the payment that came back. The payment itself keeps
// its settled status, as at a real bank: the return is a booking of its own.
import { formatAmount } from '../domain/money';
import { table, type SandboxContext } from './context';
import { SandboxError } from './errors';
import { strictBody } from './bodies';
import { endToEndIdLengthMax, findAccount, post, type EntryRow } from './ledger';
import { enqueueNotification } from './notifier';

/** ExternalReturnReason1Code: four characters (AC01, AC04, BE01, MS03, NARR...). */
const returnReasonPattern = /^[A-Z0-9]{4}$/;

export interface ReturnInput {
  endToEndId: string;
  reasonCode: string;
}

export function parseReturn(body: unknown): ReturnInput {
  const b = strictBody(body, ['endToEndId', 'reasonCode']);
  if (typeof b.endToEndId !== 'string' || !/^[\x21-\x7e]+$/.test(b.endToEndId) || b.endToEndId.length > endToEndIdLengthMax) {
    throw new SandboxError(400, 'invalid_request', `endToEndId must be 1-${endToEndIdLengthMax} printable ASCII characters`, 'endToEndId');
  }
  if (typeof b.reasonCode !== 'string' || !returnReasonPattern.test(b.reasonCode)) {
    throw new SandboxError(400, 'invalid_request', 'reasonCode must be an ISO 20022 return reason code: four capital letters or digits, e.g. AC04', 'reasonCode');
  }
  return { endToEndId: b.endToEndId, reasonCode: b.reasonCode };
}

interface SettledInstruction {
  id: bigint;
  end_to_end_id: string;
  amount_fen: bigint;
  creditor_number: string;
  creditor_name: string;
  creditor_bank_code: string | null;
  remittance: string | null;
  status: 'pending' | 'settled' | 'rejected';
  transfer_ref: string | null;
  external_payee: boolean | null;
}

export async function returnPayment(ctx: SandboxContext, input: ReturnInput) {
  const trust = ctx.config.trustAccount;
  if (!trust) throw new SandboxError(409, 'no_trust_account', 'the sandbox has no trust account configured (SANDBOX_TRUST_ACCOUNT): there is nothing to return to');
  const result = await ctx.db.transaction(async (tx) => {
    // The end-to-end id registry names the one instruction that may ever be paid under the id
    // (every later one was refused DUPL); its row lock serializes two returns of it.
    const claim = await tx(table(ctx, 'end_to_end_ids')).where({ debtor_account: trust.number, end_to_end_id: input.endToEndId }).first();
    const instruction: SettledInstruction | undefined = claim
      ? await tx(table(ctx, 'payment_instructions')).where({ id: claim.instruction_id }).forUpdate().first()
      : undefined;
    if (!instruction) {
      throw new SandboxError(404, 'payment_not_found', `the trust account never sent a payment with end-to-end id ${input.endToEndId}`, 'endToEndId');
    }
    if (instruction.status !== 'settled') {
      throw new SandboxError(409, 'payment_not_settled', `payment ${input.endToEndId} is ${instruction.status === 'pending' ? 'not settled yet' : 'rejected: it never left'}; only settled money can come back`, 'endToEndId');
    }
    const done = await tx(table(ctx, 'payment_returns')).where({ instruction_id: instruction.id }).first();
    if (done) throw new SandboxError(409, 'already_returned', `payment ${input.endToEndId} was already returned (${done.return_transfer_ref})`, 'endToEndId');
    // A payee at the sandbox gives the money back from the account it was credited to; one at
    // another bank is that bank's business, and the money arrives through clearing.
    let payeeAccount: string | undefined;
    if (!instruction.external_payee) {
      const credited: EntryRow | undefined = await tx(table(ctx, 'entries')).where({ ref: `${instruction.transfer_ref}C` }).first();
      if (!credited) throw new Error(`assertion: settled payment ${instruction.transfer_ref} to a sandbox payee has its credit`);
      payeeAccount = credited.account_number;
    }
    const payeeRow = payeeAccount ? await findAccount(tx, ctx, payeeAccount) : undefined;
    const posting = await post(tx, ctx, {
      kind: 'return',
      origin: 'bank',
      amountFen: instruction.amount_fen,
      debit: payeeAccount ? { account: payeeAccount } : undefined,
      credit: {
        account: trust.number,
        // As the trust account named the payee when it paid.
        counterparty: { accountNumber: instruction.creditor_number, name: instruction.creditor_name, bankCode: instruction.creditor_bank_code ?? payeeRow?.bank_code },
      },
      endToEndId: instruction.end_to_end_id,
      remittance: instruction.remittance ?? undefined,
      returnReason: input.reasonCode,
      requireOpen: false,
    });
    const credit = posting.credit!;
    const messageId = await enqueueNotification(tx, ctx, credit, posting.accounts.get(trust.number)!);
    await tx(table(ctx, 'payment_returns')).insert({
      instruction_id: instruction.id,
      debtor_account: trust.number,
      end_to_end_id: instruction.end_to_end_id,
      reason_code: input.reasonCode,
      return_transfer_ref: posting.transferRef,
    });
    return { posting, messageId };
  });
  ctx.wakeNotifier();
  const { posting, messageId } = result;
  return {
    ref: posting.transferRef,
    endToEndId: input.endToEndId,
    reasonCode: input.reasonCode,
    bookedAt: posting.bookedAt.toISOString(),
    amount: formatAmount(posting.credit!.amount_fen),
    currency: 'CNY',
    creditRef: posting.credit!.ref,
    debitRef: posting.debit?.ref ?? null,
    payeeDebited: posting.debit?.account_number ?? null,
    notified: true,
    notificationMessageId: messageId,
  };
}
