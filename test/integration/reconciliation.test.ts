// Reconciliation against the sandbox bank over HTTP: each exception made to happen the way it
// happens in life (notifications lost, money moved behind the service's back, a refund faked as
// settled, statements tampered, lines repeated), lost credits recovered through the deposit
// rules, re-running a day, and corrections that are new journals, never edits.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { createBankAdapter, protocolOfAdapter } from '../../src/banks/adapters';
import { businessDate } from '../../src/domain/time';
import { postJournal, suspenseAccountSpec, trustAccountSpec } from '../../src/ledger';
import type { Runtime } from '../../src/runtime';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { bidderWithSubAccount, digits, NotificationRelay, startBankWorld, waitFor, type BankWorld } from './reconciliation.support';

let rt: Runtime;
let app: Express;
let server: Server;
let relay: NotificationRelay;
let centre: string;
const worlds: BankWorld[] = [];
const today = () => businessDate(new Date());

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  relay = new NotificationRelay(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await relay.start();
  centre = await keyFor(rt, 'centre');
});

afterEach(() => {
  relay.drop = false;
});

afterAll(async () => {
  for (const w of worlds) await w.sandbox.close();
  await relay?.close();
  await new Promise((r) => server?.close(r));
  await rt?.close();
});

async function world(): Promise<BankWorld> {
  const w = await startBankWorld(app, centre, relay);
  worlds.push(w);
  return w;
}

const pull = (w: BankWorld) => request(app).post('/v1/reconciliations').set(bearer(centre)).send({ bankId: w.bankId, date: today() });
const report = async (id: string) => (await request(app).get(`/v1/reconciliations/${id}?linesLimit=1000`).set(bearer(centre)).expect(200)).body;
const kinds = (r: any) => r.exceptions.data.map((e: any) => e.kind).sort();

async function payNotified(w: BankWorld, from: string, to: string, amount: string) {
  const before = await rt.db('credits').where({ bank_id: w.bankId }).count({ n: '*' }).first();
  await w.bankApi('POST', '/sandbox/transfers', { fromAccount: from, toAccount: to, amount, remittance: '投标保证金' });
  await waitFor('the credit notification', async () => Number((await rt.db('credits').where({ bank_id: w.bankId }).count({ n: '*' }).first())!.n) > Number(before!.n));
}

