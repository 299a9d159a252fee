// A refund's payment sent back by the payee's bank after it settled (退汇): the money is in the
// trust account again, owed to the bidder again, and a person decides where it goes (R17); the
// centre's retry goes under a new end-to-end id and pays once. Driven through the API and the
// sandbox bank's customer API (the sandbox pushes its notices to the api), with the executor run
// in-process; a database and queue prefix of its own.
import request from 'supertest';
import type { CreditEntry } from '../../src/banks/types';
import { businessDate } from '../../src/domain/time';
import { formatAmount, parseAmount } from '../../src/domain/money';
import { reconcileFromBank } from '../../src/reconciliation/service';
import { submitRefund } from '../../src/refunds/executor';
import { attemptRender } from '../../src/vouchers/service';
import { bearer } from '../support/runtime';
import { waitFor } from '../support/wait';
import { customerBankCode, digits, SandboxRefundWorld, type SettledRefund } from './refundsSandbox.support';

let w: SandboxRefundWorld;

beforeAll(async () => {
  w = await SandboxRefundWorld.start('returns');
}, 60_000);

afterAll(async () => {
  await w?.close();
});

let paid: SettledRefund;
/** Interest the bank paid on the trust account before the refund: the refund's interest is paid
 *  out of it (and the trust account holds more than the deposits, as a real one does). */
const interestIncome = '100.00';
/** R13 interest every refund here paid, each once, whatever came back since. */
let interestPaidFen = 0n;

it('a refund settled, then returned by the payee\u2019s bank (AC04): returned, owed to the bidder again, the trust account still equal to the bank\u2019s, a person decides', async () => {
  await w.bankApi('POST', '/sandbox/interest', { amount: interestIncome });
  await waitFor('the interest booked', async () => (await w.balance(`bank:${w.bankId}:interest_income`)) === -parseAmount(interestIncome));
  // Paid in 30 days ago: the refund carries R13 interest.
  paid = await w.settledRefund({ valueDaysAgo: 30 });
  interestPaidFen += paid.attempt.interest_fen;
  expect(paid.attempt.interest_fen).toBeGreaterThan(0n);
  const before = await w.bankApi('GET', `/sandbox/accounts/${paid.number}`);
  expect(parseAmount(before.balance)).toBe(parseAmount('30000.00') + paid.attempt.amount_fen);

  // Days later the payee's bank sends the money back: the account was closed.
  const ret = await w.bankApi('POST', '/sandbox/returns', { endToEndId: paid.attempt.end_to_end_id, reasonCode: 'AC04' });
  expect(ret.amount).toBe(formatAmount(paid.attempt.amount_fen));
  await waitFor('the refund returned', async () => w.rt.db('refunds').where({ id: paid.refundId, status: 'returned' }).first());

  const r = await request(w.app).get(`/v1/refunds/${paid.refundId}`).set(bearer(w.centre));
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ status: 'returned', returnReasonCode: 'AC04', manualCode: 'returned', endToEndId: paid.attempt.end_to_end_id });
  expect(r.body.returnedAt).toEqual(expect.any(String));
  expect(r.body.manualReason).toMatch(/R17/);
  expect(r.body.manualReason).toMatch(/AC04/);
  expect(r.body.manualReason).toMatch(/closed account/);
  // Found by the state a person filters on, and counted with those waiting for a person.
  const list = await request(w.app).get('/v1/refunds?status=returned&limit=100').set(bearer(w.centre));
  expect(list.status).toBe(200);
  expect(list.body.data.map((x: { id: string }) => x.id)).toContain(paid.refundId);
  const metrics = await request(w.app).get('/metrics');
  expect(metrics.text).toMatch(/^bidbond_refunds_returned [1-9]\d*$/m);
  expect(metrics.text).toMatch(/^bidbond_refunds_manual [1-9]\d*$/m);

  // The money is held for the bidder again: the deposit's liability owes the whole amount paid.
  const deposit = await request(w.app).get(`/v1/deposits/${paid.depositId}`).set(bearer(w.centre));
  expect(deposit.body.status).toBe('held');
  expect(await w.balance(`deposit:${paid.depositId}`)).toBe(-paid.attempt.amount_fen);
  expect(await w.balance(`bank:${w.bankId}:suspense`)).toBe(0n);
  await w.expectTrustFollowsBank();

  // Audited, and the return voucher requested in the same transaction.
  const audit = await w.rt.db('audit_events').where({ entity_id: paid.refundId, action: 'refund.returned' });
  expect(audit).toHaveLength(1);
  const voucher = await w.rt.db('vouchers').where({ kind: 'refund_return', subject_type: 'refund', subject_id: paid.refundId }).first();
  expect(voucher).toBeDefined();
  expect(voucher.data).toMatchObject({
    refundId: paid.refundId, depositId: paid.depositId, bidderId: paid.bidderId, creditorAccount: paid.number, creditorName: paid.name,
    amount: formatAmount(paid.attempt.amount_fen), returnReasonCode: 'AC04', originalEndToEndId: paid.attempt.end_to_end_id,
  });
  expect(voucher.data.returnReasonText).toMatch(/closed account/);
  // It renders and is signed like any voucher (the vouchers queue's job, run here directly).
  expect(await attemptRender(w.rt, voucher.id)).toBe('signed');
}, 90_000);

