import type { SandboxBank } from '../../../src/sandbox-bank';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { cnh2hParseCreditNotice } from '../../../src/banks/cnh2h/protocol';
import { parseCertificatePem } from '../../../src/pki/certs';
import {
  api,
  assertValidXml,
  balanceOf,
  NotificationReceiver,
  openAccount,
  startTestBank,
  trustNumber,
  uniqueNumber,
  virtualPrefix,
  waitFor,
} from './sandboxSupport';

let bank: SandboxBank;
let receiver: NotificationReceiver;
let certPem: string;

beforeAll(async () => {
  receiver = await new NotificationReceiver().start();
  bank = await startTestBank({ notifyUrl: receiver.url });
  certPem = (await api(bank, 'GET', '/sandbox/certificate')).text;
});
afterAll(async () => {
  await bank?.close();
  await receiver?.close();
});

function notificationsFor(messageId: string) {
  return receiver.received.filter((n) => n.body.toString('utf8').includes(messageId));
}

describe('sandbox bank: credit notifications to the service', () => {
  test('a deposit into a virtual sub-account is booked into the trust account and notified as a signed, valid camt.054', async () => {
    const payer = uniqueNumber();
    await openAccount(bank, payer, '甲建筑工程有限公司', '80000.00');
    const virtual = `${virtualPrefix}00000000421`;
    const trustBefore = BigInt((await balanceOf(bank, trustNumber)).replace('.', ''));
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: virtual, amount: '50000.00', remittance: '投标保证金 GC2026-001' });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ creditedAccount: trustNumber, notified: true });
    const trustAfter = BigInt((await balanceOf(bank, trustNumber)).replace('.', ''));
    expect(trustAfter - trustBefore).toBe(5_000_000n);

    const [n] = await waitFor('the notification', async () => {
      const got = notificationsFor(paid.body.notificationMessageId);
      return got.length ? got : undefined;
    });
    expect(n.headers['content-type']).toContain('application/xml');
    expect(receiver.signatureProblem(n, certPem)).toBeNull();
    expect(n.headers['bidbond-certificate']).toBe(parseCertificatePem(certPem).info.fingerprint);
    const xml = n.body.toString('utf8');
    assertValidXml(xml, 'camt.054.001.08');
    const parsed = parseCamt054(xml);
    expect(parsed.messageId).toBe(paid.body.notificationMessageId);
    expect(parsed.credits).toEqual([
      expect.objectContaining({
        entryRef: paid.body.creditRef,
        virtualAccount: virtual,
        amountFen: 5_000_000n,
        currency: 'CNY',
        remittance: '投标保证金 GC2026-001',
        debtor: expect.objectContaining({ name: '甲建筑工程有限公司', accountNumber: payer }),
      }),
    ]);
    // The trust account's own entry records the number the bidder paid to.
    const trust = (await api(bank, 'GET', `/sandbox/accounts/${trustNumber}`)).body;
    expect(trust.entries.find((e: any) => e.ref === paid.body.creditRef)).toMatchObject({ addressedAccount: virtual, direction: 'credit', amount: '50000.00' });
  });

  test('a notification the service does not acknowledge is retried until it answers 2xx', async () => {
    const payer = uniqueNumber();
    await openAccount(bank, payer, '乙公司', '100.00');
    receiver.statuses = [500, 503, 404];
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: `${virtualPrefix}00000000439`, amount: '100.00' });
    const copies = await waitFor('a 2xx delivery', async () => {
      const got = notificationsFor(paid.body.notificationMessageId);
      return got.some((n) => n.answeredStatus === 200) ? got : undefined;
    });
    expect(copies.map((n) => n.answeredStatus)).toEqual([500, 503, 404, 200]);
    // Every attempt is signed afresh, and the body is the same message each time.
    for (const c of copies) expect(receiver.signatureProblem(c, certPem)).toBeNull();
    expect(new Set(copies.map((c) => c.body.toString('utf8'))).size).toBe(1);
    // Backoff: attempts are spaced out, not fired back to back.
    expect(copies[3].at - copies[0].at).toBeGreaterThanOrEqual(30);
    // The receiver has answered before the bank reads the answer and marks its row delivered.
    const delivered = await waitFor('the outbox row marked delivered', async () => {
      const outbox = await api(bank, 'GET', '/sandbox/notifications?status=delivered');
      return outbox.body.data.find((r: any) => r.messageId === paid.body.notificationMessageId);
    });
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 4, lastHttpStatus: 200 });
  });

  test('after the maximum attempts a notification is parked, visible, and delivered when retried by hand', async () => {
    const payer = uniqueNumber();
    await openAccount(bank, payer, '丙公司', '1.00');
    receiver.statuses = [500, 500, 500, 500];
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: `${virtualPrefix}00000000447`, amount: '1.00' });
    const parked = await waitFor('the notification to be parked', async () => {
      const list = await api(bank, 'GET', '/sandbox/notifications?status=parked');
      return list.body.data.find((r: any) => r.messageId === paid.body.notificationMessageId);
    });
    expect(parked).toMatchObject({ attempts: 4, lastHttpStatus: 500 });
    expect(notificationsFor(paid.body.notificationMessageId)).toHaveLength(4);
    const retried = await api(bank, 'POST', `/sandbox/notifications/${parked.id}/retry`);
    expect(retried.status).toBe(200);
    await waitFor('delivery after the manual retry', async () => notificationsFor(paid.body.notificationMessageId).some((n) => n.answeredStatus === 200));
  });

  test('a payment between two customers is not notified', async () => {
    const a = uniqueNumber();
    const b = uniqueNumber();
    await openAccount(bank, a, '甲公司', '5.00');
    await openAccount(bank, b, '乙公司', '0.00');
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: b, amount: '5.00' });
    expect(paid.body).toMatchObject({ notified: false, notificationMessageId: null });
  });
});

describe('sandbox bank: cn-h2h credit notices', () => {
  let h2hBank: SandboxBank;
  beforeAll(async () => {
    h2hBank = await startTestBank({ notifyUrl: receiver.url, protocol: 'cn-h2h' });
  });
  afterAll(async () => {
    await h2hBank?.close();
  });

  test('with SANDBOX_PROTOCOL=cn-h2h the deposit is pushed as a signed E2B0001 notice', async () => {
    const payer = uniqueNumber();
    await openAccount(h2hBank, payer, '丁公司', '300.00');
    const virtual = `${virtualPrefix}00000000455`;
    const paid = await api(h2hBank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: virtual, amount: '250.50', remittance: '保证金' });
    const [n] = await waitFor('the notice', async () => {
      const got = notificationsFor(paid.body.notificationMessageId);
      return got.length ? got : undefined;
    });
    expect(n.headers['x-trans-code']).toBe('E2B0001');
    expect(n.headers['content-type']).toContain('application/json');
    expect(receiver.signatureProblem(n, (await api(h2hBank, 'GET', '/sandbox/certificate')).text)).toBeNull();
    const notice = cnh2hParseCreditNotice(n.body);
    expect(notice.messageId).toBe(paid.body.notificationMessageId);
    expect(notice.credits).toEqual([expect.objectContaining({ entryRef: paid.body.creditRef, virtualAccount: virtual, amountFen: 25050n, remittance: '保证金' })]);
  });
});
