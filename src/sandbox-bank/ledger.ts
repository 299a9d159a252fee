// The simulated bank's books: accounts with bigint fen balances and one entry row per booking
// side. A booking locks every account it touches (in account-number order, so two transfers in
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
/** What a booking is: a transfer between accounts, the bank's reversal of one (冲正), a payment
 *  returned by the payee's bank (退汇) or interest the bank pays (结息). */
export type EntryKind = 'transfer' | 'reversal' | 'return' | 'interest';
/** Who set it going: a customer through the customer API, a payment file, or the bank itself. */
export type Origin = 'customer' | 'payment' | 'bank';

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
  origin: Origin;
  booked_at: Date;
  value_date: string;
  kind: EntryKind;
  reverses_ref: string | null;
  return_reason: string | null;
  booking_date_only: boolean;
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
  /** The bank reports this booking by its date only. */
  bookingDateOnly?: boolean;
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

/** One side of a posting: a sandbox account and how its entry describes the other party. */
export interface PostingSide {
  account: string;
  /** Omitted: the account on the other side, when there is one (else no counterparty: the
   *  bank's own interest). A party without a bank code takes the other side's. */
  counterparty?: Party;
  /** The number the payer addressed, when it differs from the account (a virtual sub-account). */
  addressedAccount?: string;
  /** On a reversal: the ref of the entry on this account that it undoes. */
  reversesRef?: string;
}

export interface PostingRequest {
  kind: EntryKind;
  origin: Origin;
  amountFen: bigint;
  /** Omitted: the money comes from outside the bank's accounts (another bank through the
   *  clearing system, or the bank itself) and only the credit is booked here. */
  debit?: PostingSide;
  /** Omitted: the money leaves the bank (a payee at another bank). */
  credit?: PostingSide;
  endToEndId?: string;
  remittance?: string;
  returnReason?: string;
  bookingDateOnly?: boolean;
  /** The value date when it is not the business day of the booking (interest is value-dated
   *  on its 结息 day). */
  valueDate?: string;
  /** A customer's payment needs open accounts (AC04); the bank unwinding its own booking does
   *  not, as a return to a since-closed account still takes the money back. */
  requireOpen: boolean;
}

