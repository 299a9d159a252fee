// Statistics for supervisors, checked against sections built through the API on a database of
// their own (so the totals are exactly this file's): bids secured by cash and by guarantee and
// the share of guarantees (保函替代率), guarantees by kind, deposits received, a refund paid
// under R11 with the days the money was held and its interest, a forfeiture and a claim paid,
// each equal to the records and the ledger.
import { inflateRawSync } from 'node:zlib';
import request from 'supertest';
import { businessDate, addCalendarDays } from '../../src/domain/time';
import { formatAmount } from '../../src/domain/money';
import { submitRefund } from '../../src/refunds/executor';
import { share } from '../../src/statistics/rules';
import { zip } from '../../src/statistics/xlsx';
import { bearer, keyFor, uniqueUscc } from '../support/runtime';
import { SandboxRefundWorld, customerBankCode, digits } from '../integration/refundsSandbox.support';
import { World } from './guaranteesFixtures';

let w: SandboxRefundWorld;
let g: World;
const today = businessDate(new Date());

beforeAll(async () => {
  w = await SandboxRefundWorld.start('statistics');
  g = await new World(w.rt, w.app).init();
});
afterAll(async () => {
  await w?.close();
});

const post = (path: string, body: unknown = {}) => request(w.app).post(path).set(bearer(w.centre)).send(body as object);

/** A bidder with an account at the sandbox bank, registered with it as its basic account. */
async function bidder() {
  const name = `路桥建设${digits(4)}有限公司`;
  const number = `62${digits(16)}`;
  const uscc = uniqueUscc();
  await w.bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: '100000.00' });
  const res = await post('/v1/bidders', { name, uscc, basicAccount: { bankCode: customerBankCode, number, name } });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, name, number, uscc };
}

interface Built {
  tendereeId: string;
  sectionId: string;
  cashBidder: string;
  bankIssuer: string;
  insuranceIssuer: string;
  refundId: string;
  forfeitTenderee: string;
}

let built: Built;

/** Section 1: one bidder pays ¥20,000 cash (held ten days), one brings a ¥30,000 bank guarantee,
 *  one a ¥20,000 insurance guarantee; opened; the insurer pays a ¥20,000 claim for false
 *  documents; the bank-guaranteed bidder wins and signs, and the cash is refunded (R11).
 *  Section 2: a ¥20,000 deposit forfeited after a withdrawal past the deadline (R10, R12). */
