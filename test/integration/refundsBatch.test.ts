// Many refunds in one payment message (pain.001 with one transaction per refund) and one status
// inquiry per message, without giving up one payment per refund: each refund keeps its own
// end-to-end id, attempt and reservation, and is settled or rejected by its own transaction's
// status; an unknown outcome of the whole message is asked about, never sent again; a duplicate
// refused per transaction is followed; two claims at once never share a refund; a crash between
// claim and send loses nothing. A database of its own, the sandbox bank over HTTP.
import { claimMessage } from '../../src/refunds/claim';
import { pollMessage, sendMessage, submitDue, batchOf, adapterFor } from '../../src/refunds/executor';
import { startTestRuntime } from '../support/runtime';
import { waitFor } from '../support/wait';
import { SandboxRefundWorld } from './refundsSandbox.support';

let w: SandboxRefundWorld;

beforeAll(async () => {
  w = await SandboxRefundWorld.start('batch');
}, 60_000);

afterAll(async () => {
  await w?.close();
});

afterEach(async () => {
  await w.faults({});
});

const attemptsOf = (refundIds: string[]) => w.rt.db('refund_attempts').whereIn('refund_id', refundIds).orderBy(['refund_id', 'seq']);

/** Polls a message until none of its refunds is in flight. */
async function pollUntilDone(messageId: string, what: string) {
  return waitFor(what, async () => {
    const outcomes = await pollMessage(w.rt, messageId);
    return [...outcomes.values()].every((o) => o !== 'pending' && o !== 'unreachable') && outcomes;
  }, 30_000, 200);
}

it('one message carries several refunds, each with its own end-to-end id, and each settles once', async () => {
  const owed = await w.refundsOwed(4);
  const outcomes = await submitDue(w.rt, w.bankId);
  expect(owed.every((o) => outcomes.get(o.refundId) === 'sent')).toBe(true);
  const attempts = await attemptsOf(owed.map((o) => o.refundId));
  expect(attempts).toHaveLength(4);
  expect(new Set(attempts.map((a) => a.message_id)).size).toBe(1);
  expect(attempts.map((a) => a.end_to_end_id).sort()).toEqual(owed.map((o) => o.endToEndId).sort());
  // One reservation per refund, each for its own amount.
  expect(new Set(attempts.map((a) => a.reserve_journal_id)).size).toBe(4);
  const message = await w.rt.db('refund_messages').where({ id: attempts[0].message_id }).first();
  expect(message).toMatchObject({ transfers: 4, status: 'sent' });
  await pollUntilDone(message.id, 'the message settled');
  const refunds = await w.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId));
  expect(refunds.every((r) => r.status === 'settled')).toBe(true);
  expect(new Set(refunds.map((r) => r.bank_reference)).size).toBe(4);
  expect((await w.rt.db('refund_messages').where({ id: message.id }).first()).status).toBe('finished');
  for (const o of owed) expect(await w.creditsTo(o.number)).toBe(1);
  const vouchers = await w.rt.db('vouchers').where({ kind: 'refund_voucher', subject_type: 'refund' }).whereIn('subject_id', owed.map((o) => o.refundId));
  expect(vouchers).toHaveLength(4);
  await w.expectTrustFollowsBank();
}, 120_000);

it('R17 one refund rejected inside an accepted message goes to a person; the others settle', async () => {
  const owed = await w.refundsOwed(3);
  await w.bankApi('POST', `/sandbox/accounts/${owed[1].number}/close`);
  await submitDue(w.rt, w.bankId);
  const [attempt] = await attemptsOf([owed[0].refundId]);
  await pollUntilDone(attempt.message_id, 'the message final');
  const refunds = new Map((await w.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId))).map((r) => [r.id, r]));
  expect(refunds.get(owed[0].refundId)!.status).toBe('settled');
  expect(refunds.get(owed[2].refundId)!.status).toBe('settled');
  expect(refunds.get(owed[1].refundId)).toMatchObject({ status: 'manual', manual_code: 'account_rejected', last_reason_code: 'AC04' });
  const [rejected] = await attemptsOf([owed[1].refundId]);
  expect(rejected).toMatchObject({ status: 'rejected', reason_code: 'AC04', message_id: attempt.message_id });
  // Its reservation alone was undone.
  expect(await w.rt.db('journals').where({ reverses_journal_id: rejected.reserve_journal_id })).toHaveLength(1);
  expect(await w.rt.db('journals').whereIn('reverses_journal_id', (await attemptsOf([owed[0].refundId, owed[2].refundId])).map((a) => a.reserve_journal_id))).toHaveLength(0);
  await waitFor('nothing in flight', async () => (await w.balance(`bank:${w.bankId}:refunds_in_flight`)) === 0n);
  await w.expectTrustFollowsBank();
}, 120_000);

