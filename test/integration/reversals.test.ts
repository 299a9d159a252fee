// The bank takes a credit back (冲正), end to end: a bidder pays through the sandbox bank, the
// bank reverses the payment (POST /sandbox/reversals), and the service hears of it as the bank's
// own notice (camt.054 DBIT with RvslInd, or the cn-h2h reversal notice). What the centre and
// the bidder see goes through the API; the ledger is compared with the bank's trust balance.
// Runs on a database and queue prefix of its own: its worker acts on every job it finds.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { buildApi } from '../../src/app/api';
import { domainModules } from '../../src/app/modules';
import { buildWorker } from '../../src/app/worker';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import type { CreditEntry } from '../../src/banks/types';
import { freePort } from '../../src/db/embedded';
import { bankExceptionRoutes } from '../../src/deposits/exceptionRoutes';
import { parseAmount } from '../../src/domain/money';
import { businessDate } from '../../src/domain/time';
import type { DomainModule } from '../../src/module';
import { issueCertificate, parseCertificatePem } from '../../src/pki/certs';
import { ensureDevPki } from '../../src/pki/devPki';
import { signMessage } from '../../src/pki/messageSignature';
import type { RunningWorkers } from '../../src/queue/worker';
import type { Runtime } from '../../src/runtime';
import { startSandboxBank, type SandboxBank } from '../../src/sandbox-bank';
import { timingWith } from '../../src/timing';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testDataDir, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';

const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
const trustBankCode = '102100099996';
const customerBankCode = '103100000026';
const required = '50000.00';

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let server: Server;
let workers: RunningWorkers | undefined;
let centre: string;
let auditor: string;
let pki: ReturnType<typeof ensureDevPki>;
const sandboxes: SandboxBank[] = [];

interface TestBank {
  id: string;
  sandbox: SandboxBank;
  trustNumber: string;
  trustName: string;
  vaPrefix: string;
  signer: { keyPath: string; certPath: string };
}
let iso: TestBank;

// The bank exception routes are mounted with the deposits module; until they are, this file
// mounts them itself, so that it tests them through the API either way.
function modulesWithBankExceptions(): readonly DomainModule[] {
  const mounted = domainModules.some((m) => m.routes.some((r) => r.path === '/v1/bank-exceptions'));
  return mounted ? domainModules : [...domainModules, { name: 'bank-exceptions', routes: bankExceptionRoutes, jobs: {}, sweepers: [] }];
}

beforeAll(async () => {
  isolated = await createIsolatedDatabase('reversals');
  rt = await startTestRuntime(
    { ...isolated.env },
    { timing: timingWith({ refunds: { pollDelayMs: 150, pollDelayMaxMs: 1_000, retryDelayMs: 100 } }) },
  );
  app = buildApi(rt, modulesWithBankExceptions());
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  centre = await keyFor(rt, 'centre');
  auditor = await keyFor(rt, 'auditor');
  pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  iso = await openBank('iso20022');
}, 60_000);

afterAll(async () => {
  await workers?.close();
  for (const s of sandboxes) await s.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
  await isolated?.drop();
});

