// Payment instructions sent to the bank (pain.001 or a cn-h2h batch; in practice refunds out
// of the trust account). They are recorded and acknowledged at once, then settled by a
// background loop after settleDelayMs, many instructions per transaction, like a bank's batch
// run. Each end-to-end id is paid at most once, whatever message it comes in.
import { PollingLoop } from './loop';
import type { Knex } from 'knex';
import type { StatusReport, TransactionStatus, TransferBatch } from '../banks/types';
import { sameName } from '../domain/names';
import { table, type SandboxContext } from './context';
import { TransferRejected, reasonCodes, type ReasonCode } from './errors';
import { bookMany, findAccount, holdsBankCode, type AccountRow, type Booking, type BookingRequest } from './ledger';
import { paysIntoTrust } from './accounts';
import { enqueueCreditNotification } from './notifier';
import { interestRetryMs, payQuarterlyInterest } from './interest';
import { businessDate } from '../domain/time';

/** Transactions in one submitted file; a bigger file is refused whole (FF01). */
export const paymentBatchTransfersMax = 10_000;
/** Rows per INSERT: PostgreSQL takes at most 65,535 bind parameters per statement. */
const insertChunkRows = 1_000;
/** Instructions settled per wake-up, in one transaction, before the loop yields to other work. */
export const settleBatchMax = 500;
export const settlePollIntervalMs = 50;
/** End-to-end ids a status query may filter on. */
export const statusFilterIdsMax = paymentBatchTransfersMax;

export type PaymentProtocol = 'iso20022' | 'cn-h2h';

interface MessageRow {
  message_id: string;
  protocol: PaymentProtocol;
  debtor_account: string | null;
  group_status: 'ACTC' | 'RJCT';
  group_reason_code: string | null;
  group_reason_text: string | null;
  transaction_count: number;
  received_at: Date;
}

interface InstructionRow {
  id: bigint;
  message_id: string;
  end_to_end_id: string;
  debtor_account: string;
  amount_fen: bigint;
  currency: string;
  creditor_number: string;
  creditor_name: string;
  creditor_bank_code: string | null;
  remittance: string | null;
  status: 'pending' | 'settled' | 'rejected';
  reason_code: string | null;
  reason_text: string | null;
  fault_reject: boolean;
  status_lag_ms: number;
  settle_after: Date;
  finished_at: Date | null;
  transfer_ref: string | null;
  booked_at: Date | null;
  external_payee: boolean | null;
  visible_after: Date | null;
}

export type IntakeResult =
  | { kind: 'duplicate' }
  | { kind: 'recorded'; report: StatusReport; groupRejected: boolean };

let reportCounter = 0;
/** A report's own message id: unique per report, within Max35Text and cn-h2h's 32. */
export function newReportMessageId(prefix: string): string {
  reportCounter = (reportCounter + 1) % 1_000_000;
  return `SBX${prefix}${Date.now().toString(36).toUpperCase()}${reportCounter.toString().padStart(6, '0')}`;
}

