// The opening of a section with every kind of bidder the roster can show: cash secured (once,
// topped up, with an excess), a guarantee secured (alone, beside cash, beside a rejected one),
// late (R3), from another account (R5), short at the deadline (R4), held on a date-only booking
// (R3), withdrawn (R9), a rejected guarantee, an account and nothing else. The roster, its
// voucher request and its audit event are what the centre, the bidders and the record see.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import { addCalendarDays, businessDate, toBusinessDate } from '../../src/domain/time';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from '../api/deposits.support';
import { World, unique, type TestIssuer } from '../api/guaranteesFixtures';
import * as sectionsRepo from '../../src/sections/repo';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let g: World;
let bank: Bank;
let centre: string;
let issuer: TestIssuer;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  w = new DepositWorld(rt, app, centre);
  g = await new World(rt, app).init();
  bank = await w.bank();
  issuer = await g.issuer('guarantor');
});
afterAll(async () => {
  await rt.close();
});

const post = (path: string, body: unknown = {}, key = centre) => request(app).post(path).set(bearer(key)).send(body as object);
const get = (path: string, key = centre) => request(app).get(path).set(bearer(key));

interface Party {
  id: string;
  uscc: string;
  name: string;
  account: { bankCode: string; number: string; name: string };
  va: string;
}

/** A section taking cash and guarantor guarantees, its tenderee, and a way to add bidders. */
async function sectionWithEveryone() {
  const tenderee = { uscc: uniqueUscc(), name: '某市住建局' };
  const t = await post('/v1/tenderees', tenderee);
  expect(t.status).toBe(201);
  const created = await post('/v1/sections', {
    projectCode: unique('P'), sectionCode: unique('S'), name: '道路改造工程一标段', tendereeId: t.body.id, regime: 'tendering_law',
    estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 7 * 86400e3).toISOString(),
    bidValidityDays: 90, depositBankId: bank.id, acceptedSecurity: ['cash', 'guarantor'],
  });
  expect(created.status).toBe(201);
  const section = created.body as { id: string; projectCode: string; sectionCode: string; bidDeadline: string; bidValidityDays: number };

  async function bidder(label: string): Promise<Party> {
    const name = `${label}建设有限公司${randomDigits(4)}`;
    const account = { bankCode: bankCode('102', '1000', randomDigits(4)), number: `62${randomDigits(17)}`, name };
    const uscc = uniqueUscc();
    const res = await post('/v1/bidders', { name, uscc, basicAccount: account });
    expect(res.status).toBe(201);
    const va = await w.virtualAccount(section.id, res.body.id);
    return { id: res.body.id, uscc, name, account, va };
  }
  async function pay(p: Party, amount: string, opts: { from?: { name: string; number: string } } = {}): Promise<string> {
    const res = await w.notify(bank, jsonNotification([entry(p.va, amount, opts.from ?? { name: p.account.name, number: p.account.number })]));
    expect([res.status, res.body.accepted]).toEqual([200, 1]);
    return res.body.depositIds[0];
  }
  /** A date-only booking on `bookedOn`, notified now (R3 cannot tell when it was booked). */
  async function payDateOnly(p: Party, bookedOn: string, amount = '50000.00'): Promise<string> {
    const credit = {
      entryRef: `D${randomDigits(12)}`, virtualAccount: p.va, amountFen: BigInt(amount.replace('.', '')), currency: 'CNY',
      bookedAt: new Date(`${bookedOn}T00:00:00+08:00`).toISOString(), bookingDateOnly: true, valueDate: bookedOn,
      debtor: { name: p.account.name, accountNumber: p.account.number, bankCode: '102100099996' }, remittance: '投标保证金',
    };
    const xml = buildCamt054({ messageId: `M${randomDigits(14)}`, createdAt: new Date(), account: p.va, credits: [credit] });
    const res = await w.notify(bank, xml, 'application/xml');
    expect([res.status, res.body.accepted]).toEqual([200, 1]);
    return res.body.depositIds[0];
  }
  async function guarantee(p: Party, amount = '50000.00'): Promise<{ id: string; number: string; status: string }> {
    const deadlineDate = toBusinessDate(section.bidDeadline);
    const res = await g.issue(issuer, {
      eventId: unique('evt'), number: unique('GG'), kind: 'guarantor',
      applicant: { uscc: p.uscc, name: p.name }, beneficiary: tenderee,
      projectCode: section.projectCode, sectionCode: section.sectionCode, amount, currency: 'CNY',
      validFrom: toBusinessDate(new Date()), validTo: addCalendarDays(deadlineDate, section.bidValidityDays + 30),
      issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: randomDigits(64).replace(/[^0-9a-f]/g, '0'),
    });
    expect(res.status).toBe(201);
    return { id: res.body.id, number: res.body.number, status: res.body.status };
  }
  return { section, tendereeId: t.body.id as string, bidder, pay, payDateOnly, guarantee };
}