/** A signing key of its own for each sandbox bank: a certificate is registered to one bank. */
function bankSigner(protocol: string): { keyPath: string; certPath: string } {
  const dir = path.join(testDataDir(), `sandbox-reversals-${protocol}-signer`);
  mkdirSync(dir, { recursive: true });
  const issued = issueCertificate({ commonName: `sandbox bank ${protocol} ${digits(6)}`, ca: { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') } });
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  writeFileSync(keyPath, issued.keyPem);
  writeFileSync(certPath, issued.certPem);
  return { keyPath, certPath };
}

/** A deposit bank record and the sandbox bank behind it, notifying in `protocol`. */
async function openBank(protocol: 'iso20022' | 'cn-h2h'): Promise<TestBank> {
  const signer = bankSigner(protocol);
  const port = await freePort();
  const trustNumber = `110${digits(12)}`;
  const trustName = '公共资源交易中心保证金专户';
  const vaPrefix = digits(9);
  const bank = await request(app).post('/v1/banks').set(bearer(centre)).send({
    name: '沙箱银行', bankCode: trustBankCode, adapter: protocol === 'cn-h2h' ? 'cn-h2h' : 'sandbox', endpoint: `http://127.0.0.1:${port}`,
    certificatePem: readFileSync(signer.certPath, 'utf8'), trustAccount: { number: trustNumber, name: trustName }, virtualAccountPrefix: vaPrefix,
  });
  expect(bank.status).toBe(201);
  const sandbox = await startSandboxBank({
    port, databaseUrl: isolated.url, schema: `sandbox_rv_${randomBytes(4).toString('hex')}`, dataDir: path.join(testDataDir(), `sandbox-reversals-${protocol}`),
    signingKeyPath: signer.keyPath, signingCertPath: signer.certPath, protocol,
    trustAccount: { number: trustNumber, name: trustName, bankCode: trustBankCode }, virtualPrefix: vaPrefix,
    notifyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/banks/${bank.body.id}/notifications`,
    settleDelayMs: 50, notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });
  sandboxes.push(sandbox);
  return { id: bank.body.id, sandbox, trustNumber, trustName, vaPrefix, signer };
}

async function bankApi(bank: TestBank, method: string, p: string, body?: unknown) {
  const res = await fetch(`${bank.sandbox.url}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

const api = {
  get: (p: string, key = centre) => request(app).get(p).set(bearer(key)),
  post: (p: string, body: unknown = {}, key = centre) => request(app).post(p).set(bearer(key)).send(body as object),
};

async function startWorker(): Promise<void> {
  workers ??= await buildWorker(rt, process.env.REDIS_URL!);
}

async function section(bank: TestBank, deadlineInMs = 86_400_000) {
  const tenderee = (await api.post('/v1/tenderees', { name: '某市水务局', uscc: uniqueUscc() })).body.id;
  const bidDeadline = new Date(Date.now() + deadlineInMs);
  const res = await api.post('/v1/sections', {
    projectCode: `P-${digits(8)}`, sectionCode: 'S-1', name: '供水管网改造', tendereeId: tenderee, regime: 'tendering_law',
    estimatedPrice: '5000000.00', depositAmount: required, currency: 'CNY', bidDeadline: bidDeadline.toISOString(),
    bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash'],
  });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, bidDeadline };
}

/** A bidder with its basic account at the sandbox bank, and its sub-account for the section. */
async function bidder(bank: TestBank, sectionId: string, balance = '200000.00') {
  const name = `水利建设${digits(4)}有限公司`;
  const number = `62${digits(16)}`;
  await bankApi(bank, 'POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance });
  const res = await api.post('/v1/bidders', { name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } });
  expect(res.status).toBe(201);
  const va = (await api.post(`/v1/sections/${sectionId}/deposit-accounts`, { bidderId: res.body.id })).body.virtualAccount as string;
  return { id: res.body.id as string, name, number, va };
}

/** Pays through the bank and waits for the deposit the service made of it. */
async function pay(bank: TestBank, from: string, va: string, amount: string) {
  const transfer = await bankApi(bank, 'POST', '/sandbox/transfers', { fromAccount: from, toAccount: va, amount, remittance: '投标保证金' });
  const credit = await waitFor('the credit', async () => rt.db('credits').where({ bank_id: bank.id, entry_ref: transfer.creditRef }).first());
  const deposit = await waitFor('its deposit', async () => rt.db('deposits').where({ credit_id: credit.id }).first());
  return { transfer, depositId: deposit.id as string };
}

/** The bank takes the payment back: the reversal's entry on the trust account is its debit. */
async function reverse(bank: TestBank, transferRef: string) {
  const reversal = await bankApi(bank, 'POST', '/sandbox/reversals', { ref: transferRef });
  expect(reversal.notified).toBe(true);
  return reversal as { ref: string; debitRef: string; creditRef: string; amount: string; notificationMessageId: string };
}

async function delivered(bank: TestBank, messageId: string) {
  await waitFor(`notice ${messageId} delivered`, async () => {
    const list = await bankApi(bank, 'GET', '/sandbox/notifications?status=delivered');
    return list.data.some((n: { messageId: string }) => n.messageId === messageId);
  });
}

async function trustBalances(bank: TestBank) {
  const [{ s }] = await rt.db('postings').where({ account: `bank:${bank.id}:trust` }).sum({ s: 'amount_fen' });
  const account = await bankApi(bank, 'GET', `/sandbox/accounts/${bank.trustNumber}`);
  return { ledgerFen: BigInt(s ?? 0), bankFen: parseAmount(account.balance, { allowZero: true }) };
}

const deposit = async (id: string) => (await api.get(`/v1/deposits/${id}`)).body;
const auditOf = async (entityId: string, action: string) => (await api.get(`/v1/audit?entityId=${entityId}&action=${action}`)).body.data as unknown[];
const exceptionsOf = async (bankId: string, kind: string) => (await api.get(`/v1/bank-exceptions?bankId=${bankId}&kind=${kind}&limit=100`)).body.data as any[];

describe('a reversal before the opening', () => {
  it('reverses the deposit, follows the bank in the ledger, stops the refund owed on it, and lets the bidder pay again and be secured', async () => {
    const s = await section(iso);
    const b = await bidder(iso, s.id);
    // 10,000.00 above the requirement: an excess refund is owed at once (no worker runs yet, so
    // it is still scheduled when the bank takes the money back).
    const paid = await pay(iso, b.number, b.va, '60000.00');
    expect(await deposit(paid.depositId)).toMatchObject({ status: 'valid', secured: required, excess: '10000.00' });
    const excess = (await api.get(`/v1/refunds?sectionId=${s.id}`)).body.data.find((r: any) => r.depositId === paid.depositId);
    expect(excess).toMatchObject({ reason: 'excess', status: 'scheduled' });

    const reversal = await reverse(iso, paid.transfer.ref);
    await delivered(iso, reversal.notificationMessageId);

    const d = await deposit(paid.depositId);
    expect(d).toMatchObject({ status: 'reversed', secured: '0.00' });
    const journal = d.ledger.find((j: any) => j.postings.some((p: any) => p.account === `bank:${iso.id}:trust` && p.side === 'credit'));
    expect(journal.postings).toEqual(
      expect.arrayContaining([
        { account: `deposit:${paid.depositId}`, amount: '60000.00', side: 'debit' },
        { account: `bank:${iso.id}:trust`, amount: '-60000.00', side: 'credit' },
      ]),
    );
    // The refunds table has no `cancelled`: the refund waits in manual handling, saying why it
    // must never be paid.
    const cancelled = (await api.get(`/v1/refunds/${excess.id}`)).body;
    expect(cancelled).toMatchObject({ status: 'manual', manualCode: null });
    expect(cancelled.manualReason).toMatch(/^cancelled: the bank reversed the credit/);
    expect(await auditOf(paid.depositId, 'deposit.reversed')).toHaveLength(1);
    expect(await auditOf(excess.id, 'refund.cancelled')).toHaveLength(1);
    const afterReversal = await trustBalances(iso);
    expect(afterReversal.ledgerFen).toBe(afterReversal.bankFen);

    // Not secured any more; the deadline has not passed, so it pays again.
    const again = await pay(iso, b.number, b.va, required);
    expect(await deposit(again.depositId)).toMatchObject({ status: 'valid', secured: required });
    const afterAgain = await trustBalances(iso);
    expect(afterAgain.ledgerFen).toBe(afterAgain.bankFen);
    expect(afterAgain.bankFen - afterReversal.bankFen).toBe(parseAmount(required));

    // The reversal voucher, signed, names the receipt of the credit taken back.
    await startWorker();
    const receipt = await rt.db('vouchers').where({ kind: 'deposit_receipt', subject_id: paid.depositId }).first();
    const row = await waitFor('the reversal voucher signed', async () => rt.db('vouchers').where({ kind: 'deposit_reversal', subject_id: paid.depositId, status: 'signed' }).first());
    expect(row.data).toMatchObject({ depositId: paid.depositId, originalEntryRef: paid.transfer.creditRef, reversalEntryRef: reversal.debitRef, statusBefore: 'valid', afterOpening: false, cancelledRefundIds: [excess.id] });
    expect(row.data.receiptVoucherId).toBe(receipt.id);
    const pdf = await api.get(`/v1/vouchers/${row.id}/pdf`).buffer(true).parse((res, cb) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect(pdf.status).toBe(200);
    const check = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'application/pdf').send(pdf.body as Buffer);
    expect(check.body).toMatchObject({ valid: true, voucherId: row.id, matchesRecord: true });
    // The bidder sees it too.
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: b.id });
    expect((await api.get(`/v1/vouchers/${row.id}`, bidderKey)).body).toMatchObject({ kind: 'deposit_reversal', status: 'signed' });

    // The cancelled refund is never sent, whatever its job does now that a worker runs.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await api.get(`/v1/refunds/${excess.id}`)).body.attempts).toEqual([]);
    const payer = await bankApi(iso, 'GET', `/sandbox/accounts/${b.number}`);
    expect(payer.balance).toBe('150000.00');
  }, 90_000);

  it('R4 a partial payment left short by the reversal of the other waits for a top-up again', async () => {
    const s = await section(iso);
    const b = await bidder(iso, s.id);
    const first = await pay(iso, b.number, b.va, '30000.00');
    const second = await pay(iso, b.number, b.va, '20000.00');
    expect([(await deposit(first.depositId)).status, (await deposit(second.depositId)).status]).toEqual(['valid', 'valid']);
    const reversal = await reverse(iso, first.transfer.ref);
    await delivered(iso, reversal.notificationMessageId);
    expect((await deposit(first.depositId)).status).toBe('reversed');
    const left = await deposit(second.depositId);
    expect(left).toMatchObject({ status: 'received', secured: '0.00' });
    expect(left.checks.find((c: any) => c.rule === 'R4')).toMatchObject({ ok: false });
    const topUp = await pay(iso, b.number, b.va, '30000.00');
    expect((await deposit(topUp.depositId)).status).toBe('valid');
    expect((await deposit(second.depositId)).status).toBe('valid');
  }, 60_000);
});

describe('a reversal after the opening', () => {
  it('reverses the deposit and opens an exception naming the roster entry, which the centre resolves once', async () => {
    const s = await section(iso, 6_000);
    const b = await bidder(iso, s.id);
    const paid = await pay(iso, b.number, b.va, required);
    while (Date.now() <= s.bidDeadline.getTime()) await new Promise((r) => setTimeout(r, 100));
    const opening = await api.post(`/v1/sections/${s.id}/opening`);
    expect(opening.status).toBe(201);

    const reversal = await reverse(iso, paid.transfer.ref);
    await delivered(iso, reversal.notificationMessageId);
    expect((await deposit(paid.depositId)).status).toBe('reversed');
    const balances = await trustBalances(iso);
    expect(balances.ledgerFen).toBe(balances.bankFen);

    const [x] = (await exceptionsOf(iso.id, 'reversal_after_opening')).filter((e) => e.depositId === paid.depositId);
    expect(x).toMatchObject({ status: 'open', sectionId: s.id, bidderId: b.id, entryRef: reversal.debitRef, amount: required, resolution: null });
    expect(x.data.rosterEntry).toMatchObject({ bidderId: b.id, name: b.name, status: 'secured', depositIds: [paid.depositId] });
    expect(x.detail).toContain(b.name);
    // The auditor sees it; only the centre resolves it, once.
    expect((await api.get(`/v1/bank-exceptions/${x.id}`, auditor)).body.id).toBe(x.id);
    expect((await api.post(`/v1/bank-exceptions/${x.id}/resolution`, { note: '投标人已说明' }, auditor)).status).toBeGreaterThanOrEqual(400);
    const resolved = await api.post(`/v1/bank-exceptions/${x.id}/resolution`, { note: '已通知评标委员会，该投标人的投标保证金不再有效' });
    expect([resolved.status, resolved.body.status, resolved.body.resolution?.note]).toEqual([200, 'resolved', '已通知评标委员会，该投标人的投标保证金不再有效']);
    const twice = await api.post(`/v1/bank-exceptions/${x.id}/resolution`, { note: 'again' });
    expect([twice.status, twice.body.error?.code]).toEqual([409, 'exception_resolved']);
    expect(await auditOf(x.id, 'bank_exception.resolved')).toHaveLength(1);
    expect((await exceptionsOf(iso.id, 'reversal_after_opening')).find((e) => e.id === x.id).status).toBe('resolved');
    const stillOpen = (await api.get(`/v1/bank-exceptions?bankId=${iso.id}&status=open&limit=100`)).body.data.map((e: { id: string }) => e.id);
    expect(stillOpen).not.toContain(x.id);
    const openapi = (await request(app).get('/v1/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/bank-exceptions', '/v1/bank-exceptions/{id}', '/v1/bank-exceptions/{id}/resolution']));
  }, 60_000);
});

describe('a reversal notified twice', () => {
  it('is recorded once, whether the bank repeats the message or sends the entry again in another', async () => {
    const s = await section(iso);
    const b = await bidder(iso, s.id);
    const paid = await pay(iso, b.number, b.va, required);
    await bankApi(iso, 'POST', '/sandbox/faults', { seed: 7, duplicateNoticeRate: 1 });
    let reversal;
    try {
      reversal = await reverse(iso, paid.transfer.ref);
      await delivered(iso, reversal.notificationMessageId);
      await waitFor('both copies delivered', async () => {
        const list = await bankApi(iso, 'GET', '/sandbox/notifications?status=delivered');
        return list.data.filter((n: { messageId: string }) => n.messageId === reversal!.notificationMessageId).length === 2;
      });
    } finally {
      await bankApi(iso, 'POST', '/sandbox/faults', {});
    }

    // The same entry in a message of its own, as a bank's resend would carry it.
    const entry: CreditEntry = {
      entryRef: reversal.debitRef, virtualAccount: b.va, amountFen: parseAmount(required), currency: 'CNY',
      bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()),
      debtor: { name: b.name, accountNumber: b.number, bankCode: customerBankCode }, reversal: true, originalEntryRef: paid.transfer.creditRef,
    };
    const body = Buffer.from(buildCamt054({ messageId: `RESEND${digits(12)}`, createdAt: new Date(), account: iso.trustNumber, accountName: iso.trustName, credits: [], reversals: [entry] }), 'utf8');
    const signer = { keyPem: readFileSync(iso.signer.keyPath, 'utf8'), fingerprint: parseCertificatePem(readFileSync(iso.signer.certPath, 'utf8')).info.fingerprint };
    const resent = await request(app).post(`/v1/banks/${iso.id}/notifications`).set(signMessage(body, signer)).set('Content-Type', 'application/xml').send(body);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ accepted: 0, duplicates: 1, ignored: 0, reversals: 0, exceptions: 0 });

    expect((await deposit(paid.depositId)).status).toBe('reversed');
    expect(await auditOf(paid.depositId, 'deposit.reversed')).toHaveLength(1);
    expect(await rt.db('journals').where({ ref: `${iso.id}:${reversal.debitRef}` })).toHaveLength(1);
    const balances = await trustBalances(iso);
    expect(balances.ledgerFen).toBe(balances.bankFen);
  }, 60_000);
});

