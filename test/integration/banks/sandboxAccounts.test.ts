import type { SandboxBank } from '../../../src/sandbox-bank';
import { parseCertificatePem } from '../../../src/pki/certs';
import { api, balanceOf, openAccount, otherBankCode, sandboxBankCode, startTestBank, trustName, trustNumber, uniqueNumber } from './sandboxSupport';

let bank: SandboxBank;

beforeAll(async () => {
  bank = await startTestBank();
});
afterAll(async () => {
  await bank?.close();
});

describe('sandbox bank: accounts and customer transfers', () => {
  test('an opened account shows its balance, status and (no) entries; the same opening again answers it unchanged', async () => {
    const number = uniqueNumber();
    const first = await api(bank, 'POST', '/sandbox/accounts', { number, name: '甲建筑有限公司', bankCode: otherBankCode, balance: '1000000.00' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ number, name: '甲建筑有限公司', bankCode: otherBankCode, balance: '1000000.00', status: 'open', entries: [] });
    const again = await api(bank, 'POST', '/sandbox/accounts', { number, name: '甲建筑有限公司', bankCode: otherBankCode, balance: '5.00' });
    expect(again.status).toBe(200);
    expect(again.body.balance).toBe('1000000.00');
    const clash = await api(bank, 'POST', '/sandbox/accounts', { number, name: '乙公司', bankCode: otherBankCode, balance: '0' });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('account_exists');
  });

  test('bad openings are refused with the field named', async () => {
    const number = uniqueNumber();
    const cases: [Record<string, unknown>, string][] = [
      [{ number, name: '甲', bankCode: otherBankCode, balance: 100 }, 'balance'],
      [{ number, name: '甲', bankCode: otherBankCode, balance: '1.005' }, 'balance'],
      [{ number, name: '甲', bankCode: '1234', balance: '1.00' }, 'bankCode'],
      [{ number: 'a b', name: '甲', bankCode: otherBankCode }, 'number'],
      [{ number, name: '', bankCode: otherBankCode }, 'name'],
    ];
    for (const [body, param] of cases) {
      const res = await api(bank, 'POST', '/sandbox/accounts', body);
      expect(res.status).toBe(400);
      expect(res.body.error.param).toBe(param);
    }
    expect((await api(bank, 'GET', `/sandbox/accounts/${uniqueNumber()}`)).status).toBe(404);
    const reserved = await api(bank, 'POST', '/sandbox/accounts', { number: '955880000000001', name: '甲', bankCode: otherBankCode });
    expect(reserved.status).toBe(409);
  });

  test('the configured trust account exists from the start and is adopted by the first opening', async () => {
    const before = await api(bank, 'GET', `/sandbox/accounts/${trustNumber}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ number: trustNumber, kind: 'trust', balance: '0.00' });
    const adopted = await api(bank, 'POST', '/sandbox/accounts', { number: trustNumber, name: trustName, bankCode: sandboxBankCode, balance: '0.00' });
    expect([200, 201]).toContain(adopted.status);
    expect(adopted.body.kind).toBe('trust');
  });

  test('a transfer between customers is booked at once on both sides', async () => {
    const a = uniqueNumber();
    const b = uniqueNumber();
    await openAccount(bank, a, '甲公司', '500.00');
    await openAccount(bank, b, '乙公司', '0.00', sandboxBankCode);
    const res = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: b, amount: '123.45', remittance: '货款' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fromAccount: a, toAccount: b, amount: '123.45', notified: false });
    expect(res.body.ref).toMatch(/^SBX[A-Z0-9]{4}\d{18}$/);
    expect(new Date(res.body.bookedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const payer = (await api(bank, 'GET', `/sandbox/accounts/${a}`)).body;
    const payee = (await api(bank, 'GET', `/sandbox/accounts/${b}`)).body;
    expect(payer.balance).toBe('376.55');
    expect(payee.balance).toBe('123.45');
    expect(payer.entries).toEqual([
      expect.objectContaining({ ref: `${res.body.ref}D`, amount: '123.45', direction: 'debit', remittance: '货款', counterparty: expect.objectContaining({ accountNumber: b, name: '乙公司' }) }),
    ]);
    expect(payee.entries).toEqual([expect.objectContaining({ ref: `${res.body.ref}C`, direction: 'credit', counterparty: expect.objectContaining({ accountNumber: a, name: '甲公司' }) })]);
  });

  test('insufficient funds (AM04), a closed payee (AC04) and an unknown payee (AC01) are refused and move nothing', async () => {
    const a = uniqueNumber();
    const b = uniqueNumber();
    await openAccount(bank, a, '甲公司', '10.00');
    await openAccount(bank, b, '乙公司', '0.00');
    const poor = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: b, amount: '10.01' });
    expect(poor.status).toBe(422);
    expect(poor.body.error.code).toBe('AM04');
    const closed = await api(bank, 'POST', `/sandbox/accounts/${b}/close`);
    expect(closed.body.status).toBe('closed');
    const toClosed = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: b, amount: '1.00' });
    expect(toClosed.status).toBe(422);
    expect(toClosed.body.error.code).toBe('AC04');
    const unknown = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: uniqueNumber(), amount: '1.00' });
    expect(unknown.body.error.code).toBe('AC01');
    const fromClosed = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: b, toAccount: a, amount: '1.00' });
    expect(fromClosed.body.error.code).toBe('AC04');
    expect(await balanceOf(bank, a)).toBe('10.00');
    expect(await balanceOf(bank, b)).toBe('0.00');
    const floatAmount = await api(bank, 'POST', '/sandbox/transfers', { fromAccount: a, toAccount: b, amount: 1.5 });
    expect(floatAmount.status).toBe(400);
  });

  test('fifty transfers at once from one account never overdraw it or lose a fen', async () => {
    const payer = uniqueNumber();
    const payees = [uniqueNumber(), uniqueNumber()];
    await openAccount(bank, payer, '甲公司', '300.00');
    for (const p of payees) await openAccount(bank, p, '乙公司', '0.00');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api(bank, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: payees[i % 2], amount: '10.00' })),
    );
    const ok = results.filter((r) => r.status === 201).length;
    const refused = results.filter((r) => r.status === 422 && r.body.error.code === 'AM04').length;
    expect(ok).toBe(30);
    expect(refused).toBe(20);
    expect(await balanceOf(bank, payer)).toBe('0.00');
    const received = (await Promise.all(payees.map((p) => balanceOf(bank, p)))).map((s) => BigInt(s.replace('.', '')));
    expect(received[0] + received[1]).toBe(30000n);
  });

  test('the same Idempotency-Key books once; reused for another transfer it is refused', async () => {
    const a = uniqueNumber();
    const b = uniqueNumber();
    await openAccount(bank, a, '甲公司', '100.00');
    await openAccount(bank, b, '乙公司', '0.00');
    const key = `idem-${uniqueNumber()}`;
    const body = { fromAccount: a, toAccount: b, amount: '40.00' };
    const [one, two] = await Promise.all([api(bank, 'POST', '/sandbox/transfers', body, { 'Idempotency-Key': key }), api(bank, 'POST', '/sandbox/transfers', body, { 'Idempotency-Key': key })]);
    expect([one.status, two.status].sort()).toEqual([200, 201]);
    expect(one.body.ref).toBe(two.body.ref);
    expect(await balanceOf(bank, a)).toBe('60.00');
    const other = await api(bank, 'POST', '/sandbox/transfers', { ...body, amount: '1.00' }, { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  test('the signing certificate and the health check are served', async () => {
    const cert = await api(bank, 'GET', '/sandbox/certificate');
    expect(cert.status).toBe(200);
    expect(parseCertificatePem(cert.text).info.subject).toContain('sandbox bank');
    const health = await api(bank, 'GET', '/sandbox/health');
    expect(health.body).toMatchObject({ status: 'ok', trustAccount: trustNumber, protocol: 'iso20022' });
  });
});
