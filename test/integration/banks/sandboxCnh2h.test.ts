import { randomBytes } from 'node:crypto';
import type { SandboxBank } from '../../../src/sandbox-bank';
import type { TransferBatch } from '../../../src/banks/types';
import {
  cnh2hBuildPaymentRequest,
  cnh2hBuildStatusQuery,
  cnh2hParseResponseHead,
  cnh2hParseStatusResponse,
} from '../../../src/banks/cnh2h/protocol';
import { api, balanceOf, openAccount, otherBankCode, sandboxBankCode, startTestBank, trustName, trustNumber, uniqueNumber, waitFor } from './sandboxSupport';

let bank: SandboxBank;
let payee: string;
const id = (p: string) => `${p}${randomBytes(8).toString('hex').toUpperCase()}`;

async function gateway(transCode: string, body: unknown): Promise<any> {
  const res = await fetch(`${bank.url}/cn-h2h/gateway`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Trans-Code': transCode },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.json();
}

function batchOf(transfers: TransferBatch['transfers'], messageId = id('B')): TransferBatch {
  return {
    messageId,
    createdAt: new Date(),
    requestedExecutionDate: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10),
    debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
    transfers,
  };
}

const to = (name: string, amountFen: bigint, endToEndId = id('E')) => ({
  endToEndId,
  amountFen,
  currency: 'CNY' as const,
  creditor: { accountNumber: payee, name, bankCode: otherBankCode },
  remittance: '退还投标保证金',
});

beforeAll(async () => {
  bank = await startTestBank({ protocol: 'cn-h2h' });
  const funder = uniqueNumber();
  payee = uniqueNumber();
  await openAccount(bank, funder, '出资公司', '1000.00');
  await openAccount(bank, payee, '收款有限公司', '0.00');
  await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: '1000.00' });
});
afterAll(async () => {
  await bank?.close();
});

describe('sandbox bank: cn-h2h gateway', () => {
  test('B2E0001 takes a batch for processing; B2E0002 then reports each detail with the bank codes (E1010, E2001)', async () => {
    const e2e = id('E');
    const batch = batchOf([to('收款有限公司', 10000n, e2e), to('别的公司', 100n)]);
    const answer = await gateway('B2E0001', cnh2hBuildPaymentRequest(batch));
    expect(answer.head.retCode).toBe('000000');
    expect(answer.body.batchStatus).toBe('2');
    const report = await waitFor('settlement', async () => {
      const r = cnh2hParseStatusResponse(await gateway('B2E0002', cnh2hBuildStatusQuery(batch.messageId)));
      return r.transactions.every((t) => t.outcome !== 'pending') ? r : undefined;
    });
    expect(report.transactions.map((t) => [t.outcome, t.reasonCode])).toEqual([
      ['settled', undefined],
      ['rejected', 'BE01'],
    ]);
    const raw = await gateway('B2E0002', cnh2hBuildStatusQuery(batch.messageId));
    expect(raw.body.batchStatus).toBe('0');
    expect(raw.body.details[1]).toMatchObject({ status: '1', errCode: 'E1010' });
    expect(await balanceOf(bank, payee)).toBe('100.00');

    const again = batchOf([to('收款有限公司', 10000n, e2e)]);
    await gateway('B2E0001', cnh2hBuildPaymentRequest(again));
    const dupl = await waitFor('the duplicate', async () => {
      const r = await gateway('B2E0002', cnh2hBuildStatusQuery(again.messageId));
      return r.body.batchStatus === '0' ? r : undefined;
    });
    expect(dupl.body.details[0]).toMatchObject({ status: '1', errCode: 'E2001' });
    expect(await balanceOf(bank, payee)).toBe('100.00');
  });

  test('a repeated batch number is E2002, an unknown batch E3001, a broken envelope or a mismatched trade code E9002', async () => {
    const batch = batchOf([to('收款有限公司', 1n)]);
    expect((await gateway('B2E0001', cnh2hBuildPaymentRequest(batch))).head.retCode).toBe('000000');
    expect(cnh2hParseResponseHead(await gateway('B2E0001', cnh2hBuildPaymentRequest(batch))).retCode).toBe('E2002');
    expect((await gateway('B2E0002', cnh2hBuildStatusQuery('NO-SUCH-BATCH'))).head.retCode).toBe('E3001');
    expect((await gateway('B2E0001', '{not json')).head.retCode).toBe('E9002');
    expect((await gateway('B2E0002', cnh2hBuildPaymentRequest(batchOf([to('收款有限公司', 1n)])))).head.retCode).toBe('E9002');
    const badTotal = cnh2hBuildPaymentRequest(batchOf([to('收款有限公司', 1n)]));
    badTotal.body.totalAmt = '9.99';
    expect((await gateway('B2E0001', badTotal)).head.retCode).toBe('E9002');
  });

  test('lateArrivalRate: a queued batch is acknowledged, then unknown to B2E0002 (E3001, or detail status 3) until it settles', async () => {
    const fault = await api(bank, 'POST', '/sandbox/faults', { seed: 8, lateArrivalRate: 1, lateArrivalMs: 1_500 });
    expect(fault.status).toBe(200);
    const queuedPayee = uniqueNumber();
    await openAccount(bank, queuedPayee, '排队公司', '0.00');
    const toQueued = (amountFen: bigint) => ({ ...to('排队公司', amountFen), creditor: { accountNumber: queuedPayee, name: '排队公司', bankCode: otherBankCode } });
    const whole = batchOf([toQueued(100n), toQueued(200n)]);
    const answer = await gateway('B2E0001', cnh2hBuildPaymentRequest(whole));
    expect([answer.head.retCode, answer.body.batchStatus, answer.body.details.map((d: any) => d.status)]).toEqual(['000000', '2', ['2', '2']]);
    expect((await gateway('B2E0002', cnh2hBuildStatusQuery(whole.messageId))).head.retCode).toBe('E3001');

    await api(bank, 'POST', '/sandbox/faults', { seed: 8, lateArrivalRate: 0.5, lateArrivalMs: 1_500 });
    const part = batchOf(Array.from({ length: 8 }, () => toQueued(1n)));
    await gateway('B2E0001', cnh2hBuildPaymentRequest(part));
    const view = await api(bank, 'GET', `/sandbox/payments/${part.messageId}`);
    const queued = view.body.instructions.map((i: any) => i.queuedUntil !== null);
    expect(queued).toContain(true);
    expect(queued).toContain(false);
    const raw = await gateway('B2E0002', cnh2hBuildStatusQuery(part.messageId));
    expect(raw.body.batchStatus).toBe('2');
    expect(raw.body.details.map((d: any) => d.status === '3')).toEqual(queued);
    const report = cnh2hParseStatusResponse(raw);
    expect(report.transactions.filter((t) => t.outcome === 'unknown')).toHaveLength(queued.filter(Boolean).length);
    await api(bank, 'POST', '/sandbox/faults', {});

    for (const b of [whole, part]) {
      await waitFor('settlement after the queue', async () => (await gateway('B2E0002', cnh2hBuildStatusQuery(b.messageId))).body?.batchStatus === '0');
    }
    expect(await balanceOf(bank, queuedPayee)).toBe('3.08');
  });

  test('a statement query for an account the bank does not hold is E1001', async () => {
    const res = await gateway('B2E0003', { head: { transCode: 'B2E0003', reqSeqNo: 'S1', transDate: '20260101', transTime: '120000', custNo: '' }, body: { acctNo: uniqueNumber(), queryDate: '20260101' } });
    expect(res.head.retCode).toBe('E1001');
  });
});
