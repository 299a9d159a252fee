// The simulated bank's books: accounts with bigint fen balances and one entry row per booking.
// A booking locks every account it touches (in account-number order, so two transfers in
// opposite directions cannot deadlock), checks, writes the entries and the new balances in
// the caller's transaction: concurrent transfers can neither lose money nor overdraw.
import type { Knex } from 'knex';
import { shanghaiParts } from '../banks/iso20022/time';
import { formatAmount } from '../domain/money';
import { table, type SandboxContext } from './context';
import { SandboxError, TransferRejected, reasonCodes } from './errors';

/** ISO 20022 Othr/Id is at most 34 characters; Chinese account numbers are digits, but some
 *  banks use letters or dashes in internal numbers. */
export const accountNumberPattern = /^[0-9A-Za-z-]{1,34}$/;
export const accountNameLengthMax = 140;
export const bankCodePattern = /^\d{12}$/;
export const remittanceLengthMax = 140;
export const endToEndIdLengthMax = 35;
/** GET /sandbox/accounts/:number shows at most this many of the latest entries. */
export const accountEntriesMax = 500;

export type Direction = 'credit' | 'debit';

export interface AccountRow {
  number: string;
  name: string;
  bank_code: string;
  kind: 'customer' | 'trust';
  status: 'open' | 'closed';
  balance_fen: bigint;
  initial_balance_fen: bigint;
  auto_created: boolean;
  opened_at: Date;
  closed_at: Date | null;
}

export interface EntryRow {
  seq: bigint;
  ref: string;
  transfer_ref: string;
  account_number: string;
  direction: Direction;
  amount_fen: bigint;
  balance_after_fen: bigint;
  counterparty_number: string | null;
  counterparty_name: string | null;
  counterparty_bank_code: string | null;
  addressed_account: string | null;
  end_to_end_id: string | null;
  remittance: string | null;
  origin: 'customer' | 'payment';
  booked_at: Date;
  value_date: string;
}

export interface Party {
  accountNumber: string;
  name: string;
  bankCode?: string;
}

export interface BookingRequest {
  /** Sandbox account debited (locked and checked). */
  debitAccount: string;
  /** Sandbox account credited, or null when the payee is at another bank (only a debit here). */
  creditAccount: string | null;
  /** The payee as the payer named it (for an external payee, the only record of it). */
  payee: Party;
  amountFen: bigint;
  /** The number the payer addressed, when it differs from creditAccount (a virtual sub-account). */
  addressedAccount?: string;
  endToEndId?: string;
  remittance?: string;
  origin: 'customer' | 'payment';
}

export interface Booking {
  transferRef: string;
  bookedAt: Date;
  valueDate: string;
  debit: EntryRow;
  credit?: EntryRow;
  debtor: AccountRow;
  creditor?: AccountRow;
}

export function checkAccountNumber(value: unknown, param: string): string {
  if (typeof value !== 'string' || !accountNumberPattern.test(value)) {
    throw new SandboxError(400, 'invalid_request', `${param} must be 1-34 letters, digits or dashes`, param);
  }
  return value;
}

export async function lockAccounts(tx: Knex.Transaction, ctx: SandboxContext, numbers: string[]): Promise<Map<string, AccountRow>> {
  const unique = [...new Set(numbers)].sort();
  const rows: AccountRow[] = await tx(table(ctx, 'accounts')).whereIn('number', unique).orderBy('number').forUpdate();
  return new Map(rows.map((r) => [r.number, r]));
}

export async function findAccount(tx: Knex | Knex.Transaction, ctx: SandboxContext, number: string): Promise<AccountRow | undefined> {
  return tx(table(ctx, 'accounts')).where({ number }).first();
}

/** Bank codes the sandbox holds accounts at: an unknown account there is AC01, anywhere else
 *  it is another bank's customer. */
export async function holdsBankCode(tx: Knex | Knex.Transaction, ctx: SandboxContext, bankCode: string): Promise<boolean> {
  const row = await tx(table(ctx, 'accounts')).where({ bank_code: bankCode }).first('number');
  return row !== undefined;
}

/** "SBX" + instance tag + business date + 10-digit serial: 25 characters, within AcctSvcrRef's
 *  35 with room for the entry's D/C suffix and the notice's "SBXN" prefix (cn-h2h allows 32). */
function transferRefOf(ctx: SandboxContext, serial: bigint, at: Date): string {
  return `SBX${ctx.instanceTag}${shanghaiParts(at).compactDate}${serial.toString().padStart(10, '0')}`;
}

/** Books one transfer: debit (and credit, when the payee is here) in the caller's transaction.
 *  Throws TransferRejected (AC04 closed, AM04 funds) without writing anything. */
