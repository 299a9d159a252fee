import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bankCode, bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { dayMs, unique, World } from './guaranteesFixtures';
import { addCalendarDays, toBusinessDate } from '../../src/domain/time';

let rt: Runtime;
let app: Express;
let w: World;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = await new World(rt, app).init();
});
afterAll(async () => {
  await rt.close();
});

const failed = (body: { checks: { rule: string; ok: boolean }[] }) => body.checks.filter((c) => !c.ok).map((c) => c.rule).sort();

describe('issuance', () => {
  it('records a guarantee that meets every rule as issued, with every check', async () => {
    const sc = await w.scene('bank');
    const res = await w.issue(sc.issuer, w.issuance(sc));
    expect(res.body.error).toBeUndefined();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'guarantee', status: 'issued', sectionId: sc.section.id, bidderId: sc.bidder.id, amount: '50000.00' });
    expect(res.body.checks.map((c: { rule: string }) => c.rule)).toEqual(expect.arrayContaining(['R2', 'R3', 'R4', 'R6', 'R7', 'R8']));
    expect(failed(res.body)).toEqual([]);
    const audit = await rt.db('audit_events').where({ entity_id: res.body.id, action: 'guarantee.issued' });
    expect(audit).toHaveLength(1);
  });

  it('R2 rejects a guarantee that expires before deadline + bid validity', async () => {
    const sc = await w.scene('insurance');
    const res = await w.issue(sc.issuer, w.issuance(sc, { validTo: addCalendarDays(toBusinessDate(sc.section.bidDeadline), 10) }));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R2']);
  });

  it('R2 rejects a guarantee that starts after the bid deadline', async () => {
    const sc = await w.scene('insurance');
    const res = await w.issue(sc.issuer, w.issuance(sc, { validFrom: addCalendarDays(toBusinessDate(sc.section.bidDeadline), 1) }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R2']);
  });

  it('R3 rejects a guarantee issued after the bid deadline', async () => {
    const sc = await w.scene('guarantor');
    const res = await w.issue(sc.issuer, w.issuance(sc, { issuedAt: new Date(Date.parse(sc.section.bidDeadline) + 1000).toISOString() }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R3']);
  });

  it('R4 rejects a guarantee for less than the required deposit', async () => {
    const sc = await w.scene('guarantor');
    const res = await w.issue(sc.issuer, w.issuance(sc, { amount: '49999.99' }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R4']);
  });

  it('R6 rejects a bank guarantee from a bank other than the basic-account bank', async () => {
    const issuer = await w.issuer('bank', { bankCode: bankCode('104', '1000', '0001') });
    const tenderee = await w.tenderee();
    const bidder = await w.bidder(bankCode('105', '1000', '0001'));
    const section = await w.section(tenderee.id);
    const res = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R6']);
  });

  it('R6 accepts another branch of the same bank under policy "bank" and refuses it under "branch"', async () => {
    const issuer = await w.issuer('bank', { bankCode: bankCode('102', '3100', '0002') });
    const tenderee = await w.tenderee();
    const bidder = await w.bidder(bankCode('102', '1000', '0003'));
    const bankPolicy = await w.section(tenderee.id, { match: 'bank' });
    const branchPolicy = await w.section(tenderee.id, { match: 'branch' });
    const a = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section: bankPolicy }));
    expect(a.body.status).toBe('issued');
    const b = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section: branchPolicy }));
    expect(failed(b.body)).toEqual(['R6']);
  });

  it("R6 uses the issuing branch given in the body, one of the issuer's own bank, over the issuer default", async () => {
    const issuer = await w.issuer('bank', { bankCode: bankCode('102', '3100', '0007') });
    const tenderee = await w.tenderee();
    const bidder = await w.bidder(bankCode('102', '1000', '0008'));
    const section = await w.section(tenderee.id, { match: 'branch' });
    const wrong = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section }));
    expect(failed(wrong.body)).toEqual(['R6']);
    const bidder2 = await w.bidder(bankCode('102', '1000', '0008'));
    const right = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder: bidder2, section }, { issuingBankCode: bankCode('102', '1000', '0008') }));
    expect(right.body).toMatchObject({ status: 'issued', issuingBankCode: bankCode('102', '1000', '0008') });
  });

  it("R6 rejects an issuer registered as one bank that issues as another bank's branch, even the bidder's own", async () => {
    const issuer = await w.issuer('bank', { bankCode: bankCode('102', '1000', '0011') });
    const tenderee = await w.tenderee();
    const bidderBank = bankCode('104', '1000', '0012');
    const bidder = await w.bidder(bidderBank);
    const section = await w.section(tenderee.id);
    const res = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section }, { issuingBankCode: bidderBank }));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R6']);
    expect(res.body.checks.find((c: { rule: string }) => c.rule === 'R6').detail).toMatch(new RegExp(`${bidderBank} is not a branch of the issuer's registered bank .*${issuer.bankCode}`));
  });

  it("R6 rejects a city commercial bank issuer naming another 313 code, whose category names no one bank", async () => {
    const issuer = await w.issuer('bank', { bankCode: bankCode('313', '1000', '0007') });
    const tenderee = await w.tenderee();
    const bidder = await w.bidder(bankCode('313', '1000', '0008'));
    const section = await w.section(tenderee.id);
    const res = await w.issue(issuer, w.issuance({ issuer, tenderee, bidder, section }, { issuingBankCode: bankCode('313', '1000', '0008') }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R6']);
  });

  it('R7 rejects a guarantee whose beneficiary is not the tenderee', async () => {
    const sc = await w.scene('insurance');
    const other = await w.tenderee();
    const res = await w.issue(sc.issuer, w.issuance(sc, { beneficiary: { uscc: other.uscc, name: other.name } }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R7']);
  });

  it('R7 answers 422 for project and section codes that name no section, and records nothing', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc, { sectionCode: unique('NOPE') });
    const res = await w.issue(sc.issuer, body);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'R7', code: 'section_unknown' });
    expect(await rt.db('guarantees').where({ number: body.number })).toHaveLength(0);
  });

  it('R7 answers 422 for an applicant that is not a registered bidder', async () => {
    const sc = await w.scene('insurance');
    const res = await w.issue(sc.issuer, w.issuance(sc, { applicant: { uscc: '91350100M000100Y43', name: '无名公司' } }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'R7', code: 'applicant_not_registered' });
  });

  it('R7 refuses a second guarantee number already used by the issuer with 409', async () => {
    const sc = await w.scene('insurance');
    const first = w.issuance(sc);
    expect((await w.issue(sc.issuer, first)).status).toBe(201);
    const again = await w.issue(sc.issuer, { ...w.issuance(sc), number: first.number });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'guarantee_number_exists', rule: 'R7' });
  });

  it('R7 records a second guarantee for the same bidder and section as rejected', async () => {
    const sc = await w.scene('insurance');
    expect((await w.issue(sc.issuer, w.issuance(sc))).body.status).toBe('issued');
    const second = await w.issue(sc.issuer, w.issuance(sc));
    expect(second.status).toBe(201);
    expect(second.body.status).toBe('rejected');
    expect(failed(second.body)).toEqual(['R7']);
  });

  it('R8 rejects a kind the section does not accept', async () => {
    const sc = await w.scene('guarantor', { accepted: ['bank', 'insurance'] });
    const res = await w.issue(sc.issuer, w.issuance(sc));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R8']);
  });

  it('reports every failed rule at once', async () => {
    const sc = await w.scene('guarantor', { accepted: ['bank'] });
    const other = await w.tenderee();
    const res = await w.issue(sc.issuer, w.issuance(sc, { amount: '1.00', beneficiary: { uscc: other.uscc, name: 'x' }, validTo: toBusinessDate(sc.section.bidDeadline) }));
    expect(res.body.status).toBe('rejected');
    expect(failed(res.body)).toEqual(['R2', 'R4', 'R7', 'R8']);
  });

  it("answers 422 when the guarantee's kind is not the issuer's", async () => {
    const sc = await w.scene('insurance');
    const res = await w.issue(sc.issuer, w.issuance(sc, { kind: 'bank' }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('issuer_kind_mismatch');
  });

  it('answers 400 for a malformed body', async () => {
    const sc = await w.scene('insurance');
    const res = await w.issue(sc.issuer, { ...w.issuance(sc), amount: 50000 });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('amount');
  });

  it('returns the first answer to a replayed event and acts once', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    const first = await w.issue(sc.issuer, body);
    const second = await w.issue(sc.issuer, body);
    expect(second.status).toBe(201);
    expect(second.headers['webhook-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await rt.db('guarantees').where({ issuer_id: sc.issuer.id })).toHaveLength(1);
    const reused = await w.issue(sc.issuer, { ...body, amount: '60000.00' });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('event_id_reused');
  });

  it('records exactly one guarantee when the same issuance arrives several times at once', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    const answers = await Promise.all(Array.from({ length: 5 }, () => w.issue(sc.issuer, body)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await rt.db('guarantees').where({ issuer_id: sc.issuer.id })).toHaveLength(1);
  });

  it('secures a bidder with exactly one guarantee when two numbers for it arrive at once', async () => {
    const sc = await w.scene('insurance');
    const answers = await Promise.all(Array.from({ length: 4 }, () => w.issue(sc.issuer, w.issuance(sc))));
    const statuses = answers.map((a) => a.body.status).sort();
    expect(statuses).toEqual(['issued', 'rejected', 'rejected', 'rejected']);
    const live = await rt.db('guarantees').where({ section_id: sc.section.id, bidder_id: sc.bidder.id }).whereNot('status', 'rejected');
    expect(live).toHaveLength(1);
  });

  it('answers with the guarantee exactly as it is on record, issued or rejected, and replays that answer', async () => {
    const sc = await w.scene('insurance');
    const bodies = [w.issuance(sc), w.issuance(sc)];
    const answers = await Promise.all(bodies.map((b) => w.issue(sc.issuer, b)));
    expect(answers.map((a) => a.body.status).sort()).toEqual(['issued', 'rejected']);
    for (const [i, a] of answers.entries()) {
      const onRecord = await request(app).get(`/v1/guarantees/${a.body.id}`).set(bearer(w.centre));
      expect(onRecord.status).toBe(200);
      expect(a.body).toEqual(onRecord.body);
      const replay = await w.issue(sc.issuer, bodies[i]);
      expect(replay.headers['webhook-replayed']).toBe('true');
      expect(replay.body).toEqual(a.body);
    }
  });

  it('keeps no record of an event it refused, so the issuer can send it again corrected', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    const refused = await w.issue(sc.issuer, { ...body, sectionCode: unique('NOPE') });
    expect(refused.status).toBe(422);
    expect(await rt.db('webhook_events').where({ sender_type: 'issuer', sender_id: sc.issuer.id, event_id: body.eventId })).toHaveLength(0);
    const corrected = await w.issue(sc.issuer, body);
    expect(corrected.status).toBe(201);
    expect(corrected.headers['webhook-replayed']).toBeUndefined();
    expect(corrected.body.status).toBe('issued');
  });

  it('records the same number from two issuers as two guarantees (unique per issuer)', async () => {
    const sc = await w.scene('insurance');
    const other = await w.issuer('insurance');
    const bidder2 = await w.bidder();
    const number = unique('BG');
    expect((await w.issue(sc.issuer, w.issuance(sc, { number }))).status).toBe(201);
    expect((await w.issue(other, w.issuance({ ...sc, issuer: other, bidder: bidder2 }, { number }))).status).toBe(201);
  });
});