describe('a reversal of a credit the service does not hold', () => {
  it('is a reversal_unmatched exception and changes nothing else', async () => {
    const s = await section(iso);
    const b = await bidder(iso, s.id);
    const before = await trustBalances(iso);
    // The credit's notice is held back by the bank; its reversal's is not.
    await bankApi(iso, 'POST', '/sandbox/faults', { seed: 1, noticeDelayMs: 600_000 });
    let transfer;
    try {
      transfer = await bankApi(iso, 'POST', '/sandbox/transfers', { fromAccount: b.number, toAccount: b.va, amount: required, remittance: '投标保证金' });
    } finally {
      await bankApi(iso, 'POST', '/sandbox/faults', {});
    }
    const reversal = await reverse(iso, transfer.ref);
    await delivered(iso, reversal.notificationMessageId);

    const [x] = (await exceptionsOf(iso.id, 'reversal_unmatched')).filter((e) => e.entryRef === reversal.debitRef);
    expect(x).toMatchObject({ status: 'open', amount: required, depositId: null, messageId: reversal.notificationMessageId });
    expect(x.data).toMatchObject({ originalEntryRef: transfer.creditRef, virtualAccount: b.va });
    expect((await api.get(`/v1/deposits?sectionId=${s.id}`)).body.data).toEqual([]);
    expect(await rt.db('journals').where({ ref: `${iso.id}:${reversal.debitRef}` })).toHaveLength(0);
    // The bank booked the credit and took it back: both sides are where they were.
    const after = await trustBalances(iso);
    expect([after.ledgerFen, after.bankFen]).toEqual([before.ledgerFen, before.bankFen]);
  }, 60_000);
});

