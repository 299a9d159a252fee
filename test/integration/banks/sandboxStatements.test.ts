import { randomBytes } from 'node:crypto';
import type { SandboxBank } from '../../../src/sandbox-bank';
import type { StatementEntry, TransferBatch } from '../../../src/banks/types';
import { buildPain001 } from '../../../src/banks/iso20022/pain001';
import { parsePain002 } from '../../../src/banks/iso20022/pain002';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { cnh2hBuildStatementQuery, cnh2hParseStatementStream } from '../../../src/banks/cnh2h/protocol';
import {
  api,
  assertValidXml,
  balanceOf,
  externalBankCode,
  openAccount,
  otherBankCode,
  postXml,
  sandboxBankCode,
  startTestBank,
  todayInShanghai,
  trustName,
  trustNumber,
  uniqueNumber,
  virtualPrefix,
  waitFor,
} from './sandboxSupport';

let bank: SandboxBank;
const fen = (s: string) => BigInt(s.replace('.', ''));
const id = (p: string) => `${p}${randomBytes(8).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  bank = await startTestBank();
});
afterAll(async () => {
  await bank?.close();
});

async function camt053(account: string, date: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${bank.url}/iso20022/statements?account=${account}&date=${date}`);
  return { status: res.status, text: await res.text() };
}

describe('sandbox bank: end-of-day statements', () => {
  test('after a mixed day the camt.053 of the trust account is schema-valid and its balances add up exactly', async () => {
    const bidders = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    for (const [i, b] of bidders.entries()) await openAccount(bank, b, `投标人${i}有限公司`, '100000.00');
    // Deposits into three virtual sub-accounts, one bidder paying twice.
    const deposits = [
      [bidders[0], '50000.00'],
      [bidders[1], '50000.00'],
      [bidders[2], '12345.67'],
      [bidders[2], '0.01'],
    ];
    for (const [i, [from, amount]] of deposits.entries()) {
      const r = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: from, toAccount: `${virtualPrefix}0000000${i}`, amount, remittance: '投标保证金' });
      expect(r.status).toBe(201);
    }
    // Refunds out: one settles to a bidder, one to another bank, one is rejected (closed account).
    const closed = uniqueNumber();
    await openAccount(bank, closed, '已销户公司', '0.00');
    await api(bank, 'POST', `/sandbox/accounts/${closed}/close`);
    const batch: TransferBatch = {
      messageId: id('EOD'),
      createdAt: new Date(),
      requestedExecutionDate: todayInShanghai(),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [
        { endToEndId: id('R'), amountFen: 5_000_000n, currency: 'CNY', creditor: { accountNumber: bidders[0], name: '投标人0有限公司', bankCode: otherBankCode }, remittance: '退还' },
        { endToEndId: id('R'), amountFen: 123n, currency: 'CNY', creditor: { accountNumber: '6217000000000000002', name: '外行', bankCode: externalBankCode }, remittance: '退还' },
        { endToEndId: id('R'), amountFen: 999n, currency: 'CNY', creditor: { accountNumber: closed, name: '已销户公司', bankCode: otherBankCode }, remittance: '退还' },
      ],
    };
    expect(parsePain002((await postXml(bank, '/iso20022/payments', buildPain001(batch))).text).groupStatus).toBe('ACTC');
    await waitFor('settlement', async () => {
      const view = await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`);
      return view.body.instructions.every((i: any) => i.status !== 'pending');
    });

    const today = todayInShanghai();
    const res = await camt053(trustNumber, today);
    expect(res.status).toBe(200);
    assertValidXml(res.text, 'camt.053.001.08');
    const entries: StatementEntry[] = [];
    const summary = await parseCamt053Stream(res.text, (e) => {
      entries.push(e);
    });
    expect(summary.openingBalanceFen + summary.creditTotalFen - summary.debitTotalFen).toBe(summary.closingBalanceFen);
    expect(summary.closingBalanceFen).toBe(fen(await balanceOf(bank, trustNumber)));
    expect(summary.account).toBe(trustNumber);
    expect(summary.date).toBe(today);
    // 4 deposits in, 2 settled refunds out; the rejected one never booked.
    expect(entries.filter((e) => e.direction === 'credit')).toHaveLength(4);
    expect(entries.filter((e) => e.direction === 'debit')).toHaveLength(2);
    expect(summary.creditTotalFen).toBe(11_234_568n);
    expect(summary.debitTotalFen).toBe(5_000_123n);
    expect(entries.filter((e) => e.direction === 'credit').map((e) => e.account)).toEqual([0, 1, 2, 3].map((i) => `${virtualPrefix}0000000${i}`));
    const refund = entries.find((e) => e.endToEndId === batch.transfers[0].endToEndId);
    expect(refund).toMatchObject({ direction: 'debit', amountFen: 5_000_000n, counterparty: expect.objectContaining({ accountNumber: bidders[0] }) });

    // The bidder's own statement adds up too.
    const own = await camt053(bidders[0], today);
    const ownSummary = await parseCamt053Stream(own.text, () => {});
    expect(ownSummary.openingBalanceFen).toBe(10_000_000n);
    expect(ownSummary.closingBalanceFen).toBe(fen(await balanceOf(bank, bidders[0])));
    expect(ownSummary.closingBalanceFen).toBe(10_000_000n);
  });

  test('asking twice for a day gives the same statement number; an unknown account is 404, a bad or future date refused', async () => {
    const a = await camt053(trustNumber, todayInShanghai());
    const b = await camt053(trustNumber, todayInShanghai());
    const seq = (xml: string) => /<ElctrncSeqNb>(\d+)<\/ElctrncSeqNb>/.exec(xml)?.[1];
    expect(seq(a.text)).toBe('1');
    expect(seq(b.text)).toBe(seq(a.text));
    expect((await camt053(uniqueNumber(), todayInShanghai())).status).toBe(404);
    expect((await camt053(trustNumber, '2026-02-30')).status).toBe(400);
    expect((await camt053(trustNumber, '2999-01-01')).status).toBe(404);
  });

  test('the cn-h2h detail query (B2E0003) streams the same day as NDJSON whose trailer and balances agree', async () => {
    const query = cnh2hBuildStatementQuery({ account: trustNumber, date: todayInShanghai() });
    const res = await fetch(`${bank.url}/cn-h2h/gateway`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Trans-Code': 'B2E0003' }, body: JSON.stringify(query) });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const summary = await cnh2hParseStatementStream(await res.text(), () => {});
    expect(summary.openingBalanceFen + summary.creditTotalFen - summary.debitTotalFen).toBe(summary.closingBalanceFen);
    expect(summary.closingBalanceFen).toBe(fen(await balanceOf(bank, trustNumber)));
    expect(summary.entryCount).toBe(6);
  });

  test('a statement over more entries than one page streams them all and still adds up', async () => {
    const payer = uniqueNumber();
    const payee = uniqueNumber();
    await openAccount(bank, payer, '大户公司', '100000.00');
    await openAccount(bank, payee, '收款公司', '0.00');
    const count = 1_010; // more than statementPageRows (1,000)
    for (let i = 0; i < count; i += 101) {
      await Promise.all(Array.from({ length: 101 }, () => api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: payee, amount: '0.01' })));
    }
    const res = await camt053(payee, todayInShanghai());
    let n = 0;
    const summary = await parseCamt053Stream(res.text, () => {
      n += 1;
    });
    expect(n).toBe(count);
    expect(summary.closingBalanceFen).toBe(BigInt(count));
    expect(summary.openingBalanceFen + summary.creditTotalFen).toBe(summary.closingBalanceFen);
  });
});
