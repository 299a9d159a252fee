import { randomBytes } from 'node:crypto';
import type { SandboxBank } from '../../../src/sandbox-bank';
import { buildPain001 } from '../../../src/banks/iso20022/pain001';
import { createDb } from '../../../src/db/knex';
import { parsePain002 } from '../../../src/banks/iso20022/pain002';
import {
  api,
  balanceOf,
  NotificationReceiver,
  openAccount,
  otherBankCode,
  postXml,
  sandboxBankCode,
  startTestBank,
  trustName,
  trustNumber,
  uniqueNumber,
  uniqueSchema,
  virtualPrefix,
  waitFor,
} from './sandboxSupport';

let receiver: NotificationReceiver;
const banks: SandboxBank[] = [];

beforeAll(async () => {
  receiver = await new NotificationReceiver().start();
});
afterAll(async () => {
  for (const b of banks) await b.close();
  await receiver?.close();
});

describe('sandbox bank: state survives a restart', () => {
  test('balances, entries, fault settings, a payment waiting to settle and an undelivered notification all carry over', async () => {
    const schema = uniqueSchema();
    const config = { schema, notifyUrl: receiver.url, settleDelayMs: 1_500, notify: { backoffBaseMs: 20, backoffMaxMs: 100, attemptsMax: 1_000, requestTimeoutMs: 2_000 } };
    const first = await startTestBank(config);
    banks.push(first);
    const bidder = uniqueNumber();
    const payee = uniqueNumber();
    await openAccount(first, bidder, '甲公司', '900.00');
    await openAccount(first, payee, '乙公司', '0.00');
    // The service is down: every push fails until after the restart.
    receiver.statuses = Array.from({ length: 100_000 }, () => 503);
    const deposit = await api(first, 'POST', '/sandbox/transfers', { fromAccount: bidder, toAccount: `${virtualPrefix}00000000611`, amount: '800.00' });
    expect(deposit.status).toBe(201);
    await waitFor('a failed attempt', async () => receiver.received.some((n) => n.body.toString().includes(deposit.body.notificationMessageId)));

    const batch = {
      messageId: `RST${randomBytes(6).toString('hex')}`,
      createdAt: new Date(),
      requestedExecutionDate: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [{ endToEndId: `E${randomBytes(6).toString('hex')}`, amountFen: 30000n, currency: 'CNY' as const, creditor: { accountNumber: payee, name: '乙公司', bankCode: otherBankCode }, remittance: '退还' }],
    };
    expect(parsePain002((await postXml(first, '/iso20022/payments', buildPain001(batch))).text).groupStatus).toBe('ACTC');
    expect((await api(first, 'POST', '/sandbox/faults', { seed: 11, noticeDelayMs: 0, lostStatusRate: 0.5 })).status).toBe(200);
    // Stopped before the payment's settle delay has passed and before the notice got through.
    await first.close();
    expect(await first.close()).toBeUndefined();

    receiver.statuses = [];
    const second = await startTestBank(config);
    banks.push(second);
    expect(await balanceOf(second, bidder)).toBe('100.00');
    expect((await api(second, 'GET', `/sandbox/accounts/${trustNumber}`)).body.entries.map((e: any) => e.ref)).toContain(deposit.body.creditRef);
    expect((await api(second, 'GET', '/sandbox/faults')).body).toMatchObject({ seed: 11, lostStatusRate: 0.5 });

    await waitFor('the notification after the restart', async () =>
      receiver.received.some((n) => n.answeredStatus === 200 && n.body.toString().includes(deposit.body.notificationMessageId)),
    );
    await waitFor('the payment to settle after the restart', async () => (await balanceOf(second, payee)) === '300.00');
    expect(await balanceOf(second, trustNumber)).toBe('500.00');
    // A repeat of the file after the restart is still recognised.
    const again = parsePain002((await postXml(second, '/iso20022/payments', buildPain001(batch))).text);
    expect(again).toMatchObject({ groupStatus: 'RJCT', groupReasonCode: 'DU01' });
  });

  test('a schema made before reversals, returns and interest is brought up to date at start, its bookings kept', async () => {
    const schema = uniqueSchema();
    const first = await startTestBank({ schema });
    const payer = uniqueNumber();
    await openAccount(first, payer, '甲公司', '50.00');
    const paid = await api(first, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: `${virtualPrefix}00000000631`, amount: '20.00' });
    await first.close();
    // What the previous simulator's schema looked like: no kinds, two origins, no new tables.
    const db = createDb(process.env.DATABASE_URL!, { poolMax: 1 });
    try {
      await db.raw(`ALTER TABLE "${schema}".entries DROP COLUMN kind, DROP COLUMN reverses_ref, DROP COLUMN return_reason, DROP COLUMN booking_date_only,
        DROP CONSTRAINT entries_origin_kinds, ADD CONSTRAINT entries_origin_check CHECK (origin IN ('customer', 'payment'))`);
      await db.raw(`ALTER TABLE "${schema}".customer_transfers DROP COLUMN booking_date_only`);
      await db.raw(`ALTER TABLE "${schema}".payment_instructions DROP COLUMN visible_after`);
      await db.raw(`DROP TABLE "${schema}".reversals, "${schema}".payment_returns, "${schema}".interest_postings`);
    } finally {
      await db.destroy();
    }
    const second = await startTestBank({ schema });
    banks.push(second);
    expect((await api(second, 'GET', `/sandbox/accounts/${payer}`)).body.entries).toEqual([expect.objectContaining({ ref: paid.body.debitRef, kind: 'transfer', bookingDateOnly: false })]);
    const reversed = await api(second, 'POST', '/sandbox/reversals', { ref: paid.body.ref });
    expect(reversed.status).toBe(201);
    expect(await balanceOf(second, payer)).toBe('50.00');
  });

  test('a late arrival stays queued across a restart, unknown to status inquiries, and then settles once', async () => {
    const schema = uniqueSchema();
    const first = await startTestBank({ schema });
    banks.push(first);
    const funder = uniqueNumber();
    const payee = uniqueNumber();
    await openAccount(first, funder, '甲公司', '10.00');
    await openAccount(first, payee, '乙公司', '0.00');
    await api(first, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: '10.00' });
    expect((await api(first, 'POST', '/sandbox/faults', { seed: 3, lateArrivalRate: 1, lateArrivalMs: 2_500 })).status).toBe(200);
    const batch = {
      messageId: `LATE${randomBytes(6).toString('hex')}`,
      createdAt: new Date(),
      requestedExecutionDate: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [{ endToEndId: `E${randomBytes(6).toString('hex')}`, amountFen: 400n, currency: 'CNY' as const, creditor: { accountNumber: payee, name: '乙公司', bankCode: otherBankCode }, remittance: '退还' }],
    };
    expect(parsePain002((await postXml(first, '/iso20022/payments', buildPain001(batch))).text).groupStatus).toBe('ACTC');
    await first.close();

    const second = await startTestBank({ schema });
    banks.push(second);
    expect((await api(second, 'GET', '/sandbox/faults')).body).toMatchObject({ seed: 3, lateArrivalRate: 1, lateArrivalMs: 2_500 });
    expect((await fetch(`${second.url}/iso20022/payments/${batch.messageId}/status`)).status).toBe(404);
    expect(await balanceOf(second, payee)).toBe('0.00');
    await waitFor('the queued payment to settle', async () => (await balanceOf(second, payee)) === '4.00');
    const report = parsePain002(await (await fetch(`${second.url}/iso20022/payments/${batch.messageId}/status`)).text());
    expect(report).toMatchObject({ groupStatus: 'ACSC', transactions: [{ outcome: 'settled' }] });
    expect(await balanceOf(second, trustNumber)).toBe('6.00');
  });
});
