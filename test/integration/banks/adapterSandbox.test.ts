// The service's adapters against the running sandbox bank over HTTP, for each protocol: a
// batch of refunds out, statuses polled to final, the day's statement fetched and parsed with
// balances that add up, and a pushed credit notification read back through the adapter.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createBankAdapter } from '../../../src/banks/adapters';
import type { SandboxBank } from '../../../src/sandbox-bank';
import type { BankProtocol, StatementEntry, TransferBatch } from '../../../src/banks/types';
import { formatAmount, parseAmount } from '../../../src/domain/money';
import {
  api,
  balanceOf,
  NotificationReceiver,
  openAccount,
  otherBankCode,
  sandboxBankCode,
  startTestBank,
  todayInShanghai,
  trustName,
  trustNumber,
  uniqueNumber,
  virtualPrefix,
  waitFor,
} from './sandboxSupport';

const protocols: ('iso20022' | 'cn-h2h')[] = ['iso20022', 'cn-h2h'];

describe.each(protocols)('the %s adapter against the sandbox bank', (protocol) => {
  let bank: SandboxBank;
  let receiver: NotificationReceiver;

  beforeAll(async () => {
    receiver = await new NotificationReceiver().start();
    bank = await startTestBank({ protocol, notifyUrl: receiver.url });
  });
  afterAll(async () => {
    await bank.close();
    await receiver.close();
  });

  const adapter = () => createBankAdapter({ protocol: protocol as BankProtocol, endpoint: bank.url, timeoutMs: 5_000 });

  it('reads a customer payment into a virtual sub-account from the pushed notification', async () => {
    const payer = uniqueNumber();
    await openAccount(bank, payer, '华东建设集团有限公司', '80000.00');
    const virtual = `${virtualPrefix}${Date.now().toString().slice(-10)}`;
    const paid = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: virtual, amount: '50000.00', remittance: '投标保证金' });
    expect(paid.status).toBeLessThan(300);
    const n = await waitFor('the notification', async () => receiver.received.find((r) => r.body.includes(virtual)));
    const parsed = adapter().parseNotification(n.body, String(n.headers['content-type']));
    const credit = parsed.credits.find((c) => c.virtualAccount === virtual)!;
    expect(credit.amountFen).toBe(5000000n);
    expect(credit.debtor.accountNumber).toBe(payer);
    expect(credit.currency).toBe('CNY');
  });

  it('sends a batch, polls it to settled and rejected, and the balances move once', async () => {
    const good = uniqueNumber();
    const closed = uniqueNumber();
    await openAccount(bank, good, '华东建设集团有限公司', '0.00');
    await openAccount(bank, closed, '已销户公司', '0.00');
    await api(bank, 'POST', `/sandbox/accounts/${closed}/close`);
    // Fund the trust account so that it can pay out.
    const funder = uniqueNumber();
    await openAccount(bank, funder, '备付金', '1000.00');
    await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: trustNumber, amount: '1000.00', remittance: 'funding' });
    const id = (p: string) => `${p}${randomBytes(6).toString('hex').toUpperCase()}`;
    const batch: TransferBatch = {
      messageId: id('MSG'),
      createdAt: new Date(),
      requestedExecutionDate: todayInShanghai(),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [
        { endToEndId: id('E2E'), amountFen: 12345n, currency: 'CNY', creditor: { accountNumber: good, name: '华东建设集团有限公司', bankCode: otherBankCode }, remittance: '退还投标保证金' },
        { endToEndId: id('E2E'), amountFen: 100n, currency: 'CNY', creditor: { accountNumber: closed, name: '已销户公司', bankCode: otherBankCode }, remittance: '退还投标保证金' },
      ],
    };
    const submitted = await adapter().sendTransfers(batch);
    expect(submitted.accepted).toBe(true);
    const ids = batch.transfers.map((t) => t.endToEndId);
    const report = await waitFor('final statuses', async () => {
      const r = await adapter().getStatus(batch.messageId, ids);
      return r.transactions.every((t) => t.outcome === 'settled' || t.outcome === 'rejected') ? r : undefined;
    });
    const byId = new Map(report.transactions.map((t) => [t.endToEndId, t]));
    expect(byId.get(ids[0])!.outcome).toBe('settled');
    expect(byId.get(ids[1])!.outcome).toBe('rejected');
    expect(byId.get(ids[1])!.reasonCode).toBe('AC04');
    expect(parseAmount(await balanceOf(bank, good))).toBe(12345n);
    // Asking again changes nothing: status is a question, never a second payment.
    await adapter().getStatus(batch.messageId, ids);
    expect(parseAmount(await balanceOf(bank, good))).toBe(12345n);
  });

  it('answers "unknown" for a message the bank never received', async () => {
    const r = await adapter().getStatus(`MSG${randomBytes(6).toString('hex')}`, ['E2ENEVER']);
    expect(r.transactions.map((t) => t.outcome)).toEqual(['unknown']);
  });

  it('fetches the day\u2019s statement, whose opening plus credits minus debits is its closing balance', async () => {
    const entries: StatementEntry[] = [];
    const stream = await adapter().fetchStatement({ account: trustNumber, date: todayInShanghai() });
    const summary = await adapter().parseStatement(stream as Readable, (e) => {
      entries.push(e);
    });
    expect(entries.length).toBe(summary.entryCount);
    expect(summary.entryCount).toBeGreaterThan(0);
    expect(summary.openingBalanceFen + summary.creditTotalFen - summary.debitTotalFen).toBe(summary.closingBalanceFen);
    expect(formatAmount(summary.closingBalanceFen)).toBe(await balanceOf(bank, trustNumber));
  });
});