export async function book(tx: Knex.Transaction, ctx: SandboxContext, req: BookingRequest): Promise<Booking> {
  if (req.amountFen <= 0n) throw new Error('assertion: a booking moves a positive amount');
  if (req.creditAccount === req.debitAccount) throw new TransferRejected(reasonCodes.AG01, 'an account cannot pay itself');
  const locked = await lockAccounts(tx, ctx, req.creditAccount ? [req.debitAccount, req.creditAccount] : [req.debitAccount]);
  const debtor = locked.get(req.debitAccount);
  if (!debtor) throw new TransferRejected(reasonCodes.AC01, `account ${req.debitAccount} does not exist`);
  if (debtor.status !== 'open') throw new TransferRejected(reasonCodes.AC04, `account ${debtor.number} is closed`);
  let creditor: AccountRow | undefined;
  if (req.creditAccount) {
    creditor = locked.get(req.creditAccount);
    if (!creditor) throw new TransferRejected(reasonCodes.AC01, `account ${req.creditAccount} does not exist`);
    if (creditor.status !== 'open') throw new TransferRejected(reasonCodes.AC04, `account ${creditor.number} is closed`);
  }
  if (debtor.balance_fen < req.amountFen) {
    throw new TransferRejected(reasonCodes.AM04, `insufficient funds in ${debtor.number}: balance ${formatAmount(debtor.balance_fen)}, needed ${formatAmount(req.amountFen)}`);
  }
  // The database's clock, read after the locks: per account, booking times then follow the
  // order of the entries, which the statement's opening balance relies on. Every round trip
  // from here to commit is time the accounts stay locked, so the writes are batched.
  const { rows } = await tx.raw(`SELECT clock_timestamp() AS now, nextval('"${ctx.config.schema}".booking_seq') AS serial`);
  const bookedAt = rows[0].now as Date;
  const valueDate = shanghaiParts(bookedAt).date;
  const transferRef = transferRefOf(ctx, rows[0].serial as bigint, bookedAt);
  const common = {
    transfer_ref: transferRef,
    amount_fen: req.amountFen,
    end_to_end_id: req.endToEndId ?? null,
    remittance: req.remittance ?? null,
    origin: req.origin,
    booked_at: bookedAt,
    value_date: valueDate,
  };
  const debitBalance = debtor.balance_fen - req.amountFen;
  const creditBalance = creditor ? creditor.balance_fen + req.amountFen : undefined;
  const newEntries: Record<string, unknown>[] = [
    {
      ...common,
      ref: `${transferRef}D`,
      account_number: debtor.number,
      direction: 'debit',
      balance_after_fen: debitBalance,
      counterparty_number: req.payee.accountNumber,
      counterparty_name: req.payee.name,
      counterparty_bank_code: req.payee.bankCode ?? creditor?.bank_code ?? null,
      addressed_account: null,
    },
  ];
  if (creditor) {
    newEntries.push({
      ...common,
      ref: `${transferRef}C`,
      account_number: creditor.number,
      direction: 'credit',
      balance_after_fen: creditBalance,
      counterparty_number: debtor.number,
      counterparty_name: debtor.name,
      counterparty_bank_code: debtor.bank_code,
      addressed_account: req.addressedAccount ?? creditor.number,
    });
  }
  const written = (await tx(table(ctx, 'entries')).insert(newEntries).returning('*')) as EntryRow[];
  const debit = written.find((e) => e.direction === 'debit')!;
  const credit = written.find((e) => e.direction === 'credit');
  const balances: [string, bigint][] = [[debtor.number, debitBalance]];
  if (creditor) balances.push([creditor.number, creditBalance!]);
  await tx.raw(
    `UPDATE ?? AS a SET balance_fen = v.balance FROM (VALUES ${balances.map(() => '(?, ?::bigint)').join(', ')}) AS v(number, balance) WHERE a.number = v.number`,
    [table(ctx, 'accounts'), ...balances.flatMap(([n, b]) => [n, b.toString()])],
  );
  if (creditor) creditor = { ...creditor, balance_fen: creditBalance! };
  // Postcondition: money left one account and, inside the bank, arrived in exactly one other.
  if (debit.amount_fen !== req.amountFen || (credit && credit.amount_fen !== debit.amount_fen)) {
    throw new Error('assertion: debit and credit of one booking differ');
  }
  return { transferRef, bookedAt, valueDate, debit, credit, debtor: { ...debtor, balance_fen: debitBalance }, creditor };
}

export function entryJson(e: EntryRow) {
  return {
    ref: e.ref,
    transferRef: e.transfer_ref,
    amount: formatAmount(e.amount_fen),
    currency: 'CNY',
    direction: e.direction,
    counterparty: { accountNumber: e.counterparty_number, name: e.counterparty_name, bankCode: e.counterparty_bank_code },
    addressedAccount: e.addressed_account,
    endToEndId: e.end_to_end_id,
    remittance: e.remittance,
    balanceAfter: formatAmount(e.balance_after_fen),
    bookedAt: e.booked_at.toISOString(),
    valueDate: e.value_date,
  };
}

export function accountJson(a: AccountRow) {
  return {
    number: a.number,
    name: a.name,
    bankCode: a.bank_code,
    kind: a.kind,
    balance: formatAmount(a.balance_fen),
    currency: 'CNY',
    status: a.status,
    openedAt: a.opened_at.toISOString(),
    closedAt: a.closed_at ? a.closed_at.toISOString() : null,
  };
}
