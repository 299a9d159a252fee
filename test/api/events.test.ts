// Events out, as the systems around the trading centre read them: every state change of a
// section, a deposit or a guarantee becomes one event, listed in order with a cursor, and each
// caller sees the events of its own subjects (R18: a tenderee nothing about bidders before the
// opening).
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { relayEvents } from '../../src/events/relay';
import { listEvents } from '../../src/events/repo';
import { eventsFor, eventTypes } from '../../src/events/rules';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;
let centre: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  w = new DepositWorld(rt, app, centre);
  bank = await w.bank();
});
afterAll(async () => {
  await rt.close();
});

interface ApiEvent {
  id: string;
  type: string;
  subject: { type: string; id: string } | null;
  sectionId: string | null;
  tendereeId: string | null;
  bidderId: string | null;
  bankId: string | null;
  data: Record<string, unknown>;
}

/** Every event a key may see of the given types, page by page. */
async function allEvents(key: string, query: Record<string, string> = {}, pageLimit = 100): Promise<ApiEvent[]> {
  const out: ApiEvent[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 500; page++) {
    const res: request.Response = await request(app).get('/v1/events').query({ ...query, limit: String(pageLimit), ...(cursor ? { cursor } : {}) }).set(bearer(key));
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    if (!res.body.hasMore) return out;
    cursor = res.body.nextCursor;
  }
  throw new Error('more pages than a test makes');
}

/** A section with two bidders: A paid from its basic account (valid), B from another (R5). */
async function scene() {
  const section = await w.section(bank.id, { accepted: ['cash', 'bank'] });
  const a = await w.bidder();
  const b = await w.bidder();
  const vaA = await w.virtualAccount(section.id, a.id);
  const vaB = await w.virtualAccount(section.id, b.id);
  const resA = await w.notify(bank, jsonNotification([entry(vaA, '50000.00', { name: a.account.name, number: a.account.number })]));
  const resB = await w.notify(bank, jsonNotification([entry(vaB, '50000.00', { name: '别的公司', number: `62${randomDigits(17)}` })]));
  expect([resA.status, resB.status]).toEqual([200, 200]);
  return { section, a: { ...a, depositId: resA.body.depositIds[0] as string }, b: { ...b, depositId: resB.body.depositIds[0] as string } };
}

const open = async (sectionId: string) => {
  await rt.db('sections').where({ id: sectionId }).update({ bid_deadline: new Date(Date.now() - 1000) });
  const res = await request(app).post(`/v1/sections/${sectionId}/opening`).set(bearer(centre)).send({});
  expect(res.status).toBe(201);
};

