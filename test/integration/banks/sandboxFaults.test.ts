import { randomBytes } from 'node:crypto';
import type { SandboxBank } from '../../../src/sandbox-bank';
import type { StatusReport, TransferBatch } from '../../../src/banks/types';
import { buildPain001 } from '../../../src/banks/iso20022/pain001';
import { parsePain002 } from '../../../src/banks/iso20022/pain002';
import { createBankAdapter } from '../../../src/banks/adapters';
import {
  api,
  assertValidXml,
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
  virtualPrefix,
  waitFor,
} from './sandboxSupport';

let bank: SandboxBank;
let receiver: NotificationReceiver;
const fen = (s: string) => BigInt(s.replace('.', ''));
const adapter = () => createBankAdapter({ protocol: 'iso20022', endpoint: bank.url, timeoutMs: 5_000 });
let funder: string;
let payee: string;

const id = (p: string) => `${p}${randomBytes(8).toString('hex').toUpperCase()}`;

function batchOf(count: number, amountFen = 1n): TransferBatch {
  return {
    messageId: id('FLT'),
    createdAt: new Date(),
    requestedExecutionDate: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10),
    debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
    transfers: Array.from({ length: count }, () => ({
      endToEndId: id('E'),
      amountFen,
      currency: 'CNY' as const,
      creditor: { accountNumber: payee, name: '收款公司', bankCode: otherBankCode },
      remittance: 'refund',
    })),
  };
}

async function status(messageId: string): Promise<{ code: number; report?: StatusReport }> {
  const res = await fetch(`${bank.url}/iso20022/payments/${messageId}/status`);
  return { code: res.status, report: res.status === 200 ? parsePain002(await res.text()) : undefined };
}

async function finalStatus(messageId: string): Promise<StatusReport> {
  return waitFor(`final status of ${messageId}`, async () => {
    const { report } = await status(messageId);
    return report && report.transactions.every((t) => t.outcome !== 'pending') ? report : undefined;
  });
}

async function setFaults(faults: Record<string, number>) {
  const res = await api(bank, 'POST', '/sandbox/faults', faults);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  receiver = await new NotificationReceiver().start();
  bank = await startTestBank({ notifyUrl: receiver.url });
  funder = uniqueNumber();
  payee = uniqueNumber();
  await openAccount(bank, funder, '出资公司', '1000000.00');
  await openAccount(bank, payee, '收款公司', '0.00');
  await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: '100000.00' });
});
afterEach(async () => {
  await setFaults({});
});
afterAll(async () => {
  await bank?.close();
  await receiver?.close();
});