async function statementXml(w: BankWorld): Promise<string> {
  const bank = await rt.db('banks').where({ id: w.bankId }).first();
  const stream = await createBankAdapter({ protocol: protocolOfAdapter(bank.adapter), endpoint: bank.endpoint, sign: (b) => rt.signer.sign(b) }).fetchStatement({ account: w.trustNumber, date: today() });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const upload = (w: BankWorld, xml: string) =>
  request(app).post(`/v1/reconciliations?bankId=${w.bankId}`).set(bearer(centre)).set('Content-Type', 'application/xml').send(xml);

describe('reconciliation against the sandbox bank', () => {
  it('a notified deposit matches by the bank reference; the day balances to the fen with a voucher, a CSV and a list entry', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    const res = await pull(w);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'balanced', entries: 1, matched: { count: 1, credits: '50000.00', debits: '0.00', recovered: 0 }, exceptionCount: 0 });
    expect(res.body.balances).toMatchObject({ closingBank: '50000.00', closingLedger: '50000.00', difference: '0.00' });
    expect(res.body.voucherId).toMatch(/^vch_/);
    const r = await report(res.body.id);
    expect(r.lines.data).toHaveLength(1);
    expect(r.lines.data[0]).toMatchObject({ result: 'matched', matchedBy: 'bank_reference', bank: { direction: 'credit', amount: '50000.00' }, ledger: { kind: 'credit', trustMovement: '50000.00' } });
    const voucher = await rt.db('vouchers').where({ id: res.body.voucherId }).first();
    expect(voucher).toMatchObject({ kind: 'reconciliation_report', subject_id: res.body.id });
    expect(voucher.data).toMatchObject({ reconciliationId: res.body.id, statementDate: today(), balances: { closingBankFen: '5000000', closingLedgerFen: '5000000' }, exceptions: [] });
    for (const p of [`/v1/reconciliations/${res.body.id}.csv`, `/v1/reconciliations/${res.body.id}/csv`]) {
      const csv = await request(app).get(p).set(bearer(centre)).expect(200);
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.text.split('\r\n').filter(Boolean)).toHaveLength(2);
      expect(csv.text).toContain(r.lines.data[0].entryRef);
    }
    const list = await request(app).get(`/v1/reconciliations?bankId=${w.bankId}`).set(bearer(centre)).expect(200);
    expect(list.body.data.map((x: any) => x.id)).toEqual([res.body.id]);
    const audit = await rt.db('audit_events').where({ entity_id: res.body.id, action: 'reconciliation.created' });
    expect(audit).toHaveLength(1);
  });

  it('re-running a day: the same statement gives the same reconciliation; a new statement for the day supersedes it', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    const first = await pull(w);
    expect(first.status).toBe(201);
    const again = await pull(w);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await rt.db('reconciliations').where({ bank_id: w.bankId })).toHaveLength(1);
    // The bank books more that day: a new statement, a new reconciliation that supersedes.
    await payNotified(w, b.account, b.virtualAccount, '100.00');
    const later = await pull(w);
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
    expect(later.body).toMatchObject({ status: 'balanced', entries: 2 });
    expect((await report(first.body.id)).status).toBe('superseded');
    expect((await report(first.body.id)).supersededBy).toBe(later.body.id);
    // The first line is matched again by the new reconciliation, once.
    expect(await rt.db('reconciliation_lines').where({ reconciliation_id: later.body.id, result: 'matched' })).toHaveLength(2);
  });

  it('a lost notification is recovered from the statement through the deposit rules (valid before the deadline)', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    relay.drop = true;
    await w.bankApi('POST', '/sandbox/transfers', { fromAccount: b.account, toAccount: b.virtualAccount, amount: '50000.00', remittance: '投标保证金' });
    await waitFor('the notification dropped', async () => relay.dropped > 0);
    expect(await rt.db('credits').where({ bank_id: w.bankId })).toHaveLength(0);
    const res = await pull(w);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ matched: { count: 1, recovered: 1 }, balances: { closingBank: '50000.00', closingLedger: '50000.00' } });
    const deposit = await rt.db('deposits').where({ section_id: b.sectionId, bidder_id: b.bidderId }).first();
    expect(deposit.status).toBe('valid');
    const r = await report(res.body.id);
    expect(r.exceptions.data).toHaveLength(1);
    expect(r.exceptions.data[0]).toMatchObject({ kind: 'missing_in_ledger', status: 'resolved', decision: 'recovered_from_statement', bank: { amount: '50000.00' } });
    expect(r.openExceptions).toBe(0);
  });

  it('R3 a lost credit booked after the deadline and recovered later is invalid and goes back to its source', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await rt.db('sections').where({ id: b.sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
    relay.drop = true;
    await w.bankApi('POST', '/sandbox/transfers', { fromAccount: b.account, toAccount: b.virtualAccount, amount: '50000.00', remittance: '投标保证金' });
    await waitFor('the notification dropped', async () => relay.dropped > 0);
    const res = await pull(w);
    expect(res.body.matched.recovered).toBe(1);
    const deposit = await rt.db('deposits').where({ section_id: b.sectionId, bidder_id: b.bidderId }).first();
    expect(deposit.status).toBe('invalid');
    expect(deposit.failed_rules).toContain('R3');
    expect(await rt.db('refunds').where({ deposit_id: deposit.id, reason: 'invalid' })).toHaveLength(1);
  });

  it('money taken out behind the service\'s back is missing_in_ledger; a correction journal resolves it and the next statement balances', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    await w.bankApi('POST', '/sandbox/transfers', { fromAccount: w.trustNumber, toAccount: b.account, amount: '12.50', remittance: '手续费' });
    const res = await pull(w);
    const r = await report(res.body.id);
    expect(kinds(r)).toEqual(['ledger_balance_difference', 'missing_in_ledger']);
    const ex = r.exceptions.data.find((e: any) => e.kind === 'missing_in_ledger');
    expect(ex).toMatchObject({ amount: '12.50', status: 'open', bank: { direction: 'debit', amount: '12.50' }, ledger: null });
    const resolved = await request(app).post(`/v1/reconciliations/${res.body.id}/exceptions/${ex.id}/resolution`).set(bearer(centre))
      .send({ decision: 'corrected', note: '银行手续费，转入待处理', correction: { counterAccount: 'suspense' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', decision: 'corrected' });
    const j = await rt.db('journals').where({ id: resolved.body.correctionJournalId }).first();
    expect(j.kind).toBe('bank_adjustment');
    // One correction, posted once: the only journal with its reference (the shared database
    // holds every other test's journals too, so only this one's are counted).
    expect(Number((await rt.db('journals').where({ ref: j.ref }).count({ n: '*' }).first())!.n)).toBe(1);
    // Deciding twice is refused.
    const twice = await request(app).post(`/v1/reconciliations/${res.body.id}/exceptions/${ex.id}/resolution`).set(bearer(centre)).send({ decision: 'explained', note: '重复' });
    expect(twice.status).toBe(409);
    // The next statement of the day matches the fee by its bank reference and balances.
    await payNotified(w, b.account, b.virtualAccount, '1.00');
    const next = await pull(w);
    expect(next.body).toMatchObject({ status: 'balanced', exceptionCount: 0, balances: { difference: '0.00' } });
    expect(await rt.db('audit_events').whereIn('action', ['ledger.correction_posted', 'reconciliation.exception_resolved']).where('data', '@>', JSON.stringify({ reconciliationId: res.body.id }))).toHaveLength(2);
  });

  it('a refund faked as settled in the ledger is missing_in_bank', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    await rt.db.transaction((tx) =>
      postJournal(tx, { kind: 'refund_settle', ref: `att_fake${digits(10)}`, memo: 'a refund marked settled that the bank never paid',
        postings: [{ account: trustAccountSpec(w.bankId), amountFen: -5_000_000n }, { account: suspenseAccountSpec(w.bankId), amountFen: 5_000_000n }] }),
    );
    const res = await pull(w);
    const r = await report(res.body.id);
    expect(kinds(r)).toEqual(['ledger_balance_difference', 'missing_in_bank']);
    expect(r.exceptions.data.find((e: any) => e.kind === 'missing_in_bank')).toMatchObject({ amount: '50000.00', bank: null, ledger: { kind: 'refund_settle', trustMovement: '-50000.00' } });
    expect(r.balances).toMatchObject({ closingBank: '50000.00', closingLedger: '0.00', difference: '50000.00' });
  });

  it('a tampered statement: an amount changed is amount_mismatch and the statement no longer adds up (balance_mismatch); nothing is recovered from it', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    relay.drop = true;
    await w.bankApi('POST', '/sandbox/transfers', { fromAccount: b.account, toAccount: b.virtualAccount, amount: '7.00', remittance: '补缴' });
    await waitFor('the notification dropped', async () => relay.dropped > 0);
    const xml = (await statementXml(w)).replace(/<Amt Ccy="CNY">50000\.00<\/Amt>/g, '<Amt Ccy="CNY">5000.00</Amt>');
    const res = await upload(w, xml);
    expect(res.status).toBe(201);
    const r = await report(res.body.id);
    expect(kinds(r)).toEqual(['amount_mismatch', 'balance_mismatch', 'ledger_balance_difference', 'missing_in_ledger']);
    expect(r.exceptions.data.find((e: any) => e.kind === 'amount_mismatch')).toMatchObject({ bank: { amount: '5000.00' }, ledger: { trustMovement: '50000.00' } });
    expect(r.exceptions.data.find((e: any) => e.kind === 'missing_in_ledger')).toMatchObject({ status: 'open', amount: '7.00' });
    expect(await rt.db('credits').where({ bank_id: w.bankId })).toHaveLength(1);
  });

  it('duplicate lines: a bank reference twice in one statement, and an entry already matched by another day\'s reconciliation', async () => {
    const w = await world();
    const b = await bidderWithSubAccount(app, centre, w);
    await payNotified(w, b.account, b.virtualAccount, '50000.00');
    const xml = await statementXml(w);
    const entry = /<Ntry>[\s\S]*?<\/Ntry>/.exec(xml)![0];
    const res = await upload(w, xml.replace(entry, entry + entry));
    expect(res.status).toBe(201);
    const r = await report(res.body.id);
    expect(kinds(r)).toEqual(['balance_mismatch', 'duplicate']);
    expect(r.exceptions.data.find((e: any) => e.kind === 'duplicate').detail).toMatch(/repeated in this statement/);
    // The same entry on the previous day's statement: already matched today.
    const yesterdayXml = xml.replace(new RegExp(today(), 'g'), '2020-01-01').replace(/<MsgId>[^<]+<\/MsgId>/, '<MsgId>OLDDAY1</MsgId>');
    const old = await upload(w, yesterdayXml);
    expect(old.status).toBe(201);
    const o = await report(old.body.id);
    expect(o.exceptions.data.find((e: any) => e.kind === 'duplicate').detail).toMatch(new RegExp(`already matched by reconciliation ${res.body.id}`));
  });
});
