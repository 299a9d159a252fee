// A deposit bank played by the sandbox bank, on a database and queue prefix of their own, for
// the refund tests that need the bank to act after the fact (returns, interest): the service's
// api on a real port (the sandbox pushes its notices there), the executor run in-process.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import type { CreditEntry } from '../../src/banks/types';
import { startSandboxBank, type SandboxBank } from '../../src/sandbox-bank';
import { freePort } from '../../src/db/embedded';
import { addCalendarDays, businessDate } from '../../src/domain/time';
import { formatAmount, parseAmount } from '../../src/domain/money';
import { parseCertificatePem } from '../../src/pki/certs';
import { ensureDevPki } from '../../src/pki/devPki';
import { signMessage } from '../../src/pki/messageSignature';
import { pollAttempt, submitRefund } from '../../src/refunds/executor';
import type { Runtime } from '../../src/runtime';
import { timingWith } from '../../src/timing';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';

export const customerBankCode = '103100000026';
const trustBankCode = '102100099996';
export const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
const timing = { sendingStaleMs: 1_000, noRecordGraceMs: 500, retryAfterNoRecordMs: 0, pollDelayMs: 200, pollDelayMaxMs: 500, retryDelayMs: 100, bankTimeoutMs: 5_000 };

export interface SettledRefund {
  refundId: string;
  depositId: string;
  sectionId: string;
  bidderId: string;
  name: string;
  /** The bidder's account at the sandbox, which paid the deposit and got the refund. */
  number: string;
  attempt: { id: string; end_to_end_id: string; amount_fen: bigint; interest_fen: bigint; reserve_journal_id: string };
}

export class SandboxRefundWorld {
  rt!: Runtime;
  app!: Express;
  centre!: string;
  bankId!: string;
  trustNumber!: string;
  private isolated!: IsolatedDatabase;
  private server!: Server;
  private sandbox!: SandboxBank;
  private signer!: { keyPem: string; fingerprint: string };

  /** `adapter`: the protocol the service speaks to this bank (the sandbox serves both). */
  static async start(name: string, opts: { adapter?: 'sandbox' | 'cn-h2h' } = {}): Promise<SandboxRefundWorld> {
    const w = new SandboxRefundWorld();
    w.isolated = await createIsolatedDatabase(name);
    w.rt = await startTestRuntime({ DATABASE_URL: w.isolated.url, BIDBOND_QUEUE_PREFIX: w.isolated.queuePrefix }, { timing: timingWith({ refunds: timing }) });
    w.app = testApp(w.rt);
    w.server = w.app.listen(0, '127.0.0.1');
    await new Promise((r) => w.server.once('listening', r));
    w.centre = await keyFor(w.rt, 'centre');
    const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
    const certPem = readFileSync(pki.sandboxCert, 'utf8');
    w.signer = { keyPem: readFileSync(pki.sandboxKey, 'utf8'), fingerprint: parseCertificatePem(certPem).info.fingerprint };
    const port = await freePort();
    w.trustNumber = `110${digits(12)}`;
    const vaPrefix = digits(9);
    const bank = await request(w.app).post('/v1/banks').set(bearer(w.centre)).send({
      name: '沙箱银行', bankCode: trustBankCode, adapter: opts.adapter ?? 'sandbox', endpoint: `http://127.0.0.1:${port}`,
      certificatePem: certPem, trustAccount: { number: w.trustNumber, name: '保证金专户' }, virtualAccountPrefix: vaPrefix,
    });
    expect(bank.status).toBe(201);
    w.bankId = bank.body.id;
    w.sandbox = await startSandboxBank({
      port, databaseUrl: w.isolated.url, schema: `sandbox_${name}_${randomBytes(4).toString('hex')}`, dataDir: path.join(testDataDir(), `sandbox-${name}`),
      signingKeyPath: pki.sandboxKey, signingCertPath: pki.sandboxCert,
      trustAccount: { number: w.trustNumber, name: '保证金专户', bankCode: trustBankCode }, virtualPrefix: vaPrefix,
      notifyUrl: `http://127.0.0.1:${(w.server.address() as AddressInfo).port}/v1/banks/${w.bankId}/notifications`,
      settleDelayMs: 200, notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
      ...(opts.adapter === 'cn-h2h' ? { protocol: 'cn-h2h' as const } : {}),
    });
    return w;
  }

  async close(): Promise<void> {
    await this.sandbox?.close();
    await new Promise((r) => this.server?.close(r));
    await this.rt?.close();
    await this.isolated?.drop();
  }

  /** The sandbox bank's customer API. */
  async bankApi(method: string, p: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.sandbox.url}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** A notice as the bank would push it, signed with the bank's key, under a new message id. */
  notifyAsBank(credits: CreditEntry[]) {
    const raw = Buffer.from(buildCamt054({ messageId: `T${digits(20)}`, createdAt: new Date(), account: this.trustNumber, credits }), 'utf8');
    return request(this.app).post(`/v1/banks/${this.bankId}/notifications`).set(signMessage(raw, this.signer)).set('Content-Type', 'application/xml').send(raw);
  }