async function build(): Promise<Built> {
  const tenderee = { uscc: uniqueUscc(), name: '某市交通运输局' };
  const tendereeId = (await post('/v1/tenderees', tenderee)).body.id;
  const deadline = new Date(Date.now() + 3 * 86400e3);
  const section = await post('/v1/sections', {
    projectCode: `P-${digits(8)}`, sectionCode: 'S-1', name: '国道改建一标段', tendereeId, regime: 'tendering_law',
    estimatedPrice: '2000000.00', depositAmount: '20000.00', currency: 'CNY', bidDeadline: deadline.toISOString(), bidValidityDays: 90,
    depositBankId: w.bankId, acceptedSecurity: ['cash', 'bank', 'insurance'], guaranteeBankMatch: 'off',
  });
  expect(section.status).toBe(201);
  const sectionId = section.body.id;

  const cash = await bidder();
  const va = (await post(`/v1/sections/${sectionId}/deposit-accounts`, { bidderId: cash.id })).body.virtualAccount;
  await w.bankApi('POST', '/sandbox/transfers', { fromAccount: cash.number, toAccount: va, amount: '20000.00', remittance: '投标保证金' });
  const deposit = await waitForRow(() => w.rt.db('deposits').where({ section_id: sectionId, status: 'valid' }).first());
  await w.rt.db('credits').where({ id: deposit.credit_id }).update({ value_date: addCalendarDays(today, -10) });

  const bankIssuer = await g.issuer('bank');
  const insurer = await g.issuer('insurance');
  const secured: { bidderId: string; guaranteeId: string; number: string; issuer: typeof bankIssuer }[] = [];
  for (const [issuer, amount] of [[bankIssuer, '30000.00'], [insurer, '20000.00']] as const) {
    const b = await bidder();
    const scene = { issuer, tenderee, bidder: { id: b.id, uscc: b.uscc, name: b.name, bankCode: customerBankCode }, section: { id: sectionId, projectCode: section.body.projectCode, sectionCode: 'S-1', bidDeadline: deadline.toISOString(), bidValidityDays: 90 } };
    const body = g.issuance(scene as any, { amount });
    const res = await g.issue(issuer, body);
    expect([res.status, res.body.status]).toEqual([201, 'issued']);
    secured.push({ bidderId: b.id, guaranteeId: res.body.id, number: body.number as string, issuer });
  }

  await w.rt.db('sections').where({ id: sectionId }).update({ bid_deadline: new Date(Date.now() - 60_000) });
  expect((await post(`/v1/sections/${sectionId}/opening`)).status).toBe(201);

  const claim = await post(`/v1/guarantees/${secured[1].guaranteeId}/claims`, { reason: 'false_documents', amount: '20000.00' });
  expect(claim.status).toBeLessThan(300);
  const paid = await g.event(insurer, secured[1].number, { type: 'claim_paid', amount: '20000.00' });
  expect(paid.status).toBe(200);

  const now = Date.now();
  const award = await post(`/v1/sections/${sectionId}/award`, { winnerBidderId: secured[0].bidderId, evaluationReportAt: new Date(now - 30_000).toISOString(), noticeAt: new Date(now - 20_000).toISOString() });
  expect(award.status).toBeLessThan(300);
  const contract = await post(`/v1/sections/${sectionId}/contract`, { signedAt: new Date(now - 10_000).toISOString() });
  expect(contract.status).toBeLessThan(300);
  const refund = await waitForRow(() => w.rt.db('refunds').where({ deposit_id: deposit.id, reason: 'contract' }).first());
  // The trust account earns the interest the refund pays (R13) before the refund goes out.
  await w.bankApi('POST', '/sandbox/interest', { amount: '100.00' });
  await waitForRow(() => w.rt.db('audit_events').where({ action: 'bank.interest_credited' }).first());
  expect(await submitRefund(w.rt, refund.id)).toBe('sent');
  const attempt = await w.rt.db('refund_attempts').where({ refund_id: refund.id }).first();
  expect(await w.pollUntilFinal(attempt.id, 'the refund settled')).toBe('settled');

  // Section 2: the forfeiture.
  const lost = await w.depositPaid();
  await w.rt.db('sections').where({ id: lost.sectionId }).update({ bid_deadline: new Date(Date.now() - 60_000) });
  expect((await post(`/v1/sections/${lost.sectionId}/withdrawals`, { bidderId: lost.bidderId })).status).toBeLessThan(300);
  const forfeiture = await post(`/v1/sections/${lost.sectionId}/forfeitures`, { bidderId: lost.bidderId, reason: 'withdrawal_after_deadline' });
  expect(forfeiture.status).toBeLessThan(300);
  const forfeitTenderee = (await w.rt.db('sections').where({ id: lost.sectionId }).first()).tenderee_id;

  return { tendereeId, sectionId, cashBidder: cash.id, bankIssuer: bankIssuer.id, insuranceIssuer: insurer.id, refundId: refund.id, forfeitTenderee };
}

async function waitForRow<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for a row');
}

const stats = async (query: Record<string, string>, key = w.centre) => {
  const res = await request(w.app).get('/v1/statistics').query({ from: today, to: today, ...query }).set(bearer(key));
  expect(res.status).toBe(200);
  return res.body;
};