export interface Posting {
  transferRef: string;
  bookedAt: Date;
  valueDate: string;
  debit?: EntryRow;
  credit?: EntryRow;
  /** Every account touched, as it stands after the posting. */
  accounts: Map<string, AccountRow>;
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

function counterpartyColumns(given: Party | undefined, other: AccountRow | undefined) {
  if (!given && !other) return { counterparty_number: null, counterparty_name: null, counterparty_bank_code: null };
  return {
    counterparty_number: given?.accountNumber ?? other!.number,
    counterparty_name: given?.name ?? other!.name,
    counterparty_bank_code: given ? (given.bankCode ?? other?.bank_code ?? null) : other!.bank_code,
  };
}

/** Posts one booking: a debit, a credit or both, in the caller's transaction. Locks every
 *  account touched (in number order), then checks, then writes the entries and the new
 *  balances. Throws TransferRejected (AC01 unknown, AC04 closed, AM04 funds) without writing. */
export async function post(tx: Knex.Transaction, ctx: SandboxContext, req: PostingRequest): Promise<Posting> {
  if (req.amountFen <= 0n) throw new Error('assertion: a booking moves a positive amount');
  if (!req.debit && !req.credit) throw new Error('assertion: a booking has a debit, a credit or both');
  if (req.debit && req.credit && req.debit.account === req.credit.account) throw new TransferRejected(reasonCodes.AG01, 'an account cannot pay itself');
  const numbers = [req.debit?.account, req.credit?.account].filter((n): n is string => n !== undefined);
  const locked = await lockAccounts(tx, ctx, numbers);
  const debtor = req.debit ? locked.get(req.debit.account) : undefined;
  const creditor = req.credit ? locked.get(req.credit.account) : undefined;
  // The debtor is checked first: a payer learns about its own account before the payee's.
  for (const [side, row] of [[req.debit, debtor], [req.credit, creditor]] as const) {
    if (!side) continue;
    if (!row) throw new TransferRejected(reasonCodes.AC01, `account ${side.account} does not exist`);
    if (req.requireOpen && row.status !== 'open') throw new TransferRejected(reasonCodes.AC04, `account ${row.number} is closed`);
  }
  if (debtor && debtor.balance_fen < req.amountFen) {
    throw new TransferRejected(reasonCodes.AM04, `insufficient funds in ${debtor.number}: balance ${formatAmount(debtor.balance_fen)}, needed ${formatAmount(req.amountFen)}`);
  }
  // The database's clock, read after the locks: per account, booking times then follow the
  // order of the entries, which the statement's opening balance relies on. Every round trip
  // from here to commit is time the accounts stay locked, so the writes are batched.
  const { rows } = await tx.raw(`SELECT clock_timestamp() AS now, nextval('"${ctx.config.schema}".booking_seq') AS serial`);
  const bookedAt = rows[0].now as Date;
  const valueDate = req.valueDate ?? shanghaiParts(bookedAt).date;
  const transferRef = transferRefOf(ctx, rows[0].serial as bigint, bookedAt);
  const common = {
    transfer_ref: transferRef,
    amount_fen: req.amountFen,
    end_to_end_id: req.endToEndId ?? null,
    remittance: req.remittance ?? null,
    origin: req.origin,
    booked_at: bookedAt,
    value_date: valueDate,
    kind: req.kind,
    return_reason: req.returnReason ?? null,
    booking_date_only: req.bookingDateOnly ?? false,
  };
  const newEntries: Record<string, unknown>[] = [];
  const balances: [string, bigint][] = [];
  if (req.debit && debtor) {
    const balance = debtor.balance_fen - req.amountFen;
    balances.push([debtor.number, balance]);
    newEntries.push({
      ...common,
      ref: `${transferRef}D`,
      account_number: debtor.number,
      direction: 'debit',
      balance_after_fen: balance,
      ...counterpartyColumns(req.debit.counterparty, creditor),
      addressed_account: req.debit.addressedAccount ?? null,
      reverses_ref: req.debit.reversesRef ?? null,
    });
  }
  if (req.credit && creditor) {
    const balance = creditor.balance_fen + req.amountFen;
    balances.push([creditor.number, balance]);
    newEntries.push({
      ...common,
      ref: `${transferRef}C`,
      account_number: creditor.number,
      direction: 'credit',
      balance_after_fen: balance,
      ...counterpartyColumns(req.credit.counterparty, debtor),
      addressed_account: req.credit.addressedAccount ?? creditor.number,
      reverses_ref: req.credit.reversesRef ?? null,
    });
  }
  const written = (await tx(table(ctx, 'entries')).insert(newEntries).returning('*')) as EntryRow[];
  await tx.raw(
    `UPDATE ?? AS a SET balance_fen = v.balance FROM (VALUES ${balances.map(() => '(?, ?::bigint)').join(', ')}) AS v(number, balance) WHERE a.number = v.number`,
    [table(ctx, 'accounts'), ...balances.flatMap(([n, b]) => [n, b.toString()])],
  );
  const debit = written.find((e) => e.direction === 'debit');
  const credit = written.find((e) => e.direction === 'credit');
  // Postcondition: each side asked for was written once, for the amount asked.
  if (!!debit !== !!req.debit || !!credit !== !!req.credit || written.length !== numbers.length || written.some((e) => e.amount_fen !== req.amountFen)) {
    throw new Error('assertion: a booking wrote other entries than it was asked for');
  }
  const after = new Map(locked);
  for (const [number, balance] of balances) after.set(number, { ...locked.get(number)!, balance_fen: balance });
  return { transferRef, bookedAt, valueDate, debit, credit, accounts: after };
}

/** Books one transfer: debit (and credit, when the payee is here) in the caller's transaction.
 *  Throws TransferRejected (AC04 closed, AM04 funds) without writing anything. */
export async function book(tx: Knex.Transaction, ctx: SandboxContext, req: BookingRequest): Promise<Booking> {
  const posting = await post(tx, ctx, {
    kind: 'transfer',
    origin: req.origin,
    amountFen: req.amountFen,
    debit: { account: req.debitAccount, counterparty: req.payee },
    credit: req.creditAccount ? { account: req.creditAccount, addressedAccount: req.addressedAccount } : undefined,
    endToEndId: req.endToEndId,
    remittance: req.remittance,
    bookingDateOnly: req.bookingDateOnly,
    requireOpen: true,
  });
  return {
    transferRef: posting.transferRef,
    bookedAt: posting.bookedAt,
    valueDate: posting.valueDate,
    debit: posting.debit!,
    credit: posting.credit,
    debtor: posting.accounts.get(req.debitAccount)!,
    creditor: req.creditAccount ? posting.accounts.get(req.creditAccount) : undefined,
  };
}

/** The ISO 20022 bank transaction code of an entry, which both protocols report (cn-h2h as its
 *  tranType). A reversal keeps the code of what it undoes; RvslInd says it is undone. */
export function bankTransactionCodeOfEntry(e: Pick<EntryRow, 'kind' | 'direction'>): string {
  switch (e.kind) {
    case 'transfer':
      return e.direction === 'credit' ? 'PMNT/RCDT/DMCT' : 'PMNT/ICDT/DMCT';
    case 'reversal':
      return e.direction === 'debit' ? 'PMNT/RCDT/DMCT' : 'PMNT/ICDT/DMCT';
    case 'return':
      // The payer's side gets its own payment back; the payee's side gives back one received.
      return e.direction === 'credit' ? 'PMNT/ICDT/RRTN' : 'PMNT/RCDT/RRTN';
    case 'interest':
      return 'ACMT/MCOP/INTR';
  }
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
    kind: e.kind,
    reversesRef: e.reverses_ref,
    returnReason: e.return_reason,
    bookingDateOnly: e.booking_date_only,
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

/** Bookings per bank batch run: bounded so the accounts stay locked briefly. */
export const bookingsPerBatchMax = 1_000;

/** Books many transfers in the caller's transaction, as a bank's batch run does: every account
 *  touched is locked once (in number order), each transfer is checked against the balances left
 *  by those before it (AC01, AC04, AM04 reject that one transfer, nothing of it is written), and
 *  the entries and new balances are written together. Booking times are the database's clock,
 *  read once after the locks; the entries' order (seq) is the order of the requests. */
export async function bookMany(tx: Knex.Transaction, ctx: SandboxContext, reqs: BookingRequest[]): Promise<(Booking | TransferRejected)[]> {
  if (reqs.length === 0) return [];
  if (reqs.length > bookingsPerBatchMax) throw new Error(`assertion: at most ${bookingsPerBatchMax} bookings per batch`);
  const locked = await lockAccounts(tx, ctx, reqs.flatMap((r) => (r.creditAccount ? [r.debitAccount, r.creditAccount] : [r.debitAccount])));
  const balances = new Map([...locked].map(([n, a]) => [n, a.balance_fen]));
  const { rows: clock } = await tx.raw('SELECT clock_timestamp() AS now');
  const bookedAt = clock[0].now as Date;
  const valueDate = shanghaiParts(bookedAt).date;
  const outcomes: (TransferRejected | { debtor: AccountRow; creditor?: AccountRow })[] = reqs.map((req) => {
    if (req.amountFen <= 0n) throw new Error('assertion: a booking moves a positive amount');
    if (req.creditAccount === req.debitAccount) return new TransferRejected(reasonCodes.AG01, 'an account cannot pay itself');
    const debtor = locked.get(req.debitAccount);
    const creditor = req.creditAccount ? locked.get(req.creditAccount) : undefined;
    for (const [number, row] of [[req.debitAccount, debtor], [req.creditAccount, creditor]] as const) {
      if (number === null) continue;
      if (!row) return new TransferRejected(reasonCodes.AC01, `account ${number} does not exist`);
      if (row.status !== 'open') return new TransferRejected(reasonCodes.AC04, `account ${row.number} is closed`);
    }
    const available = balances.get(debtor!.number)!;
    if (available < req.amountFen) {
      return new TransferRejected(reasonCodes.AM04, `insufficient funds in ${debtor!.number}: balance ${formatAmount(available)}, needed ${formatAmount(req.amountFen)}`);
    }
    balances.set(debtor!.number, available - req.amountFen);
    if (creditor) balances.set(creditor.number, balances.get(creditor.number)! + req.amountFen);
    return { debtor: debtor!, creditor };
  });
  const booked = outcomes.map((o, i) => ({ o, i })).filter((x) => !(x.o instanceof TransferRejected));
  if (booked.length === 0) return outcomes as TransferRejected[];
  const { rows: serials } = await tx.raw(`SELECT nextval('"${ctx.config.schema}".booking_seq') AS serial FROM generate_series(1, ?)`, [booked.length]);
  // Running balances again, in request order, for each entry's balance_after.
  const running = new Map([...locked].map(([n, a]) => [n, a.balance_fen]));
  const entries: Record<string, unknown>[] = [];
  const refs: string[] = [];
  const after: { debtor: bigint; creditor?: bigint }[] = [];
  booked.forEach(({ i }, k) => {
    const req = reqs[i];
    const { debtor, creditor } = outcomes[i] as { debtor: AccountRow; creditor?: AccountRow };
    const transferRef = transferRefOf(ctx, serials[k].serial as bigint, bookedAt);
    refs.push(transferRef);
    const common = {
      transfer_ref: transferRef, amount_fen: req.amountFen, end_to_end_id: req.endToEndId ?? null, remittance: req.remittance ?? null, origin: req.origin,
      booked_at: bookedAt, value_date: valueDate, kind: 'transfer', return_reason: null, booking_date_only: req.bookingDateOnly ?? false, reverses_ref: null,
    };
    const debitBalance = running.get(debtor.number)! - req.amountFen;
    running.set(debtor.number, debitBalance);
    entries.push({ ...common, ref: `${transferRef}D`, account_number: debtor.number, direction: 'debit', balance_after_fen: debitBalance, ...counterpartyColumns(req.payee, creditor), addressed_account: null });
    if (creditor) {
      const creditBalance = running.get(creditor.number)! + req.amountFen;
      running.set(creditor.number, creditBalance);
      entries.push({ ...common, ref: `${transferRef}C`, account_number: creditor.number, direction: 'credit', balance_after_fen: creditBalance, ...counterpartyColumns(undefined, debtor), addressed_account: req.addressedAccount ?? creditor.number });
    }
    after.push({ debtor: debitBalance, creditor: creditor ? running.get(creditor.number)! : undefined });
  });
  const written: EntryRow[] = [];
  for (let i = 0; i < entries.length; i += bookingsPerBatchMax) {
    written.push(...((await tx(table(ctx, 'entries')).insert(entries.slice(i, i + bookingsPerBatchMax)).returning('*')) as EntryRow[]));
  }
  const changed = [...running].filter(([n, b]) => b !== locked.get(n)!.balance_fen);
  if (changed.length > 0) {
    await tx.raw(
      `UPDATE ?? AS a SET balance_fen = v.balance FROM (VALUES ${changed.map(() => '(?, ?::bigint)').join(', ')}) AS v(number, balance) WHERE a.number = v.number`,
      [table(ctx, 'accounts'), ...changed.flatMap(([n, b]) => [n, b.toString()])],
    );
  }
  const byRef = new Map<string, EntryRow>(written.map((e) => [e.ref, e]));
  const out: (Booking | TransferRejected)[] = outcomes.map((o) => (o instanceof TransferRejected ? o : (undefined as unknown as Booking)));
  booked.forEach(({ i }, k) => {
    const req = reqs[i];
    const { debtor, creditor } = outcomes[i] as { debtor: AccountRow; creditor?: AccountRow };
    const debit = byRef.get(`${refs[k]}D`)!;
    const credit = creditor ? byRef.get(`${refs[k]}C`) : undefined;
    // Postcondition: each side asked for was written once, for the amount asked.
    if (!debit || debit.amount_fen !== req.amountFen || (creditor && (!credit || credit.amount_fen !== req.amountFen))) throw new Error('assertion: a booking wrote other entries than it was asked for');
    out[i] = {
      transferRef: refs[k], bookedAt, valueDate, debit, credit,
      debtor: { ...debtor, balance_fen: after[k].debtor },
      creditor: creditor ? { ...creditor, balance_fen: after[k].creditor! } : undefined,
    };
  });
  return out;
}