/** Records a submitted batch. A message id seen before is a duplicate and changes nothing. */
export async function receiveBatch(ctx: SandboxContext, batch: TransferBatch, protocol: PaymentProtocol): Promise<IntakeResult> {
  if (batch.transfers.length === 0 || batch.transfers.length > paymentBatchTransfersMax) {
    throw new Error(`assertion: the protocol layer admits 1..${paymentBatchTransfersMax} transfers`);
  }
  const result = await ctx.db.transaction(async (tx): Promise<IntakeResult> => {
    const messages = table(ctx, 'payment_messages');
    const inserted = await tx(messages)
      .insert({ message_id: batch.messageId, protocol, debtor_account: batch.debtor.accountNumber, group_status: 'ACTC', transaction_count: batch.transfers.length })
      .onConflict('message_id')
      .ignore()
      .returning('message_id');
    if (inserted.length === 0) return { kind: 'duplicate' };
    const debtor = await findAccount(tx, ctx, batch.debtor.accountNumber);
    let groupReject: { code: ReasonCode; text: string } | undefined;
    if (!debtor) groupReject = { code: reasonCodes.AC01, text: `debtor account ${batch.debtor.accountNumber} does not exist` };
    else if (debtor.status !== 'open') groupReject = { code: reasonCodes.AC04, text: `debtor account ${debtor.number} is closed` };
    const now = new Date();
    const settleAfter = new Date(now.getTime() + ctx.config.settleDelayMs);
    // lateArrivalRate: the instruction reaches the bank's books only after lateArrivalMs and is
    // then settled like any other, settleDelayMs later.
    const arrivesAt = new Date(now.getTime() + ctx.faults.lateArrivalMs);
    const lateSettleAfter = new Date(arrivesAt.getTime() + ctx.config.settleDelayMs);
    // Fault decisions per transaction, in file order: the same seed and the same files give
    // the same rejects, late statuses and late arrivals.
    const rows = batch.transfers.map((t) => {
      const late = !groupReject && ctx.faults.roll('lateArrival');
      return {
        message_id: batch.messageId,
        end_to_end_id: t.endToEndId,
        debtor_account: batch.debtor.accountNumber,
        amount_fen: t.amountFen,
        currency: t.currency,
        creditor_number: t.creditor.accountNumber,
        creditor_name: t.creditor.name,
        creditor_bank_code: t.creditor.bankCode ?? null,
        remittance: t.remittance || null,
        status: groupReject ? 'rejected' : 'pending',
        reason_code: groupReject?.code ?? null,
        reason_text: groupReject?.text ?? null,
        fault_reject: groupReject ? false : ctx.faults.roll('reject'),
        status_lag_ms: groupReject ? 0 : ctx.faults.roll('lostStatus') ? ctx.config.lostStatusMs : 0,
        settle_after: late ? lateSettleAfter : settleAfter,
        visible_after: late ? arrivesAt : null,
        finished_at: groupReject ? now : null,
      };
    });
    const instructions = table(ctx, 'payment_instructions');
    const ids: bigint[] = [];
    for (let i = 0; i < rows.length; i += insertChunkRows) {
      const chunk: { id: bigint }[] = await tx(instructions).insert(rows.slice(i, i + insertChunkRows)).returning('id');
      ids.push(...chunk.map((r) => r.id));
    }
    if (groupReject) {
      // Nothing of a refused file was accepted: its end-to-end ids stay free for a corrected file.
      await tx(messages).where({ message_id: batch.messageId }).update({ group_status: 'RJCT', group_reason_code: groupReject.code, group_reason_text: groupReject.text });
    } else {
      await claimEndToEndIds(tx, ctx, batch.debtor.accountNumber, rows.map((r, i) => ({ id: ids[i], endToEndId: r.end_to_end_id })), now);
    }
    // The answer to the submission acknowledges every instruction, late arrivals included.
    const report = await statusReportIn(tx, ctx, batch.messageId, [], { asReceived: true });
    return { kind: 'recorded', report: report!, groupRejected: !!groupReject };
  });
  if (result.kind === 'recorded' && !result.groupRejected) ctx.wakeSettler();
  return result;
}

/** The first instruction to claim an end-to-end id keeps it while it is pending or paid; the
 *  others are rejected DUPL, as a bank refuses a repeated 业务参考号. An instruction the bank
 *  rejected moved no money, so its id may be sent again (a payer's retry after an AC04 or a
 *  transient refusal) and the new instruction takes the claim over. */
