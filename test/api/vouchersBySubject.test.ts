// Vouchers found from the records they attest: every deposit, refund, guarantee, roster and
// reconciliation lists its vouchers, and GET /v1/vouchers?subjectId= answers as the record
// itself does for each caller (R18 for a tenderee before the opening, 404 for others' records).
import request from 'supertest';
import type { Express } from 'express';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import { newId } from '../../src/domain/ids';
import type { Runtime } from '../../src/runtime';
import { requestVoucher } from '../../src/vouchers/requests';
import { DepositWorld, entry, jsonNotification, type Bank } from './deposits.support';
import { World } from './guaranteesFixtures';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let g: World;
let bank: Bank;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  g = await new World(rt, app).init();
  bank = await w.bank();
});
afterAll(async () => {
  await rt?.close();
});

const get = (path: string, key: string) => request(app).get(path).set(bearer(key));
const vouchersOf = (subjectId: string, key: string, extra = '') => get(`/v1/vouchers?subjectId=${subjectId}${extra}`, key);

/** A section with two bidders who paid their deposits; the second withdrew before the deadline. */
async function paidSection() {
  const section = await w.section(bank.id);
  const a = await w.bidder();
  const b = await w.bidder();
  const vaA = await w.virtualAccount(section.id, a.id);
  const vaB = await w.virtualAccount(section.id, b.id);
  const res = await w.notify(bank, jsonNotification([entry(vaA, '50000.00', a.account), entry(vaB, '50000.00', b.account)]));
  expect(res.status).toBe(200);
  const [depA, depB] = res.body.depositIds as string[];
  const withdrawal = await request(app).post(`/v1/sections/${section.id}/withdrawals`).set(bearer(w.centre)).send({ bidderId: b.id });
  expect(withdrawal.status).toBe(201);
  const refundB = withdrawal.body.refunds[0].id as string;
  return {
    section, a, b, depA, depB, refundB,
    keyA: await keyFor(rt, 'bidder', { bidderId: a.id }),
    keyB: await keyFor(rt, 'bidder', { bidderId: b.id }),
    tenderee: await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId }),
  };
}

/** A refund is paid by the bank adapter; its voucher is asked for here as settle.ts asks for it. */
async function refundVoucher(refundId: string, bidderId: string, sectionId: string) {
  return rt.db.transaction((tx) =>
    requestVoucher(tx, { kind: 'refund_voucher', subjectType: 'refund', subjectId: refundId, sectionId, bidderId, data: { refundId, principalFen: 5000000n } }),
  );
}