it('the same return notified again, in another message, is recorded once', async () => {
  const credit = await w.rt.db('credits').where({ bank_id: w.bankId, end_to_end_id: paid.attempt.end_to_end_id }).first();
  expect(credit).toBeDefined();
  const again: CreditEntry = {
    entryRef: credit.entry_ref, virtualAccount: w.trustNumber, amountFen: credit.amount_fen, currency: 'CNY', bookedAt: credit.booked_at.toISOString(), valueDate: businessDate(credit.booked_at),
    debtor: { name: credit.debtor_name, accountNumber: credit.debtor_account }, endToEndId: paid.attempt.end_to_end_id, bankTransactionCode: 'PMNT/ICDT/RRTN',
    returnInfo: { reasonCode: 'AC04', originalEndToEndId: paid.attempt.end_to_end_id },
  };
  const res = await w.notifyAsBank([again]);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ accepted: 0, duplicates: 1, exceptions: 0 });
  expect(await w.rt.db('audit_events').where({ entity_id: paid.refundId, action: 'refund.returned' })).toHaveLength(1);
  expect(await w.rt.db('journals').where({ kind: 'credit', ref: `${w.bankId}:${credit.entry_ref}` })).toHaveLength(1);
  expect(await w.balance(`deposit:${paid.depositId}`)).toBe(-paid.attempt.amount_fen);
  await w.expectTrustFollowsBank();
});