async function claimEndToEndIds(tx: Knex.Transaction, ctx: SandboxContext, debtorAccount: string, items: { id: bigint; endToEndId: string }[], now: Date): Promise<void> {
  const registry = table(ctx, 'end_to_end_ids');
  const won = new Set<bigint>();
  // Within one file the first instruction with an id claims it; a repeat in the same file loses.
  const seen = new Set<string>();
  const firsts = items.filter((it) => !seen.has(it.endToEndId) && seen.add(it.endToEndId));
  for (let i = 0; i < firsts.length; i += insertChunkRows) {
    const chunk = firsts.slice(i, i + insertChunkRows);
    const instructions = table(ctx, 'payment_instructions');
    const claimed: { instruction_id: bigint }[] = await tx(registry)
      .insert(chunk.map((it) => ({ debtor_account: debtorAccount, end_to_end_id: it.endToEndId, instruction_id: it.id })))
      .onConflict(['debtor_account', 'end_to_end_id'])
      .merge(['instruction_id'])
      .where(tx.raw(`EXISTS (SELECT 1 FROM ${instructions} p WHERE p.id = ${registry}.instruction_id AND p.status = 'rejected')`))
      .returning('instruction_id');
    for (const c of claimed) won.add(c.instruction_id);
  }
  const lost = items.filter((it) => !won.has(it.id)).map((it) => it.id);
  for (let i = 0; i < lost.length; i += insertChunkRows) {
    await tx(table(ctx, 'payment_instructions'))
      .whereIn('id', lost.slice(i, i + insertChunkRows).map(String))
      .update({ status: 'rejected', reason_code: reasonCodes.DUPL, reason_text: 'end-to-end id already received: not paid again', finished_at: now });
  }
}

/** lateArrivalRate: still in the bank's queue, so its books have no record of it. A duplicate
 *  refused on receipt (DUPL) was answered then and stays visible. */
function inQueue(row: InstructionRow, now: Date): boolean {
  return row.status === 'pending' && row.visible_after !== null && now.getTime() < row.visible_after.getTime();
}

function transactionStatus(row: InstructionRow, now: Date): TransactionStatus {
  const base = { endToEndId: row.end_to_end_id };
  // "No record": pain.002 leaves it out, cn-h2h says status 3 (unknown).
  if (inQueue(row, now)) return { ...base, outcome: 'unknown', bankStatus: '' };
  if (row.status === 'pending') return { ...base, outcome: 'pending', bankStatus: 'ACSP' };
  // lostStatusRate: the outcome exists but the status service lags behind the books.
  if (row.finished_at && now.getTime() < row.finished_at.getTime() + row.status_lag_ms) return { ...base, outcome: 'pending', bankStatus: 'PDNG' };
  if (row.status === 'settled') {
    return { ...base, outcome: 'settled', bankStatus: 'ACSC', bankReference: `${row.transfer_ref}D`, bookedAt: row.booked_at!.toISOString() };
  }
  const t: TransactionStatus = { ...base, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: row.reason_code! };
  if (row.reason_text) t.reasonText = row.reason_text;
  if (row.finished_at) t.bookedAt = row.finished_at.toISOString();
  return t;
}

/** What the bank can say about a message now, or undefined when it has no record of it (never
 *  received, or every instruction of it still queued by the lateArrival fault). */
export async function statusReport(ctx: SandboxContext, messageId: string, endToEndIds: string[]): Promise<StatusReport | undefined> {
  return statusReportIn(ctx.db, ctx, messageId, endToEndIds, { asReceived: false });
}

async function statusReportIn(
  db: Knex | Knex.Transaction,
  ctx: SandboxContext,
  messageId: string,
  endToEndIds: string[],
  opts: { asReceived: boolean },
): Promise<StatusReport | undefined> {
  const message: MessageRow | undefined = await db(table(ctx, 'payment_messages')).where({ message_id: messageId }).first();
  if (!message) return undefined;
  const now = new Date();
  const instructions = table(ctx, 'payment_instructions');
  let queued = 0;
  if (!opts.asReceived) {
    const { rows: counts } = await db.raw(
      `SELECT count(*) FILTER (WHERE status = 'pending' AND visible_after > ?)::int AS queued, count(*)::int AS total FROM ?? WHERE message_id = ?`,
      [now, instructions, messageId],
    );
    queued = counts[0].queued as number;
    if (queued === counts[0].total) return undefined;
  }
  let query = db(instructions).where({ message_id: messageId }).orderBy('id');
  if (endToEndIds.length > 0) query = query.whereIn('end_to_end_id', endToEndIds.slice(0, statusFilterIdsMax));
  const rows: InstructionRow[] = await query;
  const transactions = rows.map((r) => (opts.asReceived && r.status === 'pending' ? { endToEndId: r.end_to_end_id, outcome: 'pending' as const, bankStatus: 'ACSP' } : transactionStatus(r, now)));
  const report: StatusReport = { messageId: newReportMessageId('R'), originalMessageId: messageId, transactions };
  if (message.group_status === 'RJCT') {
    report.groupStatus = 'RJCT';
    report.groupReasonCode = message.group_reason_code ?? undefined;
    return report;
  }
  // With part of the file unknown to the books the bank cannot speak for the whole file; a
  // reader then takes each instruction missing from the report as unknown, not as the group's.
  if (queued > 0) return report;
  const outcomes = new Set(transactions.map((t) => t.outcome));
  if (outcomes.has('pending') || transactions.length === 0) report.groupStatus = 'ACTC';
  else if (outcomes.size === 1 && outcomes.has('settled')) report.groupStatus = 'ACSC';
  else if (outcomes.size === 1 && outcomes.has('rejected')) report.groupStatus = 'RJCT';
  else report.groupStatus = 'PART';
  return report;
}