describe('the event feed', () => {
  it('turns each state change into one event, scoped to the bidder it concerns, and relaying again adds nothing', async () => {
    const { section, a, b } = await scene();
    await relayEvents(rt.db);
    const keyA = await keyFor(rt, 'bidder', { bidderId: a.id });
    const keyB = await keyFor(rt, 'bidder', { bidderId: b.id });

    const seenByA = await allEvents(keyA);
    expect(seenByA.every((e) => e.bidderId === a.id)).toBe(true);
    const validA = seenByA.filter((e) => e.type === 'deposit.valid');
    expect(validA).toHaveLength(1);
    expect(validA[0]).toMatchObject({ subject: { type: 'deposit', id: a.depositId }, sectionId: section.id, tendereeId: section.tendereeId, bidderId: a.id, bankId: bank.id });
    expect(validA[0].id).toMatch(/^evt_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(seenByA.map((e) => e.type)).toContain('deposit_account.opened');

    const seenByB = await allEvents(keyB, { type: 'deposit.invalid,deposit.valid' });
    expect(seenByB).toHaveLength(1);
    expect(seenByB[0]).toMatchObject({ type: 'deposit.invalid', subject: { type: 'deposit', id: b.depositId }, bidderId: b.id });
    expect(seenByB[0].data.rules).toEqual(['R5']);
    // Account numbers stay in the service.
    expect(JSON.stringify(seenByA)).not.toContain(a.account.number);
    expect(JSON.stringify(seenByB)).not.toContain(b.account.number);

    // The relay keeps its place: running it again writes no second event for the same change.
    await relayEvents(rt.db);
    expect(await rt.db('events').where({ subject_id: a.depositId, type: 'deposit.valid' })).toHaveLength(1);
    expect(await allEvents(keyA)).toEqual(seenByA);
  });

  it('R18 shows the tenderee its section but nothing about who bids until the opening, then everything', async () => {
    const { section, a, b } = await scene();
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    await relayEvents(rt.db);
    const before = await allEvents(tenderee);
    expect(before.map((e) => e.type)).toEqual(['tenderee.created', 'section.created']);
    expect(before[1]).toMatchObject({ subject: { type: 'section', id: section.id }, tendereeId: section.tendereeId });
    expect(JSON.stringify(before)).not.toContain(a.id);

    await open(section.id);
    await relayEvents(rt.db);
    const after = await allEvents(tenderee);
    expect(after.every((e) => e.tendereeId === section.tendereeId)).toBe(true);
    expect(after.filter((e) => e.type === 'deposit.valid').map((e) => e.bidderId)).toEqual([a.id]);
    expect(after.filter((e) => e.type === 'deposit.invalid').map((e) => e.bidderId)).toEqual([b.id]);
    expect(after.filter((e) => e.type === 'section.opened')).toHaveLength(1);

    // Another tenderee sees none of it, only its own registration.
    const otherId = await w.tenderee();
    await relayEvents(rt.db);
    const other = await allEvents(await keyFor(rt, 'tenderee', { tendereeId: otherId }));
    expect(other.map((e) => [e.type, e.subject?.id])).toEqual([['tenderee.created', otherId]]);
  });

  it('pages in the order the events were recorded, with a cursor that never repeats or skips', async () => {
    const { section } = await scene();
    await open(section.id);
    await relayEvents(rt.db);
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId });
    const whole = await allEvents(tenderee);
    expect(whole.length).toBeGreaterThanOrEqual(5);
    const paged = await allEvents(tenderee, {}, 1);
    expect(paged.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    expect(new Set(paged.map((e) => e.id)).size).toBe(paged.length);
  });

  it('shows the centre and auditors every event, filtered by type', async () => {
    const { section } = await scene();
    await open(section.id);
    await relayEvents(rt.db);
    for (const key of [centre, await keyFor(rt, 'auditor')]) {
      const opened = await allEvents(key, { type: 'section.opened' });
      expect(opened.every((e) => e.type === 'section.opened')).toBe(true);
      expect(opened.filter((e) => e.subject?.id === section.id)).toHaveLength(1);
    }
  });

  it('scopes events by the deposit bank they concern, for the bank\'s own systems', async () => {
    const { a } = await scene();
    await relayEvents(rt.db);
    const byBank = await listEvents(rt.db, { kind: 'bank', bankId: bank.id }, { limit: 1000, types: ['deposit.valid'] });
    expect(byBank.map((e) => e.subject_id)).toContain(a.depositId);
    expect(byBank.every((e) => e.bank_id === bank.id)).toBe(true);
    const otherBank = await w.bank();
    await relayEvents(rt.db);
    expect((await listEvents(rt.db, { kind: 'bank', bankId: otherBank.id }, { limit: 10 })).map((e) => e.type)).toEqual(['bank.created']);
  });

  it('describes the feed, the endpoints and the statistics in the OpenAPI document', async () => {
    const doc = await request(app).get('/v1/openapi.json');
    expect(doc.body.paths['/v1/events'].get).toBeDefined();
    expect(doc.body.paths['/v1/webhook-endpoints'].post).toBeDefined();
    expect(doc.body.paths['/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/redeliver'].post).toBeDefined();
    expect(doc.body.paths['/v1/certificate'].get).toBeDefined();
    expect(doc.body.paths['/v1/statistics'].get).toBeDefined();
  });

  it('refuses a cursor or type it never gave, and callers without a role', async () => {
    const bad = await request(app).get('/v1/events').query({ cursor: 'evt_x' }).set(bearer(centre));
    expect([bad.status, bad.body.error.param]).toEqual([400, 'cursor']);
    const unknown = await request(app).get('/v1/events').query({ type: 'deposit.valid,deposit.eaten' }).set(bearer(centre));
    expect(unknown.status).toBe(400);
    expect((await request(app).get('/v1/events')).status).toBe(401);
  });
});

describe('the mapping from the audit log', () => {
  it('names every event type a neighbour expects', () => {
    for (const t of ['deposit.valid', 'deposit.invalid', 'deposit.reversed', 'guarantee.issued', 'guarantee.rejected', 'guarantee.amended', 'guarantee.released',
      'section.opened', 'refund.settled', 'refund.manual', 'refund.returned', 'reconciliation.completed', 'reconciliation.exception', 'webhook_endpoint.disabled']) {
      expect(eventTypes).toContain(t);
    }
  });

  it('makes a reconciliation with differences two events, a balanced one one', () => {
    const fact = (exceptions: number) => ({ action: 'reconciliation.created', entityType: 'reconciliation', entityId: 'rcn_1', data: { bankId: 'bnk_1', exceptions } });
    expect(eventsFor(fact(0)).map((e) => e.type)).toEqual(['reconciliation.completed']);
    expect(eventsFor(fact(2)).map((e) => e.type)).toEqual(['reconciliation.completed', 'reconciliation.exception']);
    expect(eventsFor({ action: 'voucher.signed', entityType: 'voucher', entityId: 'vch_1', data: {} })).toEqual([]);
  });

  it('writes amounts the log keeps in fen as the API does, in yuan', () => {
    const [e] = eventsFor({ action: 'guarantee.issued', entityType: 'guarantee', entityId: 'gty_1', data: { number: 'BG-1', amountFen: '5000000', failed: [] } });
    expect(e.data).toEqual({ number: 'BG-1', amount: '50000.00', failed: [] });
  });

  it('R18 tells of a termination without counting the bidders', () => {
    const [e] = eventsFor({ action: 'section.terminated', entityType: 'section', entityId: 'sec_1', data: { reason: '项目取消', refundIds: ['rfd_1', 'rfd_2'], releasedGuaranteeIds: ['gty_1'], total: '100000.00' } });
    expect(e).toMatchObject({ type: 'section.terminated', revealsBidders: false, data: { reason: '项目取消' } });
    expect(Object.keys(e.data)).toEqual(['reason']);
  });
});