describe('issuer events', () => {
  async function issued(kind: 'bank' | 'insurance' | 'guarantor' = 'insurance') {
    const sc = await w.scene(kind);
    const body = w.issuance(sc);
    const res = await w.issue(sc.issuer, body);
    expect(res.body.status).toBe('issued');
    return { sc, number: body.number as string, id: res.body.id as string };
  }

  it('amends amount and validity when the amendment still meets R2 and R4', async () => {
    const { sc, number } = await issued();
    const validTo = addCalendarDays(toBusinessDate(sc.section.bidDeadline), 200);
    const res = await w.event(sc.issuer, number, { type: 'amended', amount: '80000.00', validTo });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'amended', amount: '80000.00', validTo });
    const again = await w.event(sc.issuer, number, { type: 'amended', amount: '70000.00' });
    expect(again.body.status).toBe('amended');
  });

  it('refuses an amendment that breaks R4 with 422 and leaves the guarantee unchanged', async () => {
    const { sc, number, id } = await issued();
    const res = await w.event(sc.issuer, number, { type: 'amended', amount: '100.00' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'R4', code: 'amendment_breaks_rules' });
    const g = await rt.db('guarantees').where({ id }).first();
    expect(g.status).toBe('issued');
    expect(g.amount_fen).toBe(5_000_000n);
  });

  it('refuses an amendment that breaks R2 with 422', async () => {
    const { sc, number } = await issued();
    const res = await w.event(sc.issuer, number, { type: 'amended', validTo: toBusinessDate(sc.section.bidDeadline) });
    expect(res.status).toBe(422);
    expect(res.body.error.rule).toBe('R2');
  });

  it('cancels before the deadline, and refuses every event on a cancelled guarantee', async () => {
    const { sc, number } = await issued();
    const res = await w.event(sc.issuer, number, { type: 'cancelled', reason: 'bidder asked' });
    expect(res.body.status).toBe('cancelled');
    for (const type of ['amended', 'cancelled', 'claim_paid', 'claim_refused']) {
      const r = await w.event(sc.issuer, number, { type, ...(type === 'amended' ? { amount: '60000.00' } : {}) });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('illegal_transition');
    }
    // A cancelled guarantee no longer counts: the bidder may be secured by a new one.
    expect((await w.issue(sc.issuer, w.issuance(sc))).body.status).toBe('issued');
  });

  it('R2 refuses a cancellation after the bid deadline with 409', async () => {
    const { sc, number, id } = await issued();
    await rt.db('sections').where({ id: sc.section.id }).update({ bid_deadline: new Date(Date.now() - dayMs) });
    const res = await w.event(sc.issuer, number, { type: 'cancelled' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_after_deadline', rule: 'R2' });
    expect((await rt.db('guarantees').where({ id }).first()).status).toBe('issued');
  });

  it('refuses claim_paid and claim_refused on a guarantee that is not claimed', async () => {
    const { sc, number } = await issued();
    for (const type of ['claim_paid', 'claim_refused']) {
      const r = await w.event(sc.issuer, number, { type });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('illegal_transition');
    }
  });

  it('moves a claimed guarantee to claim_paid or claim_refused, and no further', async () => {
    for (const outcome of ['claim_paid', 'claim_refused']) {
      const { sc, number, id } = await issued();
      await rt.db('guarantees').where({ id }).update({ status: 'claimed', claim_reason: 'false_documents', claim_amount_fen: 5_000_000n, claimed_by: 'key_test', claimed_at: new Date() });
      const res = await w.event(sc.issuer, number, { type: outcome });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(outcome);
      for (const type of ['amended', 'cancelled', 'claim_paid', 'claim_refused']) {
        const r = await w.event(sc.issuer, number, { type, ...(type === 'amended' ? { amount: '60000.00' } : {}) });
        expect(r.status).toBe(409);
      }
    }
  });

  it('refuses every event on a rejected guarantee', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc, { amount: '1.00' });
    expect((await w.issue(sc.issuer, body)).body.status).toBe('rejected');
    for (const type of ['amended', 'cancelled', 'claim_paid', 'claim_refused']) {
      const r = await w.event(sc.issuer, body.number, { type, ...(type === 'amended' ? { amount: '60000.00' } : {}) });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('illegal_transition');
    }
  });

  it('answers 404 for a number the issuer never issued, including another issuer\'s', async () => {
    const { number } = await issued();
    const other = await w.issuer('insurance');
    const res = await w.event(other, number, { type: 'cancelled' });
    expect(res.status).toBe(404);
  });

  it('replays an event without acting twice', async () => {
    const { sc, number, id } = await issued();
    const body = { eventId: unique('evt'), type: 'amended', amount: '90000.00' };
    const a = await w.signed(`/v1/issuers/${sc.issuer.id}/guarantees/${number}/events`, body, sc.issuer);
    const b = await w.signed(`/v1/issuers/${sc.issuer.id}/guarantees/${number}/events`, body, sc.issuer);
    expect(b.body).toEqual(a.body);
    expect(await rt.db('guarantee_events').where({ guarantee_id: id })).toHaveLength(1);
  });
});

