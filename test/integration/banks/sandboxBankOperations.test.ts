// What the bank does on its own, through the customer API, in both protocols: reversing a
// credit (冲正), a payee's bank returning a payment (退汇), interest (结息) and a booking reported
// by its date only. Each moves money, is notified as the protocol says, and shows on the day's
// statement, which still adds up to the balances.
import { randomBytes } from 'node:crypto';
import type { SandboxBank } from '../../../src/sandbox-bank';
import type { CreditNotification, StatementEntry, StatementSummary, TransferBatch } from '../../../src/banks/types';
import { buildPain001 } from '../../../src/banks/iso20022/pain001';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { parseNotification } from '../../../src/banks/notifications';
import { cnh2hBuildStatementQuery, cnh2hParseCreditNotice, cnh2hParseStatementStream } from '../../../src/banks/cnh2h/protocol';
import {
  api,
  assertValidXml,
  balanceOf,
  externalBankCode,
  NotificationReceiver,
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
  type ReceivedNotification,
} from './sandboxSupport';

const fen = (s: string) => BigInt(s.replace('.', ''));
const id = (p: string) => `${p}${randomBytes(8).toString('hex').toUpperCase()}`;
const protocols = ['iso20022', 'cn-h2h'] as const;

describe.each(protocols)('sandbox bank acting on its own (%s)', (protocol) => {
  let bank: SandboxBank;
  let receiver: NotificationReceiver;
  let funder: string;
  /** Refs of bookings the end-of-day statement must show, by what they are. */
  const booked: Record<string, string> = {};

  beforeAll(async () => {
    receiver = await new NotificationReceiver().start();
    bank = await startTestBank({ protocol, notifyUrl: receiver.url });
    funder = uniqueNumber();
    await openAccount(bank, funder, '出资公司', '1000000.00');
  });
  afterAll(async () => {
    await bank?.close();
    await receiver?.close();
  });

  /** The notification of that message id, checked as the protocol requires, and parsed. */
  async function notice(messageId: string): Promise<{ raw: ReceivedNotification; parsed: CreditNotification }> {
    const raw = await waitFor(`notification ${messageId}`, async () => receiver.received.find((n) => n.body.toString('utf8').includes(messageId)));
    const text = raw.body.toString('utf8');
    let parsed: CreditNotification;
    if (protocol === 'iso20022') {
      assertValidXml(text, 'camt.054.001.08');
      parsed = parseCamt054(text);
    } else {
      expect(raw.headers['x-trans-code']).toBe('E2B0001');
      parsed = cnh2hParseCreditNotice(raw.body);
    }
    // The service's own entry point reads it the same way (a notice it refused would be
    // retried until parked).
    expect(parseNotification(raw.body, String(raw.headers['content-type']))).toEqual(parsed);
    return { raw, parsed };
  }

  async function statement(account: string): Promise<{ summary: StatementSummary; entries: StatementEntry[] }> {
    const entries: StatementEntry[] = [];
    const onEntry = (e: StatementEntry) => {
      entries.push(e);
    };
    if (protocol === 'iso20022') {
      const res = await fetch(`${bank.url}/iso20022/statements?account=${account}&date=${todayInShanghai()}`);
      expect(res.status).toBe(200);
      const xml = await res.text();
      assertValidXml(xml, 'camt.053.001.08');
      return { summary: await parseCamt053Stream(xml, onEntry), entries };
    }
    const res = await fetch(`${bank.url}/cn-h2h/gateway`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Trans-Code': 'B2E0003' },
      body: JSON.stringify(cnh2hBuildStatementQuery({ account, date: todayInShanghai() })),
    });
    expect(res.headers.get('content-type')).toContain('ndjson');
    return { summary: await cnh2hParseStatementStream(await res.text(), onEntry), entries };
  }

  async function deposit(virtual: string, amount: string, extra: Record<string, unknown> = {}) {
    const res = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: funder, toAccount: virtual, amount, ...extra });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** Pays out of the trust account by file and waits until it settles. */
  async function payOut(creditor: { accountNumber: string; name: string; bankCode: string }, amountFen: bigint): Promise<string> {
    const batch: TransferBatch = {
      messageId: id('OUT'),
      createdAt: new Date(),
      requestedExecutionDate: todayInShanghai(),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [{ endToEndId: id('RFD'), amountFen, currency: 'CNY', creditor, remittance: '退还投标保证金' }],
    };
    expect((await postXml(bank, '/iso20022/payments', buildPain001(batch))).status).toBe(200);
    await waitFor('the payment to settle', async () => (await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`)).body.instructions[0].status === 'settled');
    return batch.transfers[0].endToEndId;
  }

  test('bookingDateOnly: the notice gives the booking date without a time, the Beijing business date', async () => {
    const virtual = `${virtualPrefix}00000000701`;
    const paid = await deposit(virtual, '10.00', { bookingDateOnly: true });
    expect(paid.bookingDateOnly).toBe(true);
    booked.dateOnly = paid.creditRef;
    const { raw, parsed } = await notice(paid.notificationMessageId);
    const text = raw.body.toString('utf8');
    if (protocol === 'iso20022') expect(text).toContain(`<BookgDt><Dt>${todayInShanghai()}</Dt></BookgDt>`);
    else expect(JSON.parse(text).body.details[0]).not.toHaveProperty('tranTime');
    expect(parsed.credits).toEqual([
      expect.objectContaining({ entryRef: paid.creditRef, virtualAccount: virtual, amountFen: 1000n, bookingDateOnly: true, bookedAt: new Date(`${todayInShanghai()}T00:00:00+08:00`).toISOString() }),
    ]);
  });

  test('a transfer body is read strictly: an unknown field or a non-boolean bookingDateOnly is refused naming it', async () => {
    const base = { fromAccount: funder, toAccount: trustNumber, amount: '1.00' };
    const misspelt = await api(bank, 'POST', '/sandbox/transfers', { ...base, bookingDateonly: true });
    expect([misspelt.status, misspelt.body.error.param]).toEqual([400, 'bookingDateonly']);
    const notBoolean = await api(bank, 'POST', '/sandbox/transfers', { ...base, bookingDateOnly: 'yes' });
    expect([notBoolean.status, notBoolean.body.error.param]).toEqual([400, 'bookingDateOnly']);
  });

  test('a reversal takes a deposit back: payer credited, trust account debited, notified as a reversal of that credit', async () => {
    const virtual = `${virtualPrefix}00000000702`;
    const paid = await deposit(virtual, '500.00', { endToEndId: id('PAYER'), remittance: '投标保证金' });
    const [payerBefore, trustBefore] = [fen(await balanceOf(bank, funder)), fen(await balanceOf(bank, trustNumber))];
    const res = await api(bank, 'POST', '/sandbox/reversals', { ref: paid.ref });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ reverses: paid.ref, amount: '500.00', debitedAccount: trustNumber, creditedAccount: funder, notified: true });
    booked.reversal = res.body.debitRef;
    expect(fen(await balanceOf(bank, funder)) - payerBefore).toBe(50_000n);
    expect(trustBefore - fen(await balanceOf(bank, trustNumber))).toBe(50_000n);

    const { raw, parsed } = await notice(res.body.notificationMessageId);
    if (protocol === 'iso20022') {
      const xml = raw.body.toString('utf8');
      expect(xml).toContain('<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>');
      expect(xml).toContain(`<Refs><AcctSvcrRef>${paid.creditRef}</AcctSvcrRef><EndToEndId>${paid.endToEndId}</EndToEndId></Refs>`);
    } else {
      expect(JSON.parse(raw.body.toString('utf8')).body).toMatchObject({ noticeType: '02', details: [{ drCrFlag: 'D', revFlag: '1', origBankSerialNo: paid.creditRef }] });
    }
    expect(parsed.credits).toEqual([]);
    expect(parsed.reversals).toEqual([
      expect.objectContaining({
        entryRef: res.body.debitRef,
        reversal: true,
        originalEntryRef: paid.creditRef,
        virtualAccount: virtual,
        amountFen: 50_000n,
        endToEndId: paid.endToEndId,
        debtor: expect.objectContaining({ accountNumber: funder, name: '出资公司' }),
        bankTransactionCode: 'PMNT/RCDT/DMCT',
      }),
    ]);
  });

  test('a reversal is refused for an unknown ref, a second time, a payment out of the trust account and a loose body', async () => {
    const paid = await deposit(`${virtualPrefix}00000000703`, '1.00');
    const [one, two] = await Promise.all([
      api(bank, 'POST', '/sandbox/reversals', { ref: paid.ref }),
      api(bank, 'POST', '/sandbox/reversals', { ref: paid.ref }),
    ]);
    expect([one.status, two.status].sort()).toEqual([201, 409]);
    expect([one, two].find((r) => r.status === 409)!.body.error.code).toBe('already_reversed');
    expect((await api(bank, 'POST', '/sandbox/reversals', { ref: paid.ref })).body.error.code).toBe('already_reversed');
    expect((await api(bank, 'GET', `/sandbox/accounts/${trustNumber}`)).body.entries.filter((e: any) => e.reversesRef === paid.creditRef)).toHaveLength(1);
    const unknown = await api(bank, 'POST', '/sandbox/reversals', { ref: 'SBXNOSUCH0000000000000000' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'transfer_not_found']);
    const fee = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: trustNumber, toAccount: funder, amount: '0.01' });
    expect((await api(bank, 'POST', '/sandbox/reversals', { ref: fee.body.ref })).body.error.code).toBe('not_reversible');
    expect((await api(bank, 'POST', '/sandbox/reversals', { ref: paid.ref, reason: 'x' })).status).toBe(400);
    expect((await api(bank, 'POST', '/sandbox/reversals', {})).body.error.param).toBe('ref');
  });

  test('a return (退汇) brings a settled payment back: payee debited, trust account credited, notified with the reason and the end-to-end id', async () => {
    await deposit(trustNumber, '100.00');
    const payee = uniqueNumber();
    await openAccount(bank, payee, '退汇公司', '0.00');
    const endToEndId = await payOut({ accountNumber: payee, name: '退汇公司', bankCode: otherBankCode }, 2_500n);
    const trustBefore = fen(await balanceOf(bank, trustNumber));
    const res = await api(bank, 'POST', '/sandbox/returns', { endToEndId, reasonCode: 'AC04' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ endToEndId, reasonCode: 'AC04', amount: '25.00', payeeDebited: payee, notified: true });
    booked.return = res.body.creditRef;
    expect(await balanceOf(bank, payee)).toBe('0.00');
    expect(fen(await balanceOf(bank, trustNumber)) - trustBefore).toBe(2_500n);

    const { raw, parsed } = await notice(res.body.notificationMessageId);
    if (protocol === 'iso20022') {
      const xml = raw.body.toString('utf8');
      expect(xml).toContain('<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>');
      expect(xml).toContain('<Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd>');
      expect(xml).toContain(`<EndToEndId>${endToEndId}</EndToEndId>`);
    } else {
      expect(JSON.parse(raw.body.toString('utf8')).body).toMatchObject({ noticeType: '03', details: [{ drCrFlag: 'C', tranType: 'RTN', rtnCode: 'E1004', bizSerialNo: endToEndId }] });
    }
    expect(parsed.credits).toEqual([
      expect.objectContaining({
        entryRef: res.body.creditRef,
        virtualAccount: trustNumber,
        amountFen: 2_500n,
        endToEndId,
        bankTransactionCode: 'PMNT/ICDT/RRTN',
        returnInfo: { reasonCode: 'AC04', originalEndToEndId: endToEndId },
        debtor: expect.objectContaining({ accountNumber: payee, name: '退汇公司' }),
      }),
    ]);
    const again = await api(bank, 'POST', '/sandbox/returns', { endToEndId, reasonCode: 'AC04' });
    expect([again.status, again.body.error.code]).toEqual([409, 'already_returned']);
  });

  test('a return from another bank credits only the trust account; unknown, unsettled and malformed requests are refused', async () => {
    await deposit(trustNumber, '10.00');
    const external = await payOut({ accountNumber: '6217000000000000777', name: '外行收款人', bankCode: externalBankCode }, 700n);
    const trustBefore = fen(await balanceOf(bank, trustNumber));
    const res = await api(bank, 'POST', '/sandbox/returns', { endToEndId: external, reasonCode: 'AC01' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ payeeDebited: null, debitRef: null });
    expect(fen(await balanceOf(bank, trustNumber)) - trustBefore).toBe(700n);

    const unknown = await api(bank, 'POST', '/sandbox/returns', { endToEndId: id('NOPE'), reasonCode: 'AC04' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'payment_not_found']);
    // A payment the bank rejected never left: there is nothing to return.
    const closed = uniqueNumber();
    await openAccount(bank, closed, '已销户', '0.00');
    await api(bank, 'POST', `/sandbox/accounts/${closed}/close`);
    const batch: TransferBatch = {
      messageId: id('REJ'),
      createdAt: new Date(),
      requestedExecutionDate: todayInShanghai(),
      debtor: { accountNumber: trustNumber, name: trustName, bankCode: sandboxBankCode },
      transfers: [{ endToEndId: id('RFD'), amountFen: 1n, currency: 'CNY', creditor: { accountNumber: closed, name: '已销户', bankCode: otherBankCode }, remittance: '' }],
    };
    await postXml(bank, '/iso20022/payments', buildPain001(batch));
    await waitFor('the rejection', async () => (await api(bank, 'GET', `/sandbox/payments/${batch.messageId}`)).body.instructions[0].status === 'rejected');
    const rejected = await api(bank, 'POST', '/sandbox/returns', { endToEndId: batch.transfers[0].endToEndId, reasonCode: 'AC04' });
    expect([rejected.status, rejected.body.error.code]).toEqual([409, 'payment_not_settled']);
    expect((await api(bank, 'POST', '/sandbox/returns', { endToEndId: external, reasonCode: 'ac04' })).body.error.param).toBe('reasonCode');
    expect((await api(bank, 'POST', '/sandbox/returns', { endToEndId: external, reasonCode: 'AC04', amount: '1.00' })).body.error.param).toBe('amount');
  });

  test('interest by hand: credited to the trust account and notified as interest; a repeated Idempotency-Key pays once', async () => {
    const trustBefore = fen(await balanceOf(bank, trustNumber));
    const key = id('INT');
    const res = await api(bank, 'POST', '/sandbox/interest', { amount: '12.34' }, { 'Idempotency-Key': key });
    expect(res.status).toBe(201);
    booked.interest = res.body.creditRef;
    const replay = await api(bank, 'POST', '/sandbox/interest', { amount: '12.34' }, { 'Idempotency-Key': key });
    expect([replay.status, replay.body.replayed, replay.body.creditRef]).toEqual([200, true, res.body.creditRef]);
    expect((await api(bank, 'POST', '/sandbox/interest', { amount: '12.35' }, { 'Idempotency-Key': key })).status).toBe(422);
    expect(fen(await balanceOf(bank, trustNumber)) - trustBefore).toBe(1_234n);
    const { raw, parsed } = await notice(res.body.notificationMessageId);
    if (protocol === 'iso20022') expect(raw.body.toString('utf8')).toContain('<Cd>ACMT</Cd><Fmly><Cd>MCOP</Cd><SubFmlyCd>INTR</SubFmlyCd>');
    else expect(JSON.parse(raw.body.toString('utf8')).body).toMatchObject({ noticeType: '04', details: [{ tranType: 'INT' }] });
    expect(parsed.credits).toEqual([expect.objectContaining({ entryRef: res.body.creditRef, virtualAccount: trustNumber, amountFen: 1_234n, bankTransactionCode: 'ACMT/MCOP/INTR' })]);
    expect((await api(bank, 'POST', '/sandbox/interest', { amount: 12.34 })).body.error.param).toBe('amount');
    expect((await api(bank, 'POST', '/sandbox/interest', { amount: '1.00', account: trustNumber })).body.error.param).toBe('account');
  });

  test("the day's statement shows every one of them and still adds up to the bank's balances", async () => {
    expect(Object.keys(booked).sort()).toEqual(['dateOnly', 'interest', 'return', 'reversal']);
    const { summary, entries } = await statement(trustNumber);
    expect(summary.openingBalanceFen + summary.creditTotalFen - summary.debitTotalFen).toBe(summary.closingBalanceFen);
    expect(summary.closingBalanceFen).toBe(fen(await balanceOf(bank, trustNumber)));
    expect(new Set(entries.map((e) => e.entryRef)).size).toBe(entries.length);
    const byRef = new Map(entries.map((e) => [e.entryRef, e]));
    expect(byRef.get(booked.dateOnly)).toMatchObject({ bookingDateOnly: true, direction: 'credit' });
    expect(byRef.get(booked.reversal)).toMatchObject({ direction: 'debit', reversal: true, originalEntryRef: expect.stringMatching(/C$/), bankTransactionCode: 'PMNT/RCDT/DMCT' });
    expect(byRef.get(booked.return)).toMatchObject({ direction: 'credit', bankTransactionCode: 'PMNT/ICDT/RRTN', returnInfo: { reasonCode: 'AC04', originalEndToEndId: expect.any(String) } });
    expect(byRef.get(booked.interest)).toMatchObject({ direction: 'credit', bankTransactionCode: 'ACMT/MCOP/INTR' });
    // The payer's side of the reversal: its money back, as the reversal of its own payment.
    const payer = await statement(funder);
    expect(payer.summary.closingBalanceFen).toBe(fen(await balanceOf(bank, funder)));
    expect(payer.entries.find((e) => e.reversal && e.direction === 'credit')).toMatchObject({ bankTransactionCode: 'PMNT/ICDT/DMCT', originalEntryRef: expect.stringMatching(/D$/) });
  });
});
