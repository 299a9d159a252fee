// Interest has a source (R13): the interest the deposit bank pays on the trust account (结息) is
// booked once as income, refunds pay their interest out of it, and whatever they pay beyond it
// is visible as a shortfall (/metrics, the reconciliation summary). Driven through the API and
// the sandbox bank's customer API, the executor in-process; a database of its own (interest
// accounts are the whole ledger's, so no other test may post to them).
import request from 'supertest';
import type { CreditEntry } from '../../src/banks/types';
import { formatAmount, parseAmount } from '../../src/domain/money';
import { businessDate } from '../../src/domain/time';
import { reconcileFromBank } from '../../src/reconciliation/service';
import { bearer } from '../support/runtime';
import { waitFor } from '../support/wait';
import { SandboxRefundWorld, type SettledRefund } from './refundsSandbox.support';

let w: SandboxRefundWorld;

beforeAll(async () => {
  w = await SandboxRefundWorld.start('interest');
  // Another bidder's deposit stays in the trust account throughout: it holds more than any one
  // refund, as a real trust account does, so a refund's interest can leave it before the
  // bank's own interest has come in.
  await w.depositPaid();
}, 60_000);

afterAll(async () => {
  await w?.close();
});

const income = () => w.balance(`bank:${w.bankId}:interest_income`);
const expense = () => w.balance('interest_expense');

async function shortfallGauge(): Promise<string | undefined> {
  const text = (await request(w.app).get('/metrics')).text;
  return new RegExp(`^bidbond_interest_shortfall_fen\\{bank="${w.bankId}"\\} (\\d+)$`, 'm').exec(text)?.[1];
}

/** The reserving journal's postings to the two sources of interest. */
async function interestLegs(r: SettledRefund) {
  const postings = await w.rt.db('postings').where({ journal_id: r.attempt.reserve_journal_id });
  const leg = (account: string) => BigInt(postings.find((p) => p.account === account)?.amount_fen ?? 0);
  return { fromIncome: leg(`bank:${w.bankId}:interest_income`), fromExpense: leg('interest_expense') };
}

let first: SettledRefund;

it('interest the bank credits to the trust account is booked once, as income', async () => {
  const before = (await w.rt.db('audit_events').where({ action: 'bank.interest_credited' })).length;
  const booked = await w.bankApi('POST', '/sandbox/interest', { amount: '1.00' });
  await waitFor('the interest booked', async () => (await income()) === -100n);
  await w.expectTrustFollowsBank();
  expect(await w.rt.db('audit_events').where({ action: 'bank.interest_credited' })).toHaveLength(before + 1);
  const credit = await w.rt.db('credits').where({ bank_id: w.bankId, entry_ref: booked.creditRef }).first();
  expect(credit).toMatchObject({ amount_fen: 100n });
  expect(await w.rt.db('deposits').where({ credit_id: credit.id })).toHaveLength(0);

  // The same entry notified again in another message: recorded once.
  const again: CreditEntry = {
    entryRef: credit.entry_ref, virtualAccount: w.trustNumber, amountFen: 100n, currency: 'CNY', bookedAt: credit.booked_at.toISOString(), valueDate: businessDate(credit.booked_at),
    debtor: { name: '', accountNumber: '' }, bankTransactionCode: 'ACMT/MCOP/INTR',
  };
  const res = await w.notifyAsBank([again]);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ accepted: 0, duplicates: 1 });
  expect(await income()).toBe(-100n);
  await w.expectTrustFollowsBank();
}, 60_000);

it('a refund\u2019s interest is paid from that income first, the rest as expense, and the shortfall gauge shows what income did not cover', async () => {
  expect(await shortfallGauge()).toBe('0');
  // Paid in 30 days ago: ¥20,000 earns more than the ¥1.00 the bank has paid so far.
  first = await w.settledRefund({ valueDaysAgo: 30 });
  const interest = first.attempt.interest_fen;
  expect(interest).toBeGreaterThan(100n);
  expect(await interestLegs(first)).toEqual({ fromIncome: 100n, fromExpense: interest - 100n });
  expect(await income()).toBe(0n);
  expect(await expense()).toBe(interest - 100n);
  expect(await shortfallGauge()).toBe(String(interest - 100n));
  // The bidder got principal and interest; the ledger still follows the bank.
  const account = await w.bankApi('GET', `/sandbox/accounts/${first.number}`);
  expect(parseAmount(account.balance)).toBe(parseAmount('30000.00') + first.attempt.amount_fen);
  await w.expectTrustFollowsBank();
}, 60_000);

it('once the bank\u2019s interest covers what refunds paid, the next refund\u2019s interest comes wholly from income and the shortfall is gone', async () => {
  await w.bankApi('POST', '/sandbox/interest', { amount: '100.00' });
  await waitFor('the interest booked', async () => (await income()) === -10_000n);
  expect(await shortfallGauge()).toBe('0');
  const second = await w.settledRefund({ valueDaysAgo: 30 });
  const interest = second.attempt.interest_fen;
  expect(interest).toBeGreaterThan(0n);
  expect(await interestLegs(second)).toEqual({ fromIncome: interest, fromExpense: 0n });
  expect(await expense()).toBe(first.attempt.interest_fen - 100n);
  expect(await income()).toBe(-10_000n + interest);
  expect(await shortfallGauge()).toBe('0');
  await w.expectTrustFollowsBank();

  // The day's reconciliation shows where interest came from and went, and the bank's interest
  // lines match the ledger by the bank's reference.
  const { reconciliationId } = await reconcileFromBank(w.rt, w.bankId, businessDate(new Date()), { source: 'cli', actor: { type: 'operator', id: 'test' } });
  const report = await request(w.app).get(`/v1/reconciliations/${reconciliationId}?linesLimit=1000`).set(bearer(w.centre));
  expect(report.status).toBe(200);
  expect(report.body.exceptions.data).toEqual([]);
  expect(report.body.result).toBe('balanced');
  const paid = first.attempt.interest_fen + interest;
  expect(report.body.interest).toEqual({ income: '101.00', paid: formatAmount(paid), shortfall: formatAmount(paid > 10_100n ? paid - 10_100n : 0n) });
  const interestRefs = (await w.rt.db('credits').where({ bank_id: w.bankId }).whereNotExists(w.rt.db('deposits').select(1).whereRaw('deposits.credit_id = credits.id'))).map((c) => c.entry_ref);
  expect(interestRefs).toHaveLength(2);
  for (const ref of interestRefs) {
    expect(report.body.lines.data.find((l: { entryRef: string }) => l.entryRef === ref)).toMatchObject({ result: 'matched', matchedBy: 'bank_reference' });
  }
  const list = await request(w.app).get(`/v1/reconciliations?bankId=${w.bankId}`).set(bearer(w.centre));
  expect(list.body.data[0].interest).toEqual(report.body.interest);
}, 60_000);