describe('statistics', () => {
  beforeAll(async () => {
    built = await build();
  }, 120_000);

  it('counts what the records and the ledger hold, for the whole period', async () => {
    const s = await stats({});
    const refund = await w.rt.db('refunds').where({ id: built.refundId }).first();
    expect(refund.status).toBe('settled');
    expect(s).toMatchObject({ object: 'statistics', from: today, to: today, groupBy: null, currency: 'CNY' });
    expect(s.totals).toEqual({
      sections: { created: 2, opened: 1, terminated: 0 },
      bids: {
        secured: 3,
        cash: { count: 1, amount: '20000.00' },
        guarantee: { count: 2, amount: '50000.00' },
        guaranteeShare: { byCount: '0.6667', byAmount: '0.7143' },
      },
      guarantees: { bank: { count: 1, amount: '30000.00' }, insurance: { count: 1, amount: '20000.00' }, guarantor: { count: 0, amount: '0.00' }, rejected: 0 },
      deposits: { received: { count: 2, amount: '40000.00' } },
      refunds: {
        paid: { count: 1, amount: '20000.00' },
        interestPaid: formatAmount(refund.interest_fen),
        lateFeesPaid: '0.00',
        onTime: 1,
        late: 0,
        r11: { onTime: 1, late: 0 },
        daysHeld: { mean: '10.0', p95: '10.0' },
      },
      forfeitures: { count: 1, amount: '20000.00' },
      claimsPaid: { count: 1, amount: '20000.00' },
    });
    expect(refund.interest_fen).toBeGreaterThan(0n);

    // The same money in the ledger: credits into deposits, interest paid out, forfeiture owed.
    const sum = async (q: any) => BigInt((await q.sum({ s: 'p.amount_fen' }))[0].s ?? 0);
    const credited = await sum(w.rt.db('postings as p').join('journals as j', 'j.id', 'p.journal_id').where('j.kind', 'credit').where('p.account', 'like', 'deposit:%'));
    expect(formatAmount(-credited)).toBe(s.totals.deposits.received.amount);
    const forfeit = await sum(w.rt.db('postings as p').where('p.account', 'like', 'section:%:forfeit'));
    expect(formatAmount(-forfeit)).toBe(s.totals.forfeitures.amount);
  });

  it('groups by month, tenderee, bank, issuer and regime, with totals that do not depend on the grouping', async () => {
    const byMonth = await stats({ groupBy: 'month' });
    expect(byMonth.groups.map((x: any) => x.key)).toEqual([today.slice(0, 7)]);
    const { key: _k, name: _n, ...monthFigures } = byMonth.groups[0];
    expect(monthFigures).toEqual(byMonth.totals);

    const byTenderee = await stats({ groupBy: 'tenderee' });
    const t1 = byTenderee.groups.find((x: any) => x.key === built.tendereeId);
    const t2 = byTenderee.groups.find((x: any) => x.key === built.forfeitTenderee);
    expect(t1).toMatchObject({ name: '某市交通运输局', sections: { created: 1, opened: 1 }, bids: { secured: 3 }, forfeitures: { count: 0 }, deposits: { received: { count: 1, amount: '20000.00' } } });
    expect(t2).toMatchObject({ sections: { created: 1, opened: 0 }, bids: { secured: 0, guaranteeShare: { byCount: null } }, forfeitures: { count: 1, amount: '20000.00' } });

    const byIssuer = await stats({ groupBy: 'issuer' });
    const keyed = Object.fromEntries(byIssuer.groups.map((x: any) => [x.key ?? 'none', x]));
    expect(keyed[built.bankIssuer]).toMatchObject({ bids: { guarantee: { count: 1, amount: '30000.00' } }, guarantees: { bank: { count: 1 } } });
    expect(keyed[built.insuranceIssuer]).toMatchObject({ bids: { guarantee: { count: 1, amount: '20000.00' } }, claimsPaid: { count: 1, amount: '20000.00' } });
    // What belongs to no issuer (cash) is its own group, last.
    expect(byIssuer.groups[byIssuer.groups.length - 1]).toMatchObject({ key: null, bids: { cash: { count: 1 } }, deposits: { received: { count: 2 } } });
    expect(byIssuer.totals).toEqual(byMonth.totals);

    const byBank = await stats({ groupBy: 'bank' });
    expect(byBank.groups.map((x: any) => [x.key, x.name])).toEqual([[w.bankId, '沙箱银行']]);
    const byRegime = await stats({ groupBy: 'regime' });
    expect(byRegime.groups.map((x: any) => x.key)).toEqual(['tendering_law']);
  });

  it('counts nothing outside the period', async () => {
    const s = await stats({ from: addCalendarDays(today, -40), to: addCalendarDays(today, -11) });
    expect(s.totals.bids.secured).toBe(0);
    expect(s.totals.deposits.received).toEqual({ count: 0, amount: '0.00' });
    expect(s.totals.refunds.daysHeld).toEqual({ mean: null, p95: null });
  });

  it('answers the centre and auditors only, and refuses a malformed or reversed period', async () => {
    await stats({}, await keyFor(w.rt, 'auditor'));
    const bidder = await keyFor(w.rt, 'bidder', { bidderId: built.cashBidder });
    expect((await request(w.app).get('/v1/statistics').query({ from: today, to: today }).set(bearer(bidder))).status).toBe(404);
    const reversed = await request(w.app).get('/v1/statistics').query({ from: today, to: addCalendarDays(today, -1) }).set(bearer(w.centre));
    expect([reversed.status, reversed.body.error.code]).toEqual([400, 'invalid_period']);
    const bad = await request(w.app).get('/v1/statistics').query({ from: '2026-02-30', to: today }).set(bearer(w.centre));
    expect(bad.status).toBe(400);
    const group = await request(w.app).get('/v1/statistics').query({ from: today, to: today, groupBy: 'colour' }).set(bearer(w.centre));
    expect(group.status).toBe(400);
  });

  it('writes the same figures as a spreadsheet', async () => {
    const res = await request(w.app).get('/v1/statistics').query({ from: today, to: today, groupBy: 'tenderee', format: 'xlsx' }).set(bearer(w.centre))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const files = unzip(res.body as Buffer);
    expect(Object.keys(files).sort()).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']);
    const sheet = files['xl/worksheets/sheet1.xml'];
    expect(sheet).toContain('某市交通运输局');
    expect(sheet).toContain('<v>0.6667</v>');
    expect(sheet).toContain('<v>50000.00</v>');
    expect(sheet).toContain('Total 合计');
    const byPath = await request(w.app).get('/v1/statistics.xlsx').query({ from: today, to: today }).set(bearer(w.centre)).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect([byPath.status, byPath.headers['content-type']]).toEqual([200, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']);
    expect(unzip(byPath.body as Buffer)['xl/worksheets/sheet1.xml']).toContain('<v>0.7143</v>');
  });
});

describe('shares', () => {
  it('round half up to four places and have no value without a whole', () => {
    expect(share(2n, 3n)).toBe('0.6667');
    expect(share(1n, 3n)).toBe('0.3333');
    expect(share(1n, 8n)).toBe('0.1250');
    expect(share(1n, 16n)).toBe('0.0625');
    expect(share(1n, 20000n)).toBe('0.0001');
    expect(share(1n, 20001n)).toBe('0.0000');
    expect(share(3n, 3n)).toBe('1.0000');
    expect(share(0n, 0n)).toBeNull();
  });

  it('zips what it is given so that a ZIP reader gets it back', () => {
    const files = unzip(zip([{ name: 'a.txt', data: Buffer.from('甲乙丙'.repeat(100)) }, { name: 'b/c.xml', data: Buffer.from('<x/>') }]));
    expect(files).toEqual({ 'a.txt': '甲乙丙'.repeat(100), 'b/c.xml': '<x/>' });
  });
});

/** Reads a ZIP the way a spreadsheet program does: from the central directory. */
function unzip(bytes: Buffer): Record<string, string> {
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    expect(bytes.readUInt32LE(at)).toBe(0x02014b50);
    const compressed = bytes.readUInt32LE(at + 20);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extra = bytes.readUInt16LE(at + 30);
    const comment = bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    out[name] = inflateRawSync(bytes.subarray(dataAt, dataAt + compressed)).toString('utf8');
    at += 46 + nameLength + extra + comment;
  }
  return out;
}