it('a timed-out message is never sent again: its status is asked for until each refund settles', async () => {
  const owed = await w.refundsOwed(3);
  await w.faults({ timeoutRate: 1 });
  const outcomes = await submitDue(w.rt, w.bankId);
  expect(owed.map((o) => outcomes.get(o.refundId))).toEqual(['unknown', 'unknown', 'unknown']);
  await w.faults({});
  const attempts = await attemptsOf(owed.map((o) => o.refundId));
  expect(attempts.every((a) => a.status === 'sent_unknown')).toBe(true);
  const messageId = attempts[0].message_id;
  expect((await w.rt.db('refund_messages').where({ id: messageId }).first()).status).toBe('sent_unknown');
  await pollUntilDone(messageId, 'the message settled');
  expect((await w.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId))).every((r) => r.status === 'settled')).toBe(true);
  // One attempt each, one message, and the bank received that message once.
  expect(await attemptsOf(owed.map((o) => o.refundId))).toHaveLength(3);
  const schemaMessages = await w.bankApi('GET', `/sandbox/accounts/${w.trustNumber}`);
  expect(schemaMessages.entries.filter((e: { direction: string; endToEndId: string }) => e.direction === 'debit' && owed.some((o) => o.endToEndId === e.endToEndId))).toHaveLength(3);
  for (const o of owed) expect(await w.creditsTo(o.number)).toBe(1);
  await w.expectTrustFollowsBank();
}, 120_000);

it('a refund resent in a new message with others is refused DUPL by the bank for that transaction alone, followed, and paid once', async () => {
  const [a] = await w.refundsOwed(1);
  // The first message reaches the bank but its answer is lost (the worker died), and the bank
  // keeps it in its queue: status inquiries find no record of it for a while.
  await w.faults({ lateArrivalRate: 1, lateArrivalMs: 4_000 });
  const first = (await claimMessage(w.rt, w.bankId, { limit: 10, now: new Date() }))!;
  await adapterFor(w.rt, first.bank).sendTransfers(batchOf(first, new Date()));
  await w.faults({});
  await waitFor('no record, after the grace period', async () => (await pollMessage(w.rt, first.messageId)).get(first.items[0].attempt.id) === 'no_record', 20_000, 200);
  const [b] = await w.refundsOwed(1);
  const outcomes = await submitDue(w.rt, w.bankId);
  // The bank holds a's first instruction: the second is refused as a duplicate and followed.
  expect(outcomes.get(a.refundId)).toBe('unknown');
  expect(outcomes.get(b.refundId)).toBe('sent');
  const second = (await attemptsOf([a.refundId, b.refundId])).filter((x) => x.seq === (x.refund_id === a.refundId ? 2 : 1));
  expect(new Set(second.map((x) => x.message_id)).size).toBe(1);
  const messageId = second[0].message_id;
  await pollUntilDone(messageId, 'both final');
  expect((await w.rt.db('refunds').whereIn('id', [a.refundId, b.refundId])).every((r) => r.status === 'settled')).toBe(true);
  expect(await w.creditsTo(a.number)).toBe(1);
  expect(await w.creditsTo(b.number)).toBe(1);
  const aAttempts = await attemptsOf([a.refundId]);
  expect(aAttempts.map((x) => x.status)).toEqual(['no_record', 'settled']);
  expect(new Set(aAttempts.map((x) => x.end_to_end_id))).toEqual(new Set([a.endToEndId]));
  await waitFor('nothing in flight', async () => (await w.balance(`bank:${w.bankId}:refunds_in_flight`)) === 0n);
  await w.expectTrustFollowsBank();
}, 120_000);