/** Where an instruction's money goes, or why it cannot go: decided before anything is booked. */
type Destination = { booking: BookingRequest; external: boolean; notify: boolean } | TransferRejected;

async function destinationOf(tx: Knex.Transaction, ctx: SandboxContext, row: InstructionRow, accounts: Map<string, AccountRow>, bankCodesHeld: Map<string, boolean>): Promise<Destination> {
  if (row.fault_reject) return new TransferRejected(reasonCodes.MS03, 'refused by the bank (sandbox fault injection: rejectRate)');
  const common = { debitAccount: row.debtor_account, amountFen: row.amount_fen, endToEndId: row.end_to_end_id, remittance: row.remittance ?? undefined, origin: 'payment' as const };
  const payee = { accountNumber: row.creditor_number, name: row.creditor_name, bankCode: row.creditor_bank_code ?? undefined };
  const trust = ctx.config.trustAccount;
  if (trust && paysIntoTrust(ctx, row.creditor_number)) {
    // Someone paying into the trust account by file: a deposit like any other, so notified.
    return { booking: { ...common, creditAccount: trust.number, payee, addressedAccount: row.creditor_number }, external: false, notify: true };
  }
  const account = accounts.get(row.creditor_number);
  // An account of that number at another branch is not this account: CNAPS routes by code.
  const here = account && (!row.creditor_bank_code || row.creditor_bank_code === account.bank_code) ? account : undefined;
  if (!here) {
    const code = row.creditor_bank_code;
    if (code && !bankCodesHeld.has(code)) bankCodesHeld.set(code, await holdsBankCode(tx, ctx, code));
    if (!code || bankCodesHeld.get(code)) return new TransferRejected(reasonCodes.AC01, `no account ${row.creditor_number} at bank ${code ?? '(none given)'}`);
    // Another bank's customer: the money leaves through the clearing system; only the debit is ours.
    return { booking: { ...common, creditAccount: null, payee }, external: true, notify: false };
  }
  if (here.status !== 'open') return new TransferRejected(reasonCodes.AC04, `account ${here.number} is closed`);
  if (!sameName(here.name, row.creditor_name)) return new TransferRejected(reasonCodes.BE01, `account ${here.number} is not held by ${row.creditor_name}`);
  return { booking: { ...common, creditAccount: here.number, payee }, external: false, notify: false };
}

/** Settles the instructions due now, up to settleBatchMax, in one transaction as a bank's batch
 *  run does: each is paid or rejected on its own (in order, so an earlier one's debit counts
 *  against a later one's funds). Returns how many were decided and whether any was notified. */