  async balance(account: string): Promise<bigint> {
    return BigInt((await this.rt.db('postings').where({ account }).sum({ s: 'amount_fen' }))[0].s ?? 0);
  }

  /** The ledger's trust account equals the bank's, and the whole ledger balances. */
  async expectTrustFollowsBank(): Promise<void> {
    const trust = await this.bankApi('GET', `/sandbox/accounts/${this.trustNumber}`);
    expect(formatAmount(await this.balance(`bank:${this.bankId}:trust`))).toBe(formatAmount(parseAmount(trust.balance, { allowZero: true })));
    const [{ total }] = await this.rt.db('postings').sum({ total: 'amount_fen' });
    expect(BigInt(total ?? 0)).toBe(0n);
  }

  async pollUntilFinal(attemptId: string, what: string) {
    return waitFor(what, async () => {
      const outcome = await pollAttempt(this.rt, attemptId);
      return outcome !== 'pending' && outcome !== 'unreachable' && outcome;
    }, 30_000, 200);
  }

  /** The sandbox bank's fault plan (POST /sandbox/faults states the whole plan; unset is zero). */
  async faults(plan: Record<string, number>): Promise<void> {
    await this.bankApi('POST', '/sandbox/faults', { seed: 20261204, ...plan });
  }

  /** Refunds owed at this bank: one terminated section per deposit (R16), each refund scheduled
   *  and not yet sent. */
  async refundsOwed(n: number) {
    const owed: (Awaited<ReturnType<SandboxRefundWorld['depositPaid']>> & { refundId: string; endToEndId: string })[] = [];
    for (let i = 0; i < n; i++) {
      const d = await this.depositPaid();
      expect((await request(this.app).post(`/v1/sections/${d.sectionId}/termination`).set(bearer(this.centre)).send({ reason: '项目取消' })).status).toBeLessThan(300);
      const refund = await waitFor('the refund', async () => this.rt.db('refunds').where({ section_id: d.sectionId }).first());
      owed.push({ ...d, refundId: refund.id, endToEndId: refund.end_to_end_id });
    }
    return owed;
  }

  /** Credits booked to a bidder's account at the sandbox: a refund paid once is one credit. */
  async creditsTo(number: string): Promise<number> {
    const account = await this.bankApi('GET', `/sandbox/accounts/${number}`);
    return account.entries.filter((e: { direction: string }) => e.direction === 'credit').length;
  }

  /** A bidder's deposit of ¥20,000 on a new section, paid in from its account at the sandbox. */
  async depositPaid(opts: { valueDaysAgo?: number } = {}) {
    const tenderee = (await request(this.app).post('/v1/tenderees').set(bearer(this.centre)).send({ name: '某市水务局', uscc: uniqueUscc() })).body.id;
    const sectionId = (await request(this.app).post('/v1/sections').set(bearer(this.centre)).send({
      projectCode: `P-${digits(6)}`, sectionCode: 'S-1', name: '供水管网改造', tendereeId: tenderee, regime: 'tendering_law',
      estimatedPrice: '1000000.00', depositAmount: '20000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: this.bankId, acceptedSecurity: ['cash'],
    })).body.id;
    const name = `水利建设${digits(4)}有限公司`;
    const number = `62${digits(16)}`;
    await this.bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: '50000.00' });
    const bidderId = (await request(this.app).post('/v1/bidders').set(bearer(this.centre)).send({ name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } })).body.id;
    const va = (await request(this.app).post(`/v1/sections/${sectionId}/deposit-accounts`).set(bearer(this.centre)).send({ bidderId })).body.virtualAccount;
    await this.bankApi('POST', '/sandbox/transfers', { fromAccount: number, toAccount: va, amount: '20000.00', remittance: '投标保证金' });
    const deposit = await waitFor('the deposit', async () => this.rt.db('deposits').where({ section_id: sectionId, status: 'valid' }).first());
    // The money has been with us this long: the refund owes interest for it (R13).
    if (opts.valueDaysAgo) await this.rt.db('credits').where({ id: deposit.credit_id }).update({ value_date: addCalendarDays(businessDate(new Date()), -opts.valueDaysAgo) });
    return { sectionId, bidderId, name, number, depositId: deposit.id as string };
  }

  /** A deposit refunded on the section's termination (R16), sent and settled. */
  async settledRefund(opts: { valueDaysAgo?: number } = {}): Promise<SettledRefund> {
    const d = await this.depositPaid(opts);
    expect((await request(this.app).post(`/v1/sections/${d.sectionId}/termination`).set(bearer(this.centre)).send({ reason: '项目取消' })).status).toBeLessThan(300);
    const refund = await waitFor('the refund', async () => this.rt.db('refunds').where({ section_id: d.sectionId }).first());
    expect(await submitRefund(this.rt, refund.id)).toBe('sent');
    const attempt = await this.rt.db('refund_attempts').where({ refund_id: refund.id }).first();
    expect(await this.pollUntilFinal(attempt.id, 'the refund settled')).toBe('settled');
    return { refundId: refund.id, ...d, attempt };
  }
}