describe('sandbox bank: fault injection', () => {
  test('faults are all zero by default; settings are checked, stored and answered', async () => {
    expect((await api(bank, 'GET', '/sandbox/faults')).body).toEqual({
      seed: 0,
      rejectRate: 0,
      timeoutRate: 0,
      lostStatusRate: 0,
      duplicateNoticeRate: 0,
      noticeDelayMs: 0,
      http500Rate: 0,
      lateArrivalRate: 0,
      lateArrivalMs: 0,
    });
    expect((await api(bank, 'POST', '/sandbox/faults', { rejectRate: 1.5 })).status).toBe(400);
    expect((await api(bank, 'POST', '/sandbox/faults', { lateArrivalRate: -0.1 })).status).toBe(400);
    expect((await api(bank, 'POST', '/sandbox/faults', { lateArrivalMs: 3_600_001 })).body.error).toMatchObject({ param: 'lateArrivalMs' });
    expect((await api(bank, 'POST', '/sandbox/faults', { lateArrivalMs: '500' })).status).toBe(400);
    expect((await api(bank, 'POST', '/sandbox/faults', { rejectRatio: 0.1 })).status).toBe(400);
    expect((await api(bank, 'POST', '/sandbox/faults', { seed: -1 })).status).toBe(400);
    const set = await setFaults({ seed: 7, rejectRate: 0.25 });
    expect(set).toMatchObject({ seed: 7, rejectRate: 0.25, timeoutRate: 0 });
    expect((await api(bank, 'GET', '/sandbox/faults')).body).toMatchObject({ seed: 7, rejectRate: 0.25 });
  });

  test('rejectRate rejects a share of instructions MS03, and the same seed rejects the same ones again', async () => {
    const patterns: string[] = [];
    for (let run = 0; run < 2; run++) {
      await setFaults({ seed: 42, rejectRate: 0.5 });
      const batch = batchOf(16);
      await postXml(bank, '/iso20022/payments', buildPain001(batch));
      const done = await finalStatus(batch.messageId);
      for (const t of done.transactions) if (t.outcome === 'rejected') expect(t.reasonCode).toBe('MS03');
      patterns.push(done.transactions.map((t) => (t.outcome === 'rejected' ? 'R' : 'S')).join(''));
    }
    expect(patterns[0]).toBe(patterns[1]);
    expect(patterns[0]).toMatch(/R/);
    expect(patterns[0]).toMatch(/S/);
  });

  test('timeoutRate: the answer never comes in time, but the payment is recorded and settles; the caller asks for status', async () => {
    await setFaults({ seed: 1, timeoutRate: 1 });
    const before = BigInt((await balanceOf(bank, payee)).replace('.', ''));
    const batch = batchOf(1, 700n);
    await expect(postXml(bank, '/iso20022/payments', buildPain001(batch), 500)).rejects.toThrow();
    const done = await finalStatus(batch.messageId);
    expect(done.transactions[0].outcome).toBe('settled');
    expect(BigInt((await balanceOf(bank, payee)).replace('.', '')) - before).toBe(700n);
  });

  test('lostStatusRate: after settling, the status still says pending (PDNG) for a while, then ACSC', async () => {
    await setFaults({ seed: 3, lostStatusRate: 1 });
    const batch = batchOf(1, 5n);
    await postXml(bank, '/iso20022/payments', buildPain001(batch));
    await waitFor('the booking', async () => (await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`)).body.instructions[0].status === 'settled');
    const lagging = await status(batch.messageId);
    expect(lagging.report!.transactions[0]).toMatchObject({ outcome: 'pending', bankStatus: 'PDNG' });
    const done = await finalStatus(batch.messageId);
    expect(done.transactions[0]).toMatchObject({ outcome: 'settled', bankStatus: 'ACSC' });
  });

  test('duplicateNoticeRate: the same notification arrives twice', async () => {
    await setFaults({ seed: 5, duplicateNoticeRate: 1 });
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: `${virtualPrefix}00000000501`, amount: '1.00' });
    const copies = await waitFor('two copies', async () => {
      const got = receiver.received.filter((n) => n.body.toString().includes(paid.body.notificationMessageId));
      return got.length === 2 ? got : undefined;
    });
    expect(copies[0].body.equals(copies[1].body)).toBe(true);
  });

  test('noticeDelayMs: the notification is sent no sooner than the delay after the booking', async () => {
    await setFaults({ noticeDelayMs: 400 });
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: `${virtualPrefix}00000000519`, amount: '1.00' });
    const [n] = await waitFor('the delayed notice', async () => {
      const got = receiver.received.filter((r) => r.body.toString().includes(paid.body.notificationMessageId));
      return got.length ? got : undefined;
    });
    expect(n.at - new Date(paid.body.bookedAt).getTime()).toBeGreaterThanOrEqual(390);
  });

  test('lateArrivalRate: the file is acknowledged, but the bank has no record of its instructions and pays nothing for lateArrivalMs; then they settle', async () => {
    await setFaults({ seed: 4, lateArrivalRate: 1, lateArrivalMs: 1_500 });
    const before = fen(await balanceOf(bank, payee));
    const batch = batchOf(2, 300n);
    const answer = await postXml(bank, '/iso20022/payments', buildPain001(batch));
    assertValidXml(answer.text, 'pain.002.001.10');
    const ack = parsePain002(answer.text);
    expect(ack.groupStatus).toBe('ACTC');
    expect(ack.transactions.map((t) => [t.outcome, t.bankStatus])).toEqual([['pending', 'ACSP'], ['pending', 'ACSP']]);
    // Asked about, the bank knows nothing of it: the same answer as for a file never received.
    expect((await status(batch.messageId)).code).toBe(404);
    expect((await adapter().getStatus(batch.messageId, [batch.transfers[0].endToEndId])).transactions).toEqual([
      { endToEndId: batch.transfers[0].endToEndId, outcome: 'unknown', bankStatus: '' },
    ]);
    const view = await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`);
    expect(view.body.instructions.map((i: any) => [i.status, typeof i.queuedUntil])).toEqual([['pending', 'string'], ['pending', 'string']]);
    // Sent again under a new message id because the status said unknown: the bank did receive
    // the first, so the repeat is refused DUPL at once and only the first is ever paid.
    const resent: TransferBatch = { ...batchOf(0), transfers: batch.transfers };
    const resentAck = parsePain002((await postXml(bank, '/iso20022/payments', buildPain001(resent))).text);
    expect(resentAck.transactions.map((t) => t.reasonCode)).toEqual(['DUPL', 'DUPL']);
    expect(fen(await balanceOf(bank, payee))).toBe(before);

    const done = await finalStatus(batch.messageId);
    expect(done).toMatchObject({ groupStatus: 'ACSC' });
    expect(done.transactions.map((t) => t.bankStatus)).toEqual(['ACSC', 'ACSC']);
    expect(fen(await balanceOf(bank, payee)) - before).toBe(600n);
    const queued = new Date(view.body.instructions[0].queuedUntil).getTime();
    const booked = new Date((await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`)).body.instructions[0].bookedAt).getTime();
    expect(booked).toBeGreaterThanOrEqual(queued);
  });

  test('lateArrivalRate below 1: the report leaves out the queued instructions and gives no group status, so they read as unknown', async () => {
    await setFaults({ seed: 21, lateArrivalRate: 0.5, lateArrivalMs: 3_000 });
    const batch = batchOf(12, 1n);
    await postXml(bank, '/iso20022/payments', buildPain001(batch));
    const view = await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`);
    const queued = new Set<string>(view.body.instructions.filter((i: any) => i.queuedUntil).map((i: any) => i.endToEndId));
    expect(queued.size).toBeGreaterThan(0);
    expect(queued.size).toBeLessThan(12);
    const visible = await waitFor('the visible ones to settle', async () => {
      const { report } = await status(batch.messageId);
      return report && report.transactions.every((t) => t.outcome === 'settled') ? report : undefined;
    });
    expect(visible.groupStatus).toBeUndefined();
    assertValidXml(await (await fetch(`${bank.url}/iso20022/payments/${batch.messageId}/status`)).text(), 'pain.002.001.10');
    expect(visible.transactions.map((t) => t.endToEndId).sort()).toEqual(batch.transfers.map((t) => t.endToEndId).filter((e) => !queued.has(e)).sort());
    const asked = await adapter().getStatus(batch.messageId, batch.transfers.map((t) => t.endToEndId));
    for (const t of asked.transactions) expect(t.outcome).toBe(queued.has(t.endToEndId) ? 'unknown' : 'settled');
    // The same seed queues the same instructions again.
    await setFaults({ seed: 21, lateArrivalRate: 0.5, lateArrivalMs: 3_000 });
    const again = batchOf(12, 1n);
    await postXml(bank, '/iso20022/payments', buildPain001(again));
    const againView = await api(bank, 'GET', `/sandbox/payments/${again.messageId}`);
    expect(againView.body.instructions.map((i: any) => !!i.queuedUntil)).toEqual(view.body.instructions.map((i: any) => !!i.queuedUntil));
    // Then every one of them settles, and the whole file is reported again.
    for (const messageId of [batch.messageId, again.messageId]) {
      const all = await waitFor('every instruction to settle', async () => {
        const { report } = await status(messageId);
        return report && report.transactions.length === 12 && report.transactions.every((t) => t.outcome === 'settled') ? report : undefined;
      });
      expect(all.groupStatus).toBe('ACSC');
    }
  });

  test('http500Rate: the protocol endpoints answer 500 without acting; the customer API is not affected', async () => {
    await setFaults({ seed: 9, http500Rate: 1 });
    const batch = batchOf(1);
    const res = await postXml(bank, '/iso20022/payments', buildPain001(batch));
    expect(res.status).toBe(500);
    expect((await api(bank, 'GET', `/sandbox/accounts/${payee}`)).status).toBe(200);
    await setFaults({});
    expect((await status(batch.messageId)).code).toBe(404);
  });
});