it('two workers claiming at once never put one refund in two messages', async () => {
  const owed = await w.refundsOwed(6);
  const rt2 = await startTestRuntime({ DATABASE_URL: w.rt.config.DATABASE_URL!, BIDBOND_QUEUE_PREFIX: w.rt.config.BIDBOND_QUEUE_PREFIX });
  try {
    const claims = (await Promise.all(Array.from({ length: 8 }, (_, i) => claimMessage(i % 2 ? rt2 : w.rt, w.bankId, { limit: 2, now: new Date() })))).filter((c) => c !== null);
    const claimed = claims.flatMap((c) => c!.items.map((i) => i.refund.id));
    expect(claimed.sort()).toEqual(owed.map((o) => o.refundId).sort());
    const attempts = await attemptsOf(owed.map((o) => o.refundId));
    expect(attempts).toHaveLength(6);
    expect(new Set(attempts.map((a) => a.message_id)).size).toBe(claims.length);
    await Promise.all(claims.map((c, i) => sendMessage(i % 2 ? rt2 : w.rt, c!, new Date())));
    await Promise.all(claims.map((c) => pollUntilDone(c!.messageId, 'settled')));
  } finally {
    await rt2.close();
  }
  expect((await w.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId))).every((r) => r.status === 'settled')).toBe(true);
  for (const o of owed) expect(await w.creditsTo(o.number)).toBe(1);
  await w.expectTrustFollowsBank();
}, 120_000);

it('a worker that dies between claim and send loses nothing: no record, the reservation undone, a new message with the same end-to-end ids, paid once', async () => {
  const owed = await w.refundsOwed(2);
  const lost = (await claimMessage(w.rt, w.bankId, { limit: 10, now: new Date() }))!;
  expect(lost.items).toHaveLength(2);
  // Nothing was sent. The sweep's poll finds the message still "sending" past sendingStaleMs,
  // the bank with no record of it past the grace: each refund may go again.
  await waitFor('no record', async () => [...(await pollMessage(w.rt, lost.messageId)).values()].every((o) => o === 'no_record'), 20_000, 200);
  for (const { attempt } of lost.items) expect(await w.rt.db('journals').where({ reverses_journal_id: attempt.reserve_journal_id })).toHaveLength(1);
  expect((await w.rt.db('refund_messages').where({ id: lost.messageId }).first()).status).toBe('finished');
  await submitDue(w.rt, w.bankId);
  const attempts = await attemptsOf(owed.map((o) => o.refundId));
  const retry = attempts.filter((a) => a.seq === 2);
  expect(retry).toHaveLength(2);
  expect(retry.map((a) => a.end_to_end_id).sort()).toEqual(owed.map((o) => o.endToEndId).sort());
  expect(retry[0].message_id).not.toBe(lost.messageId);
  await pollUntilDone(retry[0].message_id, 'settled');
  expect((await w.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId))).every((r) => r.status === 'settled')).toBe(true);
  for (const o of owed) expect(await w.creditsTo(o.number)).toBe(1);
  await w.expectTrustFollowsBank();
}, 120_000);

describe('a bank speaking cn-h2h', () => {
  let h: SandboxRefundWorld;
  beforeAll(async () => {
    h = await SandboxRefundWorld.start('batchcn', { adapter: 'cn-h2h' });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('one B2E0001 batch carries the refunds, one B2E0002 query per poll answers for each, one rejected, the others settled', async () => {
    const owed = await h.refundsOwed(3);
    await h.bankApi('POST', `/sandbox/accounts/${owed[2].number}/close`);
    const outcomes = await submitDue(h.rt, h.bankId);
    expect(owed.map((o) => outcomes.get(o.refundId))).toEqual(['sent', 'sent', 'sent']);
    const attempts = await h.rt.db('refund_attempts').whereIn('refund_id', owed.map((o) => o.refundId));
    expect(new Set(attempts.map((a) => a.message_id)).size).toBe(1);
    await waitFor('final', async () => {
      const polled = await pollMessage(h.rt, attempts[0].message_id);
      return [...polled.values()].every((o) => o !== 'pending' && o !== 'unreachable');
    }, 30_000, 200);
    const refunds = new Map((await h.rt.db('refunds').whereIn('id', owed.map((o) => o.refundId))).map((r) => [r.id, r]));
    expect([0, 1].map((i) => refunds.get(owed[i].refundId)!.status)).toEqual(['settled', 'settled']);
    expect(refunds.get(owed[2].refundId)).toMatchObject({ status: 'manual', manual_code: 'account_rejected', last_reason_code: 'AC04' });
    for (const o of owed.slice(0, 2)) expect(await h.creditsTo(o.number)).toBe(1);
    await h.expectTrustFollowsBank();
  }, 120_000);
});