it('the same return notified in two messages at once, and again by the bank itself later, is recorded once', async () => {
  const other = await w.settledRefund({ valueDaysAgo: 10 });
  interestPaidFen += other.attempt.interest_fen;
  // The bank's own notice of the return comes 3 s late: ours, sent at once, race ahead of it.
  await w.bankApi('POST', '/sandbox/faults', { seed: 1, noticeDelayMs: 3_000 });
  const ret = await w.bankApi('POST', '/sandbox/returns', { endToEndId: other.attempt.end_to_end_id, reasonCode: 'BE01' });
  await w.bankApi('POST', '/sandbox/faults', {});
  const entry: CreditEntry = {
    entryRef: ret.creditRef, virtualAccount: w.trustNumber, amountFen: parseAmount(ret.amount), currency: 'CNY', bookedAt: ret.bookedAt, valueDate: businessDate(new Date(ret.bookedAt)),
    debtor: { name: other.name, accountNumber: other.number, bankCode: customerBankCode }, endToEndId: other.attempt.end_to_end_id, bankTransactionCode: 'PMNT/ICDT/RRTN',
    returnInfo: { reasonCode: 'BE01', originalEndToEndId: other.attempt.end_to_end_id },
  };
  const answers = await Promise.all([w.notifyAsBank([entry]), w.notifyAsBank([entry])]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(answers.map((a) => [a.body.accepted, a.body.duplicates]).sort()).toEqual([[0, 1], [1, 0]]);
  await waitFor('the bank’s own notice delivered', async () => {
    const delivered = await w.bankApi('GET', '/sandbox/notifications?status=delivered');
    return delivered.data.some((n: { messageId: string }) => n.messageId === ret.notificationMessageId);
  }, 20_000);
  expect(await w.rt.db('audit_events').where({ entity_id: other.refundId, action: 'refund.returned' })).toHaveLength(1);
  expect(await w.rt.db('credits').where({ bank_id: w.bankId, entry_ref: ret.creditRef })).toHaveLength(1);
  expect((await w.rt.db('refunds').where({ id: other.refundId }).first()).status).toBe('returned');
  expect(await w.balance(`deposit:${other.depositId}`)).toBe(-other.attempt.amount_fen);
  await w.expectTrustFollowsBank();
}, 60_000);

it('the centre retries to another account with a recorded decision: a new end-to-end id, paid once', async () => {
  // A decision is required (R17), and a settled refund cannot be retried.
  expect((await request(w.app).post(`/v1/refunds/${paid.refundId}/retry`).set(bearer(w.centre)).send({})).status).toBe(400);
  const newNumber = `62${digits(16)}`;
  await w.bankApi('POST', '/sandbox/accounts', { number: newNumber, name: paid.name, bankCode: customerBankCode, balance: '0.00' });
  const retried = await request(w.app).post(`/v1/refunds/${paid.refundId}/retry`).set(bearer(w.centre))
    .send({ decision: '原账户已销户，投标人书面申请退至新开立的基本存款账户（附开户许可）', account: { number: newNumber, name: paid.name, bankCode: customerBankCode } });
  expect(retried.status).toBe(200);
  expect(retried.body).toMatchObject({ status: 'scheduled', endToEndId: `${paid.attempt.end_to_end_id}-2`, manualCode: null });
  expect(retried.body.decisions.at(-1).account).toMatchObject({ number: newNumber });

  expect(await submitRefund(w.rt, paid.refundId)).toBe('sent');
  const second = await w.rt.db('refund_attempts').where({ refund_id: paid.refundId, seq: 2 }).first();
  expect(second).toMatchObject({ end_to_end_id: `${paid.attempt.end_to_end_id}-2`, creditor_account_number: newNumber, amount_fen: paid.attempt.amount_fen, interest_fen: paid.attempt.interest_fen });
  expect(await w.pollUntilFinal(second.id, 'the payment sent again settled')).toBe('settled');
  // Nothing more to send: a second submit finds nothing to claim.
  expect(await submitRefund(w.rt, paid.refundId)).toBe('not_claimable');

  const refund = await request(w.app).get(`/v1/refunds/${paid.refundId}`).set(bearer(w.centre));
  expect(refund.body).toMatchObject({ status: 'settled', returnReasonCode: 'AC04', endToEndId: `${paid.attempt.end_to_end_id}-2` });
  expect(refund.body.attempts.map((a: { status: string; endToEndId: string }) => [a.status, a.endToEndId])).toEqual([
    ['settled', paid.attempt.end_to_end_id],
    ['settled', `${paid.attempt.end_to_end_id}-2`],
  ]);
  // Paid once to the new account, the whole amount that came back; the old account is even.
  const fresh = await w.bankApi('GET', `/sandbox/accounts/${newNumber}`);
  expect(fresh.entries.filter((e: { direction: string }) => e.direction === 'credit')).toHaveLength(1);
  expect(parseAmount(fresh.balance)).toBe(paid.attempt.amount_fen);
  const old = await w.bankApi('GET', `/sandbox/accounts/${paid.number}`);
  expect(parseAmount(old.balance)).toBe(parseAmount('30000.00'));
  // The ledger: nothing owed on the deposit, nothing in flight, trust equal to the bank's; the
  // interest was charged once (when first paid), not again.
  expect(await w.balance(`deposit:${paid.depositId}`)).toBe(0n);
  expect(await w.balance(`bank:${w.bankId}:refunds_in_flight`)).toBe(0n);
  expect(await w.balance('interest_expense')).toBe(0n);
  expect(await w.balance(`bank:${w.bankId}:interest_income`)).toBe(-parseAmount(interestIncome) + interestPaidFen);
  await w.expectTrustFollowsBank();
  expect((await request(w.app).get(`/v1/deposits/${paid.depositId}`).set(bearer(w.centre))).body.status).toBe('refunded');
  // The second payment has its own refund voucher; the first one's stays as it was.
  const vouchers = await w.rt.db('vouchers').where({ kind: 'refund_voucher' }).whereIn('subject_id', [paid.refundId, second.id]);
  expect(vouchers).toHaveLength(2);
  expect((await request(w.app).post(`/v1/refunds/${paid.refundId}/retry`).set(bearer(w.centre)).send({ decision: '再次退款' })).status).toBe(409);
}, 90_000);

it('the day\u2019s statement reconciles: the return and both payments are matched, nothing missing on either side', async () => {
  // As `bidbond reconcile` pulls it (the service directly; the report is read over the API).
  const { reconciliationId } = await reconcileFromBank(w.rt, w.bankId, businessDate(new Date()), { source: 'cli', actor: { type: 'operator', id: 'test' } });
  const report = await request(w.app).get(`/v1/reconciliations/${reconciliationId}?linesLimit=1000`).set(bearer(w.centre));
  expect(report.status).toBe(200);
  expect(report.body.exceptions.data).toEqual([]);
  expect(report.body.result).toBe('balanced');
  const returned = await w.rt.db('credits').where({ bank_id: w.bankId, end_to_end_id: paid.attempt.end_to_end_id }).first();
  const line = report.body.lines.data.find((l: { entryRef: string }) => l.entryRef === returned.entry_ref);
  expect(line).toMatchObject({ result: 'matched', matchedBy: 'bank_reference' });
  expect(report.body.interest).toEqual({ income: interestIncome, paid: formatAmount(interestPaidFen), shortfall: '0.00' });
}, 60_000);

it('a return that matches no refund of ours is an exception for a person, its money in suspense', async () => {
  const suspenseBefore = await w.balance(`bank:${w.bankId}:suspense`);
  const entryRef = `SBXRTN${digits(12)}`;
  const stray: CreditEntry = {
    entryRef, virtualAccount: w.trustNumber, amountFen: 123_45n, currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()),
    debtor: { name: '某公司', accountNumber: `62${digits(16)}` }, endToEndId: `E${digits(20)}`, bankTransactionCode: 'PMNT/ICDT/RRTN',
    returnInfo: { reasonCode: 'AC01' },
  };
  const res = await w.notifyAsBank([stray]);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ accepted: 0, exceptions: 1 });
  const ex = await w.rt.db('bank_exceptions').where({ bank_id: w.bankId, entry_ref: entryRef, kind: 'return_unmatched' }).first();
  expect(ex).toMatchObject({ status: 'open', amount_fen: 123_45n, refund_id: null });
  expect(ex.detail).toMatch(/no refund was paid/);
  // The bank holds the money, so the ledger's trust account does; whose it is, a person says.
  expect((await w.balance(`bank:${w.bankId}:suspense`)) - suspenseBefore).toBe(-123_45n);
  // Notified again: still one exception, booked once.
  const again = await w.notifyAsBank([stray]);
  expect(again.body).toMatchObject({ duplicates: 1, exceptions: 0 });
  expect(await w.rt.db('bank_exceptions').where({ bank_id: w.bankId, entry_ref: entryRef })).toHaveLength(1);
  expect((await w.balance(`bank:${w.bankId}:suspense`)) - suspenseBefore).toBe(-123_45n);

  // A second return of a payment already returned is not applied twice either.
  const twice: CreditEntry = { ...stray, entryRef: `SBXRTN${digits(12)}`, amountFen: paid.attempt.amount_fen, endToEndId: paid.attempt.end_to_end_id, returnInfo: { reasonCode: 'AC04', originalEndToEndId: paid.attempt.end_to_end_id } };
  const dup = await w.notifyAsBank([twice]);
  expect(dup.body).toMatchObject({ accepted: 0, exceptions: 1 });
  const ex2 = await w.rt.db('bank_exceptions').where({ bank_id: w.bankId, entry_ref: twice.entryRef }).first();
  expect(ex2).toMatchObject({ kind: 'return_unmatched', refund_id: paid.refundId });
  expect(ex2.detail).toMatch(/already returned/);
  expect((await w.rt.db('refunds').where({ id: paid.refundId }).first()).status).toBe('settled');
});
