// Refund amounts (R13) and the executor's rules for outcomes (R17, retries, the attempt limit),
// driven directly against a bank that cannot be reached, with the bank's answers supplied by
// the test; and the refunds API as each caller sees it.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { loadRateTable, defaultDepositRateTable, defaultLoanRateTable } from '../../src/domain/interest';
import { addCalendarDays, businessDate } from '../../src/domain/time';
import { applyStatus, pollAttempt, submitRefund } from '../../src/refunds/executor';
import { percentOf, r13RefundAmounts, refundAttemptsMax } from '../../src/refunds/rules';
import { timingWith } from '../../src/timing';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;
let centre: string;

beforeAll(async () => {
  // The bank here never answers (port 9): every send is an unknown outcome, quickly.
  rt = await startTestRuntime({}, { timing: timingWith({ refunds: { bankTimeoutMs: 500, noRecordGraceMs: 0, retryDelayMs: 0, retryAfterNoRecordMs: 0 } }) });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  w = new DepositWorld(rt, app, centre);
  bank = await w.bank();
});
afterAll(async () => {
  await rt.close();
});

describe('R13 amounts', () => {
  const rates = { deposit: defaultDepositRateTable, loan: defaultLoanRateTable };
  it.each([
    // principal fen, credit value date, refund value date, interest fen
    [5_000_000n, '2026-09-01', '2026-10-01', 1458n], // 5,000,000 × 0.35% × 30/360 = 1458.33
    [5_000_000n, '2026-09-01', '2026-09-01', 0n], // same day: no interest
    [80_000_000n, '2026-01-01', '2026-12-31', 283_111n], // 364 days: 80,000,000 × 0.0035 × 364/360 = 283,111.1
    [100n, '2026-01-01', '2026-07-01', 0n], // ¥1 for 181 days = 0.176 fen → 0
    [1_000_000n, '2026-01-01', '2026-01-31', 292n], // 1,000,000 × 0.0035 × 30/360 = 291.67 → 292 (half-up)
  ])('interest on %s fen from %s to %s is %s fen', (principalFen, from, to, expected) => {
    const a = r13RefundAmounts({ principalFen, creditValueDate: from, valueDate: to, dueBy: to, regime: 'tendering_law', rates });
    const exact = (principalFen * 3500n * BigInt((Date.parse(to) - Date.parse(from)) / 86400e3) * 10n) / (360n * 1_000_000n);
    // The exact value ×10, to check the half-up rounding independently.
    expect(a.interestFen).toBe((exact + 5n) / 10n);
    expect(a.interestFen).toBe(expected);
    expect(a.lateFeeFen).toBe(0n);
    expect(a.totalFen).toBe(principalFen + a.interestFen);
  });

  it('splits the period where the configured rate changes', () => {
    const table = loadRateTable([
      { from: '2020-01-01', annualRatePercent: '0.35' },
      { from: '2026-07-01', annualRatePercent: '0.20' },
    ]);
    // 30 days at 0.35% and 31 days at 0.20% on ¥100,000: 29.1667 + 17.2222 = 46.3889 → 46.39.
    const a = r13RefundAmounts({ principalFen: 10_000_000n, creditValueDate: '2026-06-01', valueDate: '2026-08-01', dueBy: '2026-08-01', regime: 'tendering_law', rates: { deposit: table, loan: defaultLoanRateTable } });
    expect(a.interestFen).toBe(4639n);
  });

  it('R13 a late refund under government procurement owes the loan rate × 1.2 per day past the due date; tendering_law owes none', () => {
    // 10 days late on ¥50,000 at 3.00% × 1.2 = 3.6%: 5,000,000 × 0.036 × 10 / 360 = 5000 fen.
    const gp = r13RefundAmounts({ principalFen: 5_000_000n, creditValueDate: '2026-09-01', valueDate: '2026-10-11', dueBy: '2026-10-01', regime: 'government_procurement', rates });
    expect(gp.lateFeeFen).toBe(5000n);
    const tl = r13RefundAmounts({ principalFen: 5_000_000n, creditValueDate: '2026-09-01', valueDate: '2026-10-11', dueBy: '2026-10-01', regime: 'tendering_law', rates });
    expect(tl.lateFeeFen).toBe(0n);
    const onTime = r13RefundAmounts({ principalFen: 5_000_000n, creditValueDate: '2026-09-01', valueDate: '2026-10-01', dueBy: '2026-10-01', regime: 'government_procurement', rates });
    expect(onTime.lateFeeFen).toBe(0n);
    expect(percentOf(3500n)).toBe('0.35');
    expect(percentOf(36000n)).toBe('3.60');
  });
});