async function settleDueBatch(ctx: SandboxContext): Promise<{ decided: number; notified: boolean }> {
  return ctx.db.transaction(async (tx) => {
    const instructions = table(ctx, 'payment_instructions');
    const rows: InstructionRow[] = await tx(instructions)
      .where({ status: 'pending' })
      .andWhere('settle_after', '<=', tx.fn.now())
      .orderBy([{ column: 'settle_after' }, { column: 'id' }])
      .limit(settleBatchMax)
      .forUpdate()
      .skipLocked();
    if (rows.length === 0) return { decided: 0, notified: false };
    const numbers = [...new Set(rows.map((r) => r.creditor_number))];
    const accounts = new Map<string, AccountRow>(((await tx(table(ctx, 'accounts')).whereIn('number', numbers)) as AccountRow[]).map((a) => [a.number, a]));
    const bankCodesHeld = new Map<string, boolean>();
    const destinations: Destination[] = [];
    for (const row of rows) destinations.push(await destinationOf(tx, ctx, row, accounts, bankCodesHeld));
    const toBook = destinations.map((d, i) => ({ d, i })).filter((x): x is { d: Exclude<Destination, TransferRejected>; i: number } => !(x.d instanceof TransferRejected));
    const booked = await bookMany(tx, ctx, toBook.map((x) => x.d.booking));
    const results: (TransferRejected | { booking: Booking; external: boolean; notify: boolean })[] = destinations.map((d) => d as TransferRejected);
    toBook.forEach(({ d, i }, k) => {
      const b = booked[k];
      results[i] = b instanceof TransferRejected ? b : { booking: b, external: d.external, notify: d.notify };
    });
    let notified = false;
    const settled: { id: string; ref: string; at: Date; external: boolean }[] = [];
    const rejected: { id: string; code: string; text: string }[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = results[i];
      if (r instanceof TransferRejected) rejected.push({ id: String(rows[i].id), code: r.reasonCode, text: r.message });
      else {
        if (r.notify) {
          await enqueueCreditNotification(tx, ctx, r.booking);
          notified = true;
        }
        settled.push({ id: String(rows[i].id), ref: r.booking.transferRef, at: r.booking.bookedAt, external: r.external });
      }
    }
    if (settled.length > 0) {
      await tx.raw(
        `UPDATE ?? AS p SET status = 'settled', transfer_ref = v.ref, booked_at = v.at, finished_at = v.at, external_payee = v.external
           FROM unnest(?::bigint[], ?::text[], ?::timestamptz[], ?::boolean[]) AS v(id, ref, at, external) WHERE p.id = v.id`,
        [instructions, settled.map((s) => s.id) as unknown as Knex.Value, settled.map((s) => s.ref) as unknown as Knex.Value, settled.map((s) => s.at) as unknown as Knex.Value, settled.map((s) => s.external) as unknown as Knex.Value],
      );
    }
    if (rejected.length > 0) {
      await tx.raw(
        `UPDATE ?? AS p SET status = 'rejected', reason_code = v.code, reason_text = v.text, finished_at = now()
           FROM unnest(?::bigint[], ?::text[], ?::text[]) AS v(id, code, text) WHERE p.id = v.id`,
        [instructions, rejected.map((s) => s.id) as unknown as Knex.Value, rejected.map((s) => s.code) as unknown as Knex.Value, rejected.map((s) => s.text) as unknown as Knex.Value],
      );
    }
    return { decided: rows.length, notified };
  });
}

export class Settler extends PollingLoop {
  /** The Beijing date interest was last checked for, and when a failed check may be retried. */
  private interestCheckedOn: string | undefined;
  private interestRetryAt = 0;

  constructor(private readonly ctx: SandboxContext) {
    super('settlement', settlePollIntervalMs, (m, e) => ctx.config.logger.error(m, e));
  }

  /** A new batch was recorded: look again once its settle delay has passed. */
  wake(): void {
    this.wakeAfter(this.ctx.config.settleDelayMs);
  }

  protected override async tick(): Promise<void> {
    const r = await settleDueBatch(this.ctx);
    if (r.decided === settleBatchMax) this.again = true;
    if (r.notified) this.ctx.wakeNotifier();
    await this.payInterestWhenDue();
  }

  /** The quarter's 结息 run, like the bank's other batch work: checked once each business day
   *  (at start and when the date turns); a failure is logged and retried a while later without
   *  holding up settlement. */
  private async payInterestWhenDue(): Promise<void> {
    const today = businessDate(this.ctx.config.clock());
    if (this.stopped || today === this.interestCheckedOn || Date.now() < this.interestRetryAt) return;
    try {
      await payQuarterlyInterest(this.ctx, today);
      this.interestCheckedOn = today;
    } catch (e) {
      this.interestRetryAt = Date.now() + interestRetryMs;
      this.ctx.config.logger.error('sandbox bank: quarterly interest failed', e);
    }
  }
}
