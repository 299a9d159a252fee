// Opening, reading and closing accounts, and working out which account a payment to a given
// number lands in (the trust account for its virtual sub-accounts).
import type { Knex } from 'knex';
import { InvalidAmount, parseAmount } from '../domain/money';
import { table, type SandboxContext } from './context';
import { SandboxError } from './errors';
import {
  accountEntriesMax,
  accountJson,
  accountNameLengthMax,
  bankCodePattern,
  checkAccountNumber,
  entryJson,
  findAccount,
  type AccountRow,
  type EntryRow,
} from './ledger';

export interface OpenAccountInput {
  number: string;
  name: string;
  bankCode: string;
  balanceFen: bigint;
}

export function parseOpenAccount(body: unknown): OpenAccountInput {
  if (typeof body !== 'object' || body === null) throw new SandboxError(400, 'invalid_request', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  const number = checkAccountNumber(b.number, 'number');
  if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > accountNameLengthMax) {
    throw new SandboxError(400, 'invalid_request', `name must be 1-${accountNameLengthMax} characters`, 'name');
  }
  if (typeof b.bankCode !== 'string' || !bankCodePattern.test(b.bankCode)) {
    throw new SandboxError(400, 'invalid_request', 'bankCode must be a 12-digit CNAPS code', 'bankCode');
  }
  let balanceFen = 0n;
  if (b.balance !== undefined) {
    try {
      balanceFen = parseAmount(b.balance as string, { allowZero: true });
    } catch (e) {
      if (e instanceof InvalidAmount) throw new SandboxError(400, 'invalid_request', `balance: ${e.message}`, 'balance');
      throw e;
    }
  }
  return { number, name: b.name.trim(), bankCode: b.bankCode, balanceFen };
}

function isTrustNumber(ctx: SandboxContext, number: string): boolean {
  return ctx.config.trustAccount?.number === number;
}

function isVirtualNumber(ctx: SandboxContext, number: string): boolean {
  const prefix = ctx.config.virtualPrefix;
  return !!prefix && number.startsWith(prefix) && !isTrustNumber(ctx, number);
}

/** Opens an account. Repeating the same opening (same number, name, bank code) answers the
 *  account as it stands, so a script can be rerun; anything else with that number is 409. A
 *  trust account created from configuration is adopted by the first opening before it books. */
export async function openAccount(ctx: SandboxContext, input: OpenAccountInput): Promise<{ created: boolean; account: AccountRow }> {
  if (isVirtualNumber(ctx, input.number)) {
    throw new SandboxError(409, 'number_reserved', `numbers starting with ${ctx.config.virtualPrefix} are virtual sub-accounts of the trust account`, 'number');
  }
  return ctx.db.transaction(async (tx) => {
    const kind = isTrustNumber(ctx, input.number) ? 'trust' : 'customer';
    const inserted: AccountRow[] = await tx(table(ctx, 'accounts'))
      .insert({
        number: input.number,
        name: input.name,
        bank_code: input.bankCode,
        kind,
        balance_fen: input.balanceFen,
        initial_balance_fen: input.balanceFen,
      })
      .onConflict('number')
      .ignore()
      .returning('*');
    if (inserted.length === 1) return { created: true, account: inserted[0] };
    const existing: AccountRow = await tx(table(ctx, 'accounts')).where({ number: input.number }).forUpdate().first();
    if (existing.auto_created) {
      const booked = await tx(table(ctx, 'entries')).where({ account_number: existing.number }).first('seq');
      if (!booked) {
        const [adopted]: AccountRow[] = await tx(table(ctx, 'accounts'))
          .where({ number: existing.number })
          .update({ name: input.name, bank_code: input.bankCode, balance_fen: input.balanceFen, initial_balance_fen: input.balanceFen, auto_created: false })
          .returning('*');
        return { created: true, account: adopted };
      }
    }
    if (existing.name === input.name && existing.bank_code === input.bankCode) return { created: false, account: existing };
    throw new SandboxError(409, 'account_exists', `account ${input.number} already exists with another name or bank code`, 'number');
  });
}

/** The trust account named in configuration exists from the start, so that deposits can be
 *  paid in before anyone opens it by hand. */
export async function ensureTrustAccount(ctx: SandboxContext): Promise<void> {
  const trust = ctx.config.trustAccount;
  if (!trust) return;
  await ctx.db(table(ctx, 'accounts'))
    .insert({ number: trust.number, name: trust.name, bank_code: trust.bankCode, kind: 'trust', balance_fen: 0n, initial_balance_fen: 0n, auto_created: true })
    .onConflict('number')
    .ignore();
}

export async function getAccountView(ctx: SandboxContext, number: string) {
  const account = await findAccount(ctx.db, ctx, number);
  if (!account) throw new SandboxError(404, 'account_not_found', `no account ${number}`);
  const latest: EntryRow[] = await ctx
    .db(table(ctx, 'entries'))
    .where({ account_number: number })
    .orderBy('seq', 'desc')
    .limit(accountEntriesMax + 1);
  const truncated = latest.length > accountEntriesMax;
  const entries = latest.slice(0, accountEntriesMax).reverse();
  return { ...accountJson(account), entries: entries.map(entryJson), entriesTruncated: truncated };
}

export async function closeAccount(ctx: SandboxContext, number: string): Promise<AccountRow> {
  return ctx.db.transaction(async (tx) => {
    const account: AccountRow | undefined = await tx(table(ctx, 'accounts')).where({ number }).forUpdate().first();
    if (!account) throw new SandboxError(404, 'account_not_found', `no account ${number}`);
    if (account.status === 'closed') return account;
    const [closed]: AccountRow[] = await tx(table(ctx, 'accounts')).where({ number }).update({ status: 'closed', closed_at: tx.fn.now() }).returning('*');
    return closed;
  });
}

export type PayeeResolution =
  | { kind: 'trust'; account: string; addressed: string }
  | { kind: 'account'; account: string }
  | { kind: 'unknown' };

/** Where money sent to `number` is booked: the trust account for the trust account's own
 *  number and every virtual sub-account, otherwise the sandbox account of that number. */
/** The trust account itself, or one of its virtual sub-accounts: money paid here is a deposit. */
export function paysIntoTrust(ctx: SandboxContext, number: string): boolean {
  return isTrustNumber(ctx, number) || isVirtualNumber(ctx, number);
}

export async function resolvePayee(tx: Knex | Knex.Transaction, ctx: SandboxContext, number: string): Promise<PayeeResolution> {
  const trust = ctx.config.trustAccount;
  if (trust && (number === trust.number || isVirtualNumber(ctx, number))) {
    return { kind: 'trust', account: trust.number, addressed: number };
  }
  const account = await findAccount(tx, ctx, number);
  return account ? { kind: 'account', account: account.number } : { kind: 'unknown' };
}

export function isTrustAccount(ctx: SandboxContext, number: string): boolean {
  return isTrustNumber(ctx, number);
}