describe('a reversal of a credit already refunded', () => {
  it('is an exception naming the deposit and the refund, and changes nothing else', async () => {
    await startWorker();
    const s = await section(iso);
    // Someone else's deposit keeps money in the trust account for the bank to take.
    const other = await bidder(iso, s.id);
    await pay(iso, other.number, other.va, required);
    const b = await bidder(iso, s.id);
    const stranger = `62${digits(16)}`;
    await bankApi(iso, 'POST', '/sandbox/accounts', { number: stranger, name: '代付公司', bankCode: customerBankCode, balance: '100000.00' });
    // R5: not from the bidder's basic account, so it goes back to where it came from at once.
    const paid = await pay(iso, stranger, b.va, required);
    expect((await deposit(paid.depositId)).rules).toContain('R5');
    const refund = await waitFor('the refund paid', async () => rt.db('refunds').where({ deposit_id: paid.depositId, status: 'settled' }).first(), 60_000);
    // An invalid credit stays `invalid` once its refund is paid; the refund says it was.
    expect((await deposit(paid.depositId)).status).toBe('invalid');
    const before = await trustBalances(iso);
    expect(before.ledgerFen).toBe(before.bankFen);

    const reversal = await reverse(iso, paid.transfer.ref);
    await delivered(iso, reversal.notificationMessageId);

    const [x] = (await exceptionsOf(iso.id, 'reversal_unmatched')).filter((e) => e.entryRef === reversal.debitRef);
    expect(x).toMatchObject({ status: 'open', depositId: paid.depositId, refundId: refund.id, sectionId: s.id, bidderId: b.id, amount: required });
    expect(x.detail).toContain('nothing was changed');
    const d = await deposit(paid.depositId);
    expect(d.status).toBe('invalid');
    expect(await auditOf(paid.depositId, 'deposit.reversed')).toHaveLength(0);
    expect(await rt.db('journals').where({ ref: `${iso.id}:${reversal.debitRef}` })).toHaveLength(0);
    expect((await api.get(`/v1/refunds/${refund.id}`)).body.status).toBe('settled');
    // The bank took money the service no longer held: the difference is the exception's.
    const after = await trustBalances(iso);
    expect(after.ledgerFen).toBe(before.ledgerFen);
    expect(before.bankFen - after.bankFen).toBe(parseAmount(required));
  }, 90_000);
});