/** A few seconds: long enough to issue before the deadline, short enough to wait out. */
const closingSoonMs = 3_000;
const untilPast = async (deadline: string | Date) => {
  const at = new Date(deadline).getTime();
  while (Date.now() <= at) await new Promise((r) => setTimeout(r, Math.max(10, at - Date.now() + 5)));
};

describe('reading and R18', () => {
  it('R18 hides guarantees from the tenderee until opening, then shows them', async () => {
    const sc = await w.scene('insurance', { deadline: new Date(Date.now() + closingSoonMs) });
    const g = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const tKey = await keyFor(rt, 'tenderee', { tendereeId: sc.tenderee.id });
    const one = await request(app).get(`/v1/guarantees/${g.id}`).set(bearer(tKey));
    expect(one.status).toBe(404);
    const list = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}`).set(bearer(tKey));
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ object: 'list', data: [], hasMore: false, nextCursor: null });
    const verify = await request(app).get(`/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=${g.number}`).set(bearer(tKey));
    expect(verify.body).toMatchObject({ authentic: false, status: 'unknown', guarantee: null });

    await untilPast(sc.section.bidDeadline);
    expect((await request(app).post(`/v1/sections/${sc.section.id}/opening`).set(bearer(w.centre)).send({})).status).toBe(201);
    expect((await request(app).get(`/v1/guarantees/${g.id}`).set(bearer(tKey))).status).toBe(200);
    const after = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}`).set(bearer(tKey));
    expect(after.body.data.map((x: { id: string }) => x.id)).toEqual([g.id]);
    const otherTenderee = await keyFor(rt, 'tenderee', { tendereeId: (await w.tenderee()).id });
    expect((await request(app).get(`/v1/guarantees/${g.id}`).set(bearer(otherTenderee))).status).toBe(404);
  });

  it('R18 keeps who secured a section terminated before its opening from its tenderee', async () => {
    const sc = await w.scene('insurance');
    const g = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const tKey = await keyFor(rt, 'tenderee', { tendereeId: sc.tenderee.id });
    const ended = await request(app).post(`/v1/sections/${sc.section.id}/termination`).set(bearer(w.centre)).send({ reason: '招标人取消项目' });
    expect([ended.status, ended.body.status]).toEqual([200, 'terminated']);
    expect((await request(app).get(`/v1/guarantees/${g.id}`).set(bearer(tKey))).status).toBe(404);
    const list = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}`).set(bearer(tKey));
    expect(list.body).toEqual({ object: 'list', data: [], hasMore: false, nextCursor: null });
    const verify = await request(app).get(`/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=${g.number}`).set(bearer(tKey));
    expect(verify.body).toMatchObject({ authentic: false, status: 'unknown', guarantee: null, voucherId: null });
    expect((await request(app).get(`/v1/guarantees/${g.id}`).set(bearer(w.centre))).status).toBe(200);
  });

  it('shows a bidder its own guarantees only', async () => {
    const sc = await w.scene('insurance');
    const mine = (await w.issue(sc.issuer, w.issuance(sc))).body;
    const other = await w.bidder();
    const theirs = (await w.issue(sc.issuer, w.issuance({ ...sc, bidder: other }))).body;
    const key = await keyFor(rt, 'bidder', { bidderId: sc.bidder.id });
    expect((await request(app).get(`/v1/guarantees/${mine.id}`).set(bearer(key))).status).toBe(200);
    expect((await request(app).get(`/v1/guarantees/${theirs.id}`).set(bearer(key))).status).toBe(404);
    const list = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}`).set(bearer(key));
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([mine.id]);
  });

  it('lists with filters and keyset pages for the centre', async () => {
    const sc = await w.scene('insurance');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await w.issue(sc.issuer, w.issuance({ ...sc, bidder: await w.bidder() }))).body.id);
    const p1 = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}&limit=2`).set(bearer(w.centre));
    expect(p1.body.data).toHaveLength(2);
    expect(p1.body.hasMore).toBe(true);
    const p2 = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}&limit=2&cursor=${p1.body.nextCursor}`).set(bearer(w.centre));
    expect([...p1.body.data, ...p2.body.data].map((x: { id: string }) => x.id)).toEqual(ids);
    const rejected = await request(app).get(`/v1/guarantees?sectionId=${sc.section.id}&status=rejected`).set(bearer(w.centre));
    expect(rejected.body.data).toEqual([]);
  });
});