/** A terminated section whose single deposit is now a scheduled refund. */
async function scheduledRefund(regime: 'tendering_law' | 'government_procurement' = 'tendering_law') {
  const section = await w.section(bank.id, { regime });
  const bidder = await w.bidder();
  const va = await w.virtualAccount(section.id, bidder.id);
  const paid = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: bidder.account.name, number: bidder.account.number })]));
  expect(paid.status).toBe(200);
  const res = await request(app).post(`/v1/sections/${section.id}/termination`).set(bearer(centre)).send({ reason: '项目终止' });
  expect(res.status).toBe(200);
  return { sectionId: section.id, bidder, refundId: res.body.refundIds[0] as string, depositId: paid.body.depositIds[0] as string };
}

const balance = async (account: string) => BigInt((await rt.db('postings').where({ account }).sum({ s: 'amount_fen' }))[0].s ?? 0);
const inFlightAttempt = (refundId: string) => rt.db('refund_attempts').where({ refund_id: refundId }).whereIn('status', ['sending', 'sent', 'sent_unknown']).first();

describe('executing a refund', () => {
  it('reserves the money before sending, never resends an unknown outcome, and asks the bank instead', async () => {
    const { refundId, depositId } = await scheduledRefund();
    expect(await submitRefund(rt, refundId)).toBe('unknown');
    const refund = await rt.db('refunds').where({ id: refundId }).first();
    expect(refund.status).toBe('submitted');
    const attempt = await inFlightAttempt(refundId);
    expect(attempt).toMatchObject({ status: 'sent_unknown', principal_fen: 5_000_000n, amount_fen: 5_000_000n });
    // Dr deposit liability / Cr refunds in flight, in the same transaction as the claim.
    expect(await balance(`deposit:${depositId}`)).toBe(0n);
    expect(await balance(`bank:${bank.id}:refunds_in_flight`)).toBe(-5_000_000n);
    // A second submit finds nothing to claim; the poll cannot reach the bank and only waits.
    expect(await submitRefund(rt, refundId)).toBe('not_claimable');
    expect(await pollAttempt(rt, attempt.id)).toBe('unreachable');
    expect(await rt.db('refund_attempts').where({ refund_id: refundId })).toHaveLength(1);
  });

  it('a transient rejection (AM04) reverses the reservation and tries again in a new message with the same end-to-end id, up to refundAttemptsMax, then manual', async () => {
    const { refundId, depositId } = await scheduledRefund();
    const messageIds = new Set<string>();
    const endToEndIds = new Set<string>();
    for (let i = 1; i <= refundAttemptsMax; i++) {
      expect(await submitRefund(rt, refundId)).toBe('unknown');
      const attempt = await inFlightAttempt(refundId);
      messageIds.add(attempt.message_id);
      endToEndIds.add(attempt.end_to_end_id);
      const outcome = await applyStatus(rt, attempt.id, { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AM04' });
      expect(outcome).toBe(i < refundAttemptsMax ? 'rejected' : 'manual');
      // Applying the same answer again changes nothing.
      expect(await applyStatus(rt, attempt.id, { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AM04' })).toBe('not_in_flight');
      expect(await balance(`deposit:${depositId}`)).toBe(-5_000_000n);
    }
    expect(messageIds.size).toBe(refundAttemptsMax);
    const refund = await rt.db('refunds').where({ id: refundId }).first();
    expect([...endToEndIds]).toEqual([refund.end_to_end_id]);
    expect(refund).toMatchObject({ status: 'manual', last_reason_code: 'AM04', manual_code: 'attempts_exhausted' });
    // Every reservation was reversed: nothing of this refund is left in flight.
    const attempts = await rt.db('refund_attempts').where({ refund_id: refundId });
    const reserves = attempts.map((a) => a.reserve_journal_id);
    expect(await rt.db('journals').where({ kind: 'reversal' }).whereIn('reverses_journal_id', reserves)).toHaveLength(refundAttemptsMax);
    expect(await submitRefund(rt, refundId)).toBe('not_claimable');
  });

  it.each(['AC04', 'AC01', 'BE01'])('R17 a permanent rejection (%s) goes to manual at once, never to another account', async (code) => {
    const { refundId } = await scheduledRefund();
    await submitRefund(rt, refundId);
    const attempt = await inFlightAttempt(refundId);
    expect(await applyStatus(rt, attempt.id, { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: code })).toBe('manual');
    const refund = await rt.db('refunds').where({ id: refundId }).first();
    expect(refund.status).toBe('manual');
    expect(refund.manual_reason).toMatch(/R17/);
  });

  it('"no record" from the bank after an unknown outcome allows a new attempt, in a new message with the same end-to-end id', async () => {
    const { refundId } = await scheduledRefund();
    await submitRefund(rt, refundId);
    const first = await inFlightAttempt(refundId);
    expect(await applyStatus(rt, first.id, { endToEndId: first.end_to_end_id, outcome: 'unknown', bankStatus: '' })).toBe('no_record');
    expect((await rt.db('refunds').where({ id: refundId }).first()).status).toBe('scheduled');
    await submitRefund(rt, refundId);
    const second = await inFlightAttempt(refundId);
    expect(second.end_to_end_id).toBe(first.end_to_end_id);
    expect(second.message_id).not.toBe(first.message_id);
    expect(second.seq).toBe(2);
  });

  it('settles once: the amounts are written once and can never change', async () => {
    const { refundId } = await scheduledRefund('government_procurement');
    await submitRefund(rt, refundId);
    const attempt = await inFlightAttempt(refundId);
    const settled = { endToEndId: attempt.end_to_end_id, outcome: 'settled' as const, bankStatus: 'ACSC', bankReference: 'BK-1' };
    const [a, b] = await Promise.all([applyStatus(rt, attempt.id, settled), applyStatus(rt, attempt.id, settled)]);
    expect([a, b].sort()).toEqual(['not_in_flight', 'settled']);
    const refund = await rt.db('refunds').where({ id: refundId }).first();
    expect(refund).toMatchObject({ status: 'settled', interest_fen: 0n, late_fee_fen: 0n, bank_reference: 'BK-1' });
    await expect(rt.db('refunds').where({ id: refundId }).update({ interest_fen: 1n })).rejects.toThrow(/fixed once set/);
    await expect(rt.db('refunds').where({ id: refundId }).update({ principal_fen: 1n })).rejects.toThrow(/fixed once set/);
    expect(await balance(`bank:${bank.id}:refunds_in_flight`)).toBeLessThanOrEqual(0n);
    expect(await rt.db('journals').where({ kind: 'refund_settle', ref: attempt.id })).toHaveLength(1);
  });
});

describe('the refunds API', () => {
  it('lists with filters, shows attempts, hides other bidders\' refunds, and retries only from manual', async () => {
    const { refundId, sectionId, bidder } = await scheduledRefund();
    const list = await request(app).get(`/v1/refunds?sectionId=${sectionId}`).set(bearer(centre));
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ id: refundId, status: 'scheduled', reason: 'termination', principal: '50000.00', dueBy: businessDate(new Date()), overdue: false, interest: null });
    expect((await request(app).get(`/v1/refunds?sectionId=${sectionId}&status=settled`).set(bearer(centre))).body.data).toHaveLength(0);
    const own = await keyFor(rt, 'bidder', { bidderId: bidder.id });
    const stranger = await keyFor(rt, 'bidder', { bidderId: (await w.bidder()).id });
    expect((await request(app).get(`/v1/refunds/${refundId}`).set(bearer(own))).status).toBe(200);
    expect((await request(app).get(`/v1/refunds/${refundId}`).set(bearer(stranger))).status).toBe(404);
    expect((await request(app).get(`/v1/refunds?sectionId=${sectionId}`).set(bearer(stranger))).body.data).toHaveLength(0);
    const notManual = await request(app).post(`/v1/refunds/${refundId}/retry`).set(bearer(centre)).send({ decision: '重试' });
    expect([notManual.status, notManual.body.error.code]).toEqual([409, 'illegal_transition']);

    await submitRefund(rt, refundId);
    const attempt = await inFlightAttempt(refundId);
    await applyStatus(rt, attempt.id, { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04' });
    const shown = await request(app).get(`/v1/refunds/${refundId}`).set(bearer(centre));
    expect(shown.body).toMatchObject({ status: 'manual', attempts: [{ status: 'rejected', reasonCode: 'AC04', bankStatus: 'RJCT' }] });
    const key = `retry-${refundId}`;
    const body = { decision: '与投标人核实后原账户重试' };
    const retry = await request(app).post(`/v1/refunds/${refundId}/retry`).set(bearer(centre)).set('Idempotency-Key', key).send(body);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'scheduled', decisions: [{ decision: body.decision, account: null }] });
    const replay = await request(app).post(`/v1/refunds/${refundId}/retry`).set(bearer(centre)).set('Idempotency-Key', key).send(body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await rt.db('refund_decisions').where({ refund_id: refundId })).toHaveLength(1);
    expect(await rt.db('audit_events').where({ action: 'refund.retry_decided', entity_id: refundId })).toHaveLength(1);
  });

  it('flags refunds past their due date as overdue', async () => {
    const { refundId, sectionId } = await scheduledRefund();
    await rt.db('refunds').where({ id: refundId }).update({ due_by: addCalendarDays(businessDate(new Date()), -3) });
    const res = await request(app).get(`/v1/refunds?sectionId=${sectionId}&overdue=true`).set(bearer(centre));
    expect(res.body.data.map((r: { id: string; overdue: boolean }) => [r.id, r.overdue])).toEqual([[refundId, true]]);
  });
});