describe('cn-h2h', () => {
  it('a reversal notice (revFlag 1) reverses the deposit the same way', async () => {
    const h2h = await openBank('cn-h2h');
    const s = await section(h2h);
    const b = await bidder(h2h, s.id);
    const paid = await pay(h2h, b.number, b.va, required);
    expect((await deposit(paid.depositId)).status).toBe('valid');
    const reversal = await reverse(h2h, paid.transfer.ref);
    await delivered(h2h, reversal.notificationMessageId);
    expect((await deposit(paid.depositId)).status).toBe('reversed');
    expect(await auditOf(paid.depositId, 'deposit.reversed')).toHaveLength(1);
    const balances = await trustBalances(h2h);
    expect(balances.ledgerFen).toBe(balances.bankFen);
    expect(balances.bankFen).toBe(0n);
  }, 60_000);
});

describe('the day\'s statement', () => {
  it('matches the reversal line to its journal by the bank\'s reference, like the credit it undoes', async () => {
    const fresh = await openBank('iso20022');
    const s = await section(fresh);
    const b = await bidder(fresh, s.id);
    const paid = await pay(fresh, b.number, b.va, required);
    const reversal = await reverse(fresh, paid.transfer.ref);
    await delivered(fresh, reversal.notificationMessageId);
    expect((await deposit(paid.depositId)).status).toBe('reversed');
    const date = businessDate(new Date());
    const statement = await fetch(`${fresh.sandbox.url}/iso20022/statements?account=${fresh.trustNumber}&date=${date}`);
    expect(statement.status).toBe(200);
    const xml = Buffer.from(await statement.arrayBuffer());
    const rcn = await request(app).post(`/v1/reconciliations?bankId=${fresh.id}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);
    expect(rcn.status).toBe(201);
    expect(rcn.body).toMatchObject({ exceptionCount: 0, matched: { count: 2, credits: required, debits: required }, balances: { difference: '0.00' } });
  }, 60_000);
});