/** A bid deadline that has just passed, earlier today in Beijing: a date-only booking today,
 *  notified after it, is then one R3 cannot decide. */
function deadlineJustPassed(): Date {
  const now = Date.now();
  const startOfToday = new Date(`${businessDate(new Date(now))}T00:00:00+08:00`).getTime();
  return new Date(Math.max(startOfToday + 1, now - 30_000));
}
const setDeadline = (sectionId: string, at: Date) => rt.db('sections').where({ id: sectionId }).update({ bid_deadline: at });

/** Every verdict the roster can give, reached through the API as bidders and banks would. */
async function everyVerdict() {
  const s = await sectionWithEveryone();
  const b = {
    cash: await s.bidder('现金'),
    toppedUp: await s.bidder('补足'),
    excess: await s.bidder('多缴'),
    guaranteed: await s.bidder('保函'),
    guaranteeAndCash: await s.bidder('双保'),
    rejectedThenCash: await s.bidder('拒函现金'),
    late: await s.bidder('迟到'),
    otherAccount: await s.bidder('他户'),
    short: await s.bidder('不足'),
    held: await s.bidder('待定'),
    heldAndOtherAccount: await s.bidder('待定他户'),
    withdrawn: await s.bidder('撤回'),
    rejectedGuarantee: await s.bidder('拒函'),
    rejectedAndShort: await s.bidder('拒函不足'),
    accountOnly: await s.bidder('开户'),
  };
  const deposits: Record<string, string[]> = {};
  const guarantees: Record<string, { id: string; number: string; status: string }> = {};
  deposits.cash = [await s.pay(b.cash, '50000.00')];
  deposits.toppedUp = [await s.pay(b.toppedUp, '30000.00'), await s.pay(b.toppedUp, '20000.00')];
  deposits.excess = [await s.pay(b.excess, '80000.00')];
  guarantees.guaranteed = await s.guarantee(b.guaranteed);
  guarantees.guaranteeAndCash = await s.guarantee(b.guaranteeAndCash);
  deposits.guaranteeAndCash = [await s.pay(b.guaranteeAndCash, '50000.00')];
  guarantees.rejectedThenCash = await s.guarantee(b.rejectedThenCash, '30000.00');
  deposits.rejectedThenCash = [await s.pay(b.rejectedThenCash, '50000.00')];
  deposits.otherAccount = [await s.pay(b.otherAccount, '50000.00', { from: { name: '另一家公司', number: `62${randomDigits(17)}` } })];
  deposits.short = [await s.pay(b.short, '30000.00')];
  deposits.heldAndOtherAccount = [await s.pay(b.heldAndOtherAccount, '50000.00', { from: { name: '另一家公司', number: `62${randomDigits(17)}` } })];
  deposits.withdrawn = [await s.pay(b.withdrawn, '50000.00')];
  expect((await post(`/v1/sections/${s.section.id}/withdrawals`, { bidderId: b.withdrawn.id })).status).toBe(201);
  guarantees.rejectedGuarantee = await s.guarantee(b.rejectedGuarantee, '30000.00');
  guarantees.rejectedAndShort = await s.guarantee(b.rejectedAndShort, '30000.00');
  deposits.rejectedAndShort = [await s.pay(b.rejectedAndShort, '20000.00')];
  for (const k of ['guaranteed', 'guaranteeAndCash']) expect(guarantees[k].status).toBe('issued');
  for (const k of ['rejectedThenCash', 'rejectedGuarantee', 'rejectedAndShort']) expect(guarantees[k].status).toBe('rejected');

  const deadline = deadlineJustPassed();
  await setDeadline(s.section.id, deadline);
  deposits.late = [await s.pay(b.late, '50000.00')];
  deposits.held = [await s.payDateOnly(b.held, businessDate(deadline))];
  deposits.heldAndOtherAccount.push(await s.payDateOnly(b.heldAndOtherAccount, businessDate(deadline)));
  return { ...s, b, deposits, guarantees };
}