describe('verification (验真)', () => {
  it('proves a guarantee authentic with its document hash and requests one report per question', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    await w.issue(sc.issuer, body);
    const key = await keyFor(rt, 'bidder', { bidderId: sc.bidder.id });
    const url = `/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=${body.number}&documentSha256=${body.documentSha256}`;
    const res = await request(app).get(url).set(bearer(key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authentic: true, status: 'issued' });
    expect(res.body.voucherId).toMatch(/^vch_/);
    const voucher = await rt.db('vouchers').where({ id: res.body.voucherId }).first();
    expect(voucher).toMatchObject({ kind: 'verification_report', subject_type: 'guarantee_verification', bidder_id: sc.bidder.id });
    expect((await request(app).get(url).set(bearer(w.centre))).body.voucherId).toBe(res.body.voucherId);
  });

  it('says a document with another hash is not authentic', async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    await w.issue(sc.issuer, body);
    const res = await request(app).get(`/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=${body.number}&documentSha256=${'0'.repeat(64)}`).set(bearer(w.centre));
    expect(res.body.authentic).toBe(false);
    expect(res.body.checks.find((c: { rule: string }) => c.rule === 'document').ok).toBe(false);
  });

  it('says plainly that an unknown guarantee is unknown', async () => {
    const sc = await w.scene('insurance');
    const auditor = await keyFor(rt, 'auditor');
    const res = await request(app).get(`/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=NO-SUCH-1`).set(bearer(auditor));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authentic: false, status: 'unknown', guarantee: null, voucherId: null });
  });

  it("answers another bidder's guarantee as unknown", async () => {
    const sc = await w.scene('insurance');
    const body = w.issuance(sc);
    await w.issue(sc.issuer, body);
    const key = await keyFor(rt, 'bidder', { bidderId: (await w.bidder()).id });
    const res = await request(app).get(`/v1/guarantees/verify?issuerId=${sc.issuer.id}&number=${body.number}`).set(bearer(key));
    expect(res.body.status).toBe('unknown');
  });
});