describe('every record lists its vouchers', () => {
  it('deposits (list and one), refunds (list and one) and a withdrawal show their vouchers with kind and status', async () => {
    const s = await paidSection();
    const list = await get(`/v1/deposits?sectionId=${s.section.id}`, w.centre);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    for (const d of list.body.data) {
      expect(d.vouchers).toEqual([{ id: expect.stringMatching(/^vch_/), kind: 'deposit_receipt', status: 'pending' }]);
    }
    const one = await get(`/v1/deposits/${s.depB}`, w.centre);
    expect(one.body.vouchers).toEqual(list.body.data.find((d: { id: string }) => d.id === s.depB).vouchers);
    expect(one.body.refunds).toEqual([expect.objectContaining({ id: s.refundB, vouchers: [] })]);

    const vch = await refundVoucher(s.refundB, s.b.id, s.section.id);
    const refund = await get(`/v1/refunds/${s.refundB}`, w.centre);
    expect(refund.body.vouchers).toEqual([{ id: vch, kind: 'refund_voucher', status: 'pending' }]);
    const refunds = await get(`/v1/refunds?sectionId=${s.section.id}`, s.keyB);
    expect(refunds.body.data).toEqual([expect.objectContaining({ id: s.refundB, vouchers: [{ id: vch, kind: 'refund_voucher', status: 'pending' }] })]);
    expect((await get(`/v1/deposits/${s.depB}`, s.keyB)).body.refunds[0].vouchers).toEqual([{ id: vch, kind: 'refund_voucher', status: 'pending' }]);
  });

  it('the opening roster carries its signed-roster voucher, in the opening answer and on GET', async () => {
    const s = await paidSection();
    await rt.db('sections').where({ id: s.section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const opened = await request(app).post(`/v1/sections/${s.section.id}/opening`).set(bearer(w.centre));
    expect(opened.status).toBe(201);
    expect(opened.body.vouchers).toEqual([{ id: opened.body.voucherId, kind: 'opening_roster', status: 'pending' }]);
    const roster = await get(`/v1/sections/${s.section.id}/roster`, s.tenderee);
    expect(roster.body.vouchers).toEqual(opened.body.vouchers);
    const bySubject = await vouchersOf(roster.body.id, s.tenderee);
    expect(bySubject.body).toEqual({ object: 'list', subject: { type: 'roster', id: roster.body.id }, data: opened.body.vouchers, hasMore: false, nextCursor: null });
    // The roster is read by the centre, auditors and the tenderee, not by bidders.
    expect((await vouchersOf(roster.body.id, s.keyA)).status).toBe(404);
  });

  it('guarantees list their verification reports, and a reconciliation its report', async () => {
    const scene = await g.scene('bank');
    const body = g.issuance(scene);
    const issued = await g.issue(scene.issuer, body);
    expect(issued.status).toBe(201);
    const gid = issued.body.id as string;
    expect((await get(`/v1/guarantees/${gid}`, g.centre)).body.vouchers).toEqual([]);
    const verified = await get(`/v1/guarantees/verify?issuerId=${scene.issuer.id}&number=${body.number}&documentSha256=${body.documentSha256}`, g.centre);
    expect(verified.body.authentic).toBe(true);
    const expected = [{ id: verified.body.voucherId, kind: 'verification_report', status: 'pending' }];
    expect((await get(`/v1/guarantees/${gid}`, g.centre)).body.vouchers).toEqual(expected);
    expect((await get(`/v1/guarantees?sectionId=${scene.section.id}`, g.centre)).body.data[0].vouchers).toEqual(expected);
    expect((await vouchersOf(gid, g.centre)).body.data).toEqual(expected);

    const trust = (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
    const xml = [...camt053Chunks({ messageId: `VBS${Date.now()}`, statementId: 'ST1', sequenceNumber: '1', account: trust, currency: 'CNY', date: '2021-06-01', openingBalanceFen: 0n, closingBalanceFen: 0n, createdAt: new Date() }, [])].join('');
    const rec = await request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(w.centre)).set('Content-Type', 'application/xml').send(xml);
    expect(rec.status).toBe(201);
    expect(rec.body.vouchers).toEqual([{ id: rec.body.voucherId, kind: 'reconciliation_report', status: 'pending' }]);
    expect((await get(`/v1/reconciliations/${rec.body.id}`, w.centre)).body.vouchers).toEqual(rec.body.vouchers);
    expect((await get(`/v1/reconciliations?bankId=${bank.id}`, w.centre)).body.data.find((r: { id: string }) => r.id === rec.body.id).vouchers).toEqual(rec.body.vouchers);
    expect((await vouchersOf(rec.body.id, await keyFor(rt, 'auditor'))).body.data).toEqual(rec.body.vouchers);
    expect((await vouchersOf(rec.body.id, (await paidSection()).tenderee)).status).toBe(404);
  });

  it('a payment made again after a return has its voucher on the payment, and the refund lists it', async () => {
    const s = await paidSection();
    const first = await refundVoucher(s.refundB, s.b.id, s.section.id);
    // The bank side of a second payment (sent, returned, sent again) needs a bank that answers;
    // the payment row is written as the executor writes it, its voucher as settle.ts asks.
    const attemptId = newId('att');
    const messageId = `M${attemptId.slice('att_'.length)}`;
    await rt.db('refund_messages').insert({ id: messageId, bank_id: bank.id, status: 'finished', transfers: 1 });
    await rt.db('refund_attempts').insert({
      id: attemptId, refund_id: s.refundB, seq: 2, end_to_end_id: `E2E${attemptId}`, message_id: messageId, status: 'settled',
      principal_fen: 5000000n, interest_fen: 0n, late_fee_fen: 0n, amount_fen: 5000000n, value_date: '2026-12-01', interest_from: '2026-11-20',
      creditor_account_number: s.b.account.number, creditor_account_name: s.b.account.name, reserve_journal_id: `jnl_${attemptId}`,
    });
    const again = await rt.db.transaction((tx) =>
      requestVoucher(tx, { kind: 'refund_voucher', subjectType: 'refund_attempt', subjectId: attemptId, sectionId: s.section.id, bidderId: s.b.id, data: { refundId: s.refundB } }),
    );
    const expected = [{ id: first, kind: 'refund_voucher', status: 'pending' }, { id: again, kind: 'refund_voucher', status: 'pending' }];
    expect((await get(`/v1/refunds/${s.refundB}`, w.centre)).body.vouchers).toEqual(expected);
    expect((await vouchersOf(s.refundB, s.keyB)).body.data).toEqual(expected);
  });
});

describe('GET /v1/vouchers?subjectId= is scoped like its subject', () => {
  it("a bidder sees its own deposit's and refund's vouchers and gets 404 for another bidder's", async () => {
    const s = await paidSection();
    const vch = await refundVoucher(s.refundB, s.b.id, s.section.id);
    const mine = await vouchersOf(s.depA, s.keyA);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ object: 'list', subject: { type: 'deposit', id: s.depA }, data: [{ kind: 'deposit_receipt', status: 'pending' }] });
    expect((await vouchersOf(s.refundB, s.keyB)).body.data).toEqual([{ id: vch, kind: 'refund_voucher', status: 'pending' }]);

    const theirs = await vouchersOf(s.depB, s.keyA);
    expect(theirs.status).toBe(404);
    expect((await vouchersOf(s.refundB, s.keyA)).status).toBe(404);
    // The same answer as for a record that does not exist: nothing is learnt from it.
    const unknown = await vouchersOf('dep_00000000000000000000000000', s.keyA);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe(theirs.body.error.code);
  });

  it('R18 a tenderee learns nothing of who paid before the opening, and sees the vouchers after it', async () => {
    const s = await paidSection();
    const before = await vouchersOf(s.depA, s.tenderee);
    expect(before.status).toBe(404);
    expect(before.body.error.code).toBe('not_found');
    // Refunds are never the tenderee's to read.
    expect((await vouchersOf(s.refundB, s.tenderee)).status).toBe(404);
    await rt.db('sections').where({ id: s.section.id }).update({ status: 'opened', opened_at: new Date() });
    const after = await vouchersOf(s.depA, s.tenderee);
    expect(after.status).toBe(200);
    // Pending or already signed: whether a worker has rendered it yet is not the point here.
    expect(after.body.data).toEqual([{ id: expect.stringMatching(/^vch_/), kind: 'deposit_receipt', status: expect.stringMatching(/^(pending|signed)$/) }]);
    expect((await vouchersOf(s.refundB, s.tenderee)).status).toBe(404);
  });

  it("R18 a guarantee's reports are sealed from the tenderee until the opening and from other bidders always", async () => {
    const scene = await g.scene('bank');
    const body = g.issuance(scene);
    const gid = (await g.issue(scene.issuer, body)).body.id as string;
    await get(`/v1/guarantees/verify?issuerId=${scene.issuer.id}&number=${body.number}`, g.centre);
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: scene.tenderee.id });
    const owner = await keyFor(rt, 'bidder', { bidderId: scene.bidder.id });
    const stranger = await keyFor(rt, 'bidder', { bidderId: (await g.bidder()).id });
    expect((await vouchersOf(gid, owner)).body.data).toHaveLength(1);
    expect((await vouchersOf(gid, stranger)).status).toBe(404);
    expect((await vouchersOf(gid, tenderee)).status).toBe(404);
    await rt.db('sections').where({ id: scene.section.id }).update({ status: 'opened', opened_at: new Date() });
    expect((await vouchersOf(gid, tenderee)).body.data).toHaveLength(1);
  });

  it('filters by kind, pages with limit and cursor, and refuses a malformed subject with 400', async () => {
    const s = await paidSection();
    await refundVoucher(s.refundB, s.b.id, s.section.id);
    await rt.db.transaction((tx) =>
      requestVoucher(tx, { kind: 'refund_return', subjectType: 'refund', subjectId: s.refundB, sectionId: s.section.id, bidderId: s.b.id, data: { refundId: s.refundB } }),
    );
    const all = (await vouchersOf(s.refundB, w.centre)).body;
    expect(all.data.map((v: { kind: string }) => v.kind)).toEqual(['refund_voucher', 'refund_return']);
    expect((await vouchersOf(s.refundB, w.centre, '&kind=refund_return')).body.data.map((v: { kind: string }) => v.kind)).toEqual(['refund_return']);
    expect((await vouchersOf(s.refundB, w.centre, '&kind=deposit_receipt')).body.data).toEqual([]);
    const p1 = (await vouchersOf(s.refundB, w.centre, '&limit=1')).body;
    expect(p1).toMatchObject({ hasMore: true, nextCursor: all.data[0].id, data: [all.data[0]] });
    const p2 = (await vouchersOf(s.refundB, w.centre, `&limit=1&cursor=${p1.nextCursor}`)).body;
    expect(p2).toMatchObject({ hasMore: false, nextCursor: null, data: [all.data[1]] });

    const bad = await vouchersOf('sec_00000000000000000000000000', w.centre);
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('subjectId');
    expect((await get('/v1/vouchers', w.centre)).status).toBe(400);
    expect((await vouchersOf(s.refundB, w.centre, '&kind=nonsense')).status).toBe(400);
    expect((await request(app).get(`/v1/vouchers?subjectId=${s.depA}`)).status).toBe(401);
  });
});