describe('opening roster', () => {
  it('R3 R4 R5 R8 R9 shows every bidder with the verdict on its security, in one roster with its voucher to come', async () => {
    const { section, b, deposits, guarantees } = await everyVerdict();
    const res = await post(`/v1/sections/${section.id}/opening`);
    expect(res.status).toBe(201);
    const byBidder = new Map<string, Record<string, unknown>>(res.body.entries.map((e: { bidderId: string }) => [e.bidderId, e]));
    const ids = Object.values(b).map((p) => p.id);
    expect(res.body.entries.map((e: { bidderId: string }) => e.bidderId)).toEqual([...ids].sort());
    const expected: Record<keyof typeof b, Record<string, unknown>> = {
      cash: { security: 'cash', status: 'secured', rules: ['R4', 'R8'], amount: '50000.00', depositIds: deposits.cash, guaranteeId: null },
      toppedUp: { security: 'cash', status: 'secured', rules: ['R4', 'R8'], amount: '50000.00', depositIds: [...deposits.toppedUp].sort(), guaranteeId: null },
      excess: { security: 'cash', status: 'secured', rules: ['R4', 'R8'], amount: '50000.00', depositIds: deposits.excess, guaranteeId: null },
      guaranteed: { security: 'guarantee', status: 'secured', rules: ['R8'], amount: '50000.00', depositIds: [], guaranteeId: guarantees.guaranteed.id },
      guaranteeAndCash: { security: 'guarantee', status: 'secured', rules: ['R8'], amount: '50000.00', depositIds: deposits.guaranteeAndCash, guaranteeId: guarantees.guaranteeAndCash.id },
      rejectedThenCash: { security: 'cash', status: 'secured', rules: ['R4', 'R8'], amount: '50000.00', depositIds: deposits.rejectedThenCash, guaranteeId: guarantees.rejectedThenCash.id },
      late: { security: 'cash', status: 'invalid', rules: ['R3'], amount: null, depositIds: deposits.late, guaranteeId: null },
      otherAccount: { security: 'cash', status: 'invalid', rules: ['R5'], amount: null, depositIds: deposits.otherAccount, guaranteeId: null },
      short: { security: 'cash', status: 'invalid', rules: ['R4'], amount: null, depositIds: deposits.short, guaranteeId: null },
      held: { security: 'cash', status: 'insufficient', rules: ['R3'], amount: '0.00', depositIds: deposits.held, guaranteeId: null },
      heldAndOtherAccount: { security: 'cash', status: 'insufficient', rules: ['R3'], amount: '0.00', depositIds: [...deposits.heldAndOtherAccount].sort(), guaranteeId: null },
      withdrawn: { security: null, status: 'missing', rules: ['R9'], amount: null, depositIds: deposits.withdrawn, guaranteeId: null },
      rejectedGuarantee: { security: 'guarantee', status: 'invalid', rules: ['R4'], amount: null, depositIds: [], guaranteeId: guarantees.rejectedGuarantee.id },
      rejectedAndShort: { security: 'cash', status: 'invalid', rules: ['R4'], amount: null, depositIds: deposits.rejectedAndShort, guaranteeId: guarantees.rejectedAndShort.id },
      accountOnly: { security: null, status: 'missing', rules: [], amount: null, depositIds: [], guaranteeId: null },
    };
    for (const [k, p] of Object.entries(b)) {
      // Nobody here holds a credit grade, so nobody is exempt.
      expect({ who: k, ...byBidder.get(p.id) }).toEqual({ who: k, bidderId: p.id, name: p.name, uscc: p.uscc, creditExemption: null, ...expected[k as keyof typeof b] });
    }

    // The roster on record is the one answered; its voucher is requested, not yet rendered.
    const stored = await rt.db('rosters').where({ section_id: section.id });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: res.body.id, voucher_id: res.body.voucherId });
    expect((await get(`/v1/sections/${section.id}/roster`)).body).toEqual(res.body);
    const voucher = await rt.db('vouchers').where({ id: res.body.voucherId }).first();
    expect(voucher).toMatchObject({ kind: 'opening_roster', subject_type: 'roster', subject_id: res.body.id, section_id: section.id, status: 'pending' });
    expect(voucher.pdf).toBeNull();
    expect(await rt.db('outbox').where({ queue: 'vouchers', job_id: `render.${res.body.voucherId}` })).toHaveLength(1);
    const printed = new Map<string, Record<string, unknown>>(voucher.data.entries.map((e: { bidder: { uscc: string } }) => [e.bidder.uscc, e]));
    expect(voucher.data).toMatchObject({ bidDeadline: expect.any(String), openedAt: res.body.openedAt, requiredDepositFen: '5000000' });
    expect(voucher.data.entries).toHaveLength(Object.keys(b).length);
    expect(printed.get(b.cash.uscc)).toEqual({ bidder: { name: b.cash.name, uscc: b.cash.uscc }, security: 'cash', status: 'secured', amountFen: '5000000', reference: deposits.cash[0], rules: ['R4', 'R8'] });
    expect(printed.get(b.toppedUp.uscc)).toMatchObject({ reference: [...deposits.toppedUp].sort().join(', ') });
    expect(printed.get(b.guaranteed.uscc)).toEqual({ bidder: { name: b.guaranteed.name, uscc: b.guaranteed.uscc }, security: 'guarantee', status: 'secured', amountFen: '5000000', reference: guarantees.guaranteed.number, rules: ['R8'] });
    expect(printed.get(b.held.uscc)).toEqual({ bidder: { name: b.held.name, uscc: b.held.uscc }, security: 'cash', status: 'insufficient', amountFen: '0', reference: deposits.held[0], rules: ['R3'] });
    expect(printed.get(b.accountOnly.uscc)).toEqual({ bidder: { name: b.accountOnly.name, uscc: b.accountOnly.uscc }, security: 'none', status: 'missing', rules: [] });
    expect(printed.get(b.rejectedGuarantee.uscc)).toEqual({ bidder: { name: b.rejectedGuarantee.name, uscc: b.rejectedGuarantee.uscc }, security: 'guarantee', status: 'invalid', reference: guarantees.rejectedGuarantee.number, rules: ['R4'] });

    // What the opening changed beside the roster: guarantees secured, the short credit returned.
    const gStatus = async (id: string) => (await rt.db('guarantees').where({ id }).first()).status;
    expect(await gStatus(guarantees.guaranteed.id)).toBe('secured');
    expect(await gStatus(guarantees.guaranteeAndCash.id)).toBe('secured');
    expect(await gStatus(guarantees.rejectedGuarantee.id)).toBe('rejected');
    expect((await rt.db('deposits').where({ id: deposits.short[0] }).first()).status).toBe('invalid');
    expect(await rt.db('refunds').where({ deposit_id: deposits.short[0] })).toEqual([expect.objectContaining({ reason: 'invalid', principal_fen: 3000000n })]);
    expect((await rt.db('deposits').where({ id: deposits.held[0] }).first()).status).toBe('held');
    const [audit] = await rt.db('audit_events').where({ action: 'section.opened', entity_id: section.id });
    const secured = ['cash', 'toppedUp', 'excess', 'guaranteed', 'guaranteeAndCash', 'rejectedThenCash'].map((k) => b[k as keyof typeof b].id).sort();
    expect(audit.data).toEqual({ rosterId: res.body.id, voucherId: res.body.voucherId, secured, bidders: Object.keys(b).length });
    expect((await rt.db('sections').where({ id: section.id }).first()).status).toBe('opened');
  });

  it('opens once when the centre sends the opening twice at the same moment', async () => {
    const s = await sectionWithEveryone();
    const p = await s.bidder('并发');
    await s.pay(p, '50000.00');
    await setDeadline(s.section.id, new Date(Date.now() - 1000));
    const [one, two] = await Promise.all([post(`/v1/sections/${s.section.id}/opening`), post(`/v1/sections/${s.section.id}/opening`)]);
    expect([one.status, two.status].sort()).toEqual([201, 409]);
    const loser = one.status === 409 ? one : two;
    expect(loser.body.error.code).toBe('illegal_transition');
    expect(await rt.db('rosters').where({ section_id: s.section.id })).toHaveLength(1);
    expect(await rt.db('vouchers').where({ kind: 'opening_roster', section_id: s.section.id })).toHaveLength(1);
    expect(await rt.db('audit_events').where({ action: 'section.opened', entity_id: s.section.id })).toHaveLength(1);
  });

  it('a section with more bidders than one roster holds is refused whole with a clear error, not cut short', async () => {
    const s = await sectionWithEveryone();
    for (const label of ['甲', '乙']) await s.pay(await s.bidder(label), '50000.00');
    const read = await rt.db.transaction((tx) => sectionsRepo.rosterBidders(tx, s.section.id, 1).then(() => undefined, (e: unknown) => e));
    expect(read).toMatchObject({ status: 422, code: 'section_too_large' });
    expect(String((read as Error).message)).toContain('more than 1 bidders');
    await expect(rt.db.transaction((tx) => sectionsRepo.rosterBidders(tx, s.section.id, 2))).resolves.toHaveLength(2);
  });

  it('R18 tells the tenderee nothing of who secured its section before the opening, and shows the roster after it', async () => {
    const s = await sectionWithEveryone();
    const paid = await s.bidder('保密');
    const depositId = await s.pay(paid, '50000.00');
    const guaranteed = await s.bidder('保密函');
    const gt = await s.guarantee(guaranteed);
    const tenderee = await keyFor(rt, 'tenderee', { tendereeId: s.tendereeId });
    expect((await get(`/v1/sections/${s.section.id}/roster`, tenderee)).status).toBe(404);
    expect((await get(`/v1/deposits?sectionId=${s.section.id}`, tenderee)).body.data).toEqual([]);
    expect((await get(`/v1/deposits/${depositId}`, tenderee)).status).toBe(404);
    expect((await get(`/v1/guarantees?sectionId=${s.section.id}`, tenderee)).body.data ?? []).toEqual([]);
    expect((await get(`/v1/guarantees/${gt.id}`, tenderee)).status).toBe(404);
    await setDeadline(s.section.id, new Date(Date.now() - 1000));
    expect((await post(`/v1/sections/${s.section.id}/opening`)).status).toBe(201);
    const seen = await get(`/v1/sections/${s.section.id}/roster`, tenderee);
    expect(seen.status).toBe(200);
    expect(seen.body.entries.map((e: { bidderId: string; status: string }) => [e.bidderId, e.status]).sort()).toEqual([[paid.id, 'secured'], [guaranteed.id, 'secured']].sort());
  });
});
