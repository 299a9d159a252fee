// POST /sandbox/transfers: a customer of the sandbox pays. The transfer is booked at once
// (debit payer, credit payee) and, when the payee is the trust account or one of its virtual
// sub-accounts, its notification to the service is queued in the same transaction.
import { formatAmount } from '../domain/money';
import { amountField, checkIdempotencyKey, optionalBooleanField, strictBody } from './bodies';
import { table, type SandboxContext } from './context';
import { SandboxError, TransferRejected, reasonCodes } from './errors';
import { book, checkAccountNumber, endToEndIdLengthMax, findAccount, remittanceLengthMax } from './ledger';
import { resolvePayee } from './accounts';
import { enqueueCreditNotification, notificationMessageIdOf } from './notifier';

export interface CustomerTransferInput {
  fromAccount: string;
  toAccount: string;
  amountFen: bigint;
  remittance?: string;
  endToEndId?: string;
  /** The notice (and statement) report the booking date without a time, as some banks do. */
  bookingDateOnly: boolean;
  idempotencyKey?: string;
}

const transferFields = ['fromAccount', 'toAccount', 'amount', 'remittance', 'endToEndId', 'bookingDateOnly'] as const;

export function parseCustomerTransfer(body: unknown, idempotencyKey: string | undefined): CustomerTransferInput {
  const b = strictBody(body, transferFields);
  const fromAccount = checkAccountNumber(b.fromAccount, 'fromAccount');
  const toAccount = checkAccountNumber(b.toAccount, 'toAccount');
  const amountFen = amountField(b, 'amount');
  if (b.remittance !== undefined && (typeof b.remittance !== 'string' || b.remittance.length > remittanceLengthMax)) {
    throw new SandboxError(400, 'invalid_request', `remittance must be a string of at most ${remittanceLengthMax} characters`, 'remittance');
  }
  if (b.endToEndId !== undefined && (typeof b.endToEndId !== 'string' || !/^[\x21-\x7e]+$/.test(b.endToEndId) || b.endToEndId.length > endToEndIdLengthMax)) {
    throw new SandboxError(400, 'invalid_request', `endToEndId must be 1-${endToEndIdLengthMax} printable ASCII characters`, 'endToEndId');
  }
  return {
    fromAccount,
    toAccount,
    amountFen,
    remittance: b.remittance as string | undefined,
    endToEndId: b.endToEndId as string | undefined,
    bookingDateOnly: optionalBooleanField(b, 'bookingDateOnly') ?? false,
    idempotencyKey: checkIdempotencyKey(idempotencyKey),
  };
}

interface CustomerTransferRow {
  ref: string;
  idempotency_key: string | null;
  from_account: string;
  to_account: string;
  credited_account: string;
  amount_fen: bigint;
  remittance: string | null;
  end_to_end_id: string | null;
  debit_ref: string;
  credit_ref: string;
  notified: boolean;
  booked_at: Date;
  booking_date_only: boolean;
}

function transferJson(row: CustomerTransferRow, notificationMessageId: string | null) {
  return {
    ref: row.ref,
    bookedAt: row.booked_at.toISOString(),
    fromAccount: row.from_account,
    toAccount: row.to_account,
    creditedAccount: row.credited_account,
    amount: formatAmount(row.amount_fen),
    currency: 'CNY',
    remittance: row.remittance,
    endToEndId: row.end_to_end_id,
    debitRef: row.debit_ref,
    creditRef: row.credit_ref,
    notified: row.notified,
    notificationMessageId,
    bookingDateOnly: row.booking_date_only,
  };
}

/** Books a customer's payment. With an Idempotency-Key, a repeat returns the first booking
 *  (replayed: true) and moves no money; the same key for a different transfer is 422. */
export async function customerTransfer(ctx: SandboxContext, input: CustomerTransferInput) {
  const result = await ctx.db.transaction(async (tx) => {
    const transfers = table(ctx, 'customer_transfers');
    if (input.idempotencyKey) {
      // Serializes requests with the same key: the second waits here and then finds the first.
      await tx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`${ctx.config.schema}:${input.idempotencyKey}`]);
      const previous: CustomerTransferRow | undefined = await tx(transfers).where({ idempotency_key: input.idempotencyKey }).first();
      if (previous) {
        const same = previous.from_account === input.fromAccount && previous.to_account === input.toAccount && previous.amount_fen === input.amountFen;
        if (!same) throw new SandboxError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different transfer');
        return { row: previous, replayed: true, messageId: previous.notified ? notificationMessageIdOf(previous.ref) : null };
      }
    }
    const payer = await findAccount(tx, ctx, input.fromAccount);
    if (!payer) throw new SandboxError(404, 'account_not_found', `no account ${input.fromAccount}`, 'fromAccount');
    const payee = await resolvePayee(tx, ctx, input.toAccount);
    if (payee.kind === 'unknown') throw new TransferRejected(reasonCodes.AC01, `account ${input.toAccount} does not exist at the sandbox bank`);
    const creditAccount = payee.account;
    const payeeRow = await findAccount(tx, ctx, creditAccount);
    if (!payeeRow) throw new TransferRejected(reasonCodes.AC01, `account ${creditAccount} does not exist at the sandbox bank`);
    const booking = await book(tx, ctx, {
      debitAccount: payer.number,
      creditAccount,
      payee: { accountNumber: input.toAccount, name: payeeRow.name, bankCode: payeeRow.bank_code },
      amountFen: input.amountFen,
      addressedAccount: payee.kind === 'trust' ? payee.addressed : undefined,
      endToEndId: input.endToEndId,
      remittance: input.remittance,
      origin: 'customer',
      bookingDateOnly: input.bookingDateOnly,
    });
    const messageId = payee.kind === 'trust' ? await enqueueCreditNotification(tx, ctx, booking) : null;
    const [row]: CustomerTransferRow[] = await tx(transfers)
      .insert({
        ref: booking.transferRef,
        idempotency_key: input.idempotencyKey ?? null,
        from_account: payer.number,
        to_account: input.toAccount,
        credited_account: creditAccount,
        amount_fen: input.amountFen,
        remittance: input.remittance ?? null,
        end_to_end_id: input.endToEndId ?? null,
        debit_ref: booking.debit.ref,
        credit_ref: booking.credit!.ref,
        notified: messageId !== null,
        booked_at: booking.bookedAt,
        booking_date_only: input.bookingDateOnly,
      })
      .returning('*');
    return { row, replayed: false, messageId };
  });
  if (result.messageId && !result.replayed) ctx.wakeNotifier();
  return { ...transferJson(result.row, result.messageId), replayed: result.replayed };
}
