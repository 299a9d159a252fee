// Bank messages in the shapes real banks send (test/fixtures/banks: camt .001.06 to .001.13,
// prefixed namespaces, Othr/Id with SchmeNm, amounts without decimals, proprietary transaction
// codes, NtryRef-numbered batches, foreign currencies, accounts that are not ours, returns),
// signed and sent to the notification endpoint or uploaded as statements, and what the money
// comes to: each bidder's deposit to the fen, no suspense, no yuan that was not yuan, every
// entry we cannot book an exception for the centre, and /metrics counting what was ignored.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';
import { DepositWorld, entry, everyPage, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { World } from './guaranteesFixtures';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import type { CreditEntry } from '../../src/banks/types';
import { notificationInlineEntriesMax } from '../../src/deposits/notifications';
import { processStoredNotification } from '../../src/deposits/notificationJobs';
import { businessDate } from '../../src/domain/time';

const fixturesDir = path.resolve(__dirname, '../fixtures/banks');
const fixture = (name: string) => readFileSync(path.join(fixturesDir, name), 'utf8');

let rt: Runtime;
let app: Express;
let w: DepositWorld;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
});
afterAll(async () => {
  await rt.close();
});

/** The file as this bank would send it: each account and payer number of the file replaced by
 *  the one of this test's parties (a whole element's text, never part of a longer number). */
function asSentBy(xml: string, accounts: Record<string, string>): string {
  let out = xml;
  for (const [from, to] of Object.entries(accounts)) {
    expect(out).toContain(`>${from}<`);
    out = out.split(`>${from}<`).join(`>${to}<`);
  }
  return out;
}

async function trustOf(bank: Bank): Promise<string> {
  const res = await request(app).get(`/v1/banks/${bank.id}`).set(bearer(w.centre));
  expect(res.status).toBe(200);
  return res.body.trustAccount.number as string;
}

/** A bidder named as the file's payer, paying from its own basic account, with a sub-account on
 *  `sectionId`. */
async function payer(sectionId: string, name: string) {
  const bidder = await w.bidder({ name, number: `62${randomDigits(17)}` });
  return { id: bidder.id, number: bidder.account.number, va: await w.virtualAccount(sectionId, bidder.id) };
}

const ignoredNotOurs = async () => (await rt.metrics.notificationEntriesIgnored.get()).values.filter((v) => v.labels.reason === 'not_our_account').reduce((n, v) => n + v.value, 0);

async function depositsOf(sectionId: string) {
  const res = await request(app).get(`/v1/deposits?sectionId=${sectionId}&limit=100`).set(bearer(w.centre));
  expect(res.status).toBe(200);
  return res.body.data as { id: string; status: string; bidderId: string; amount: string; excess: string; secured: string; currency: string; credit: { entryRef: string; bookingDateOnly: boolean } }[];
}

async function exceptionsOf(bank: Bank, kind?: string) {
  const res = await request(app).get(`/v1/bank-exceptions?bankId=${bank.id}&limit=100${kind ? `&kind=${kind}` : ''}`).set(bearer(w.centre));
  expect(res.status).toBe(200);
  return res.body.data as { kind: string; status: string; entryRef: string; amount: string | null; currency: string | null; detail: string }[];
}

async function suspenseOf(bank: Bank) {
  return (await everyPage<{ bankId: string }>(app, w.centre, '/v1/deposits?status=suspense')).filter((d) => d.bankId === bank.id);
}

/** The trust account in the ledger; every journal balances. */
async function trustBalance(bank: Bank): Promise<bigint> {
  const [{ total }] = await rt.db('postings').where({ account: `bank:${bank.id}:trust` }).sum({ total: 'amount_fen' });
  expect(await rt.db('postings').groupBy('journal_id').havingRaw('sum(amount_fen) <> 0').select('journal_id')).toEqual([]);
  return BigInt(total ?? 0);
}

const creditRefs = async (bank: Bank) => (await rt.db('credits').where({ bank_id: bank.id }).orderBy('entry_ref').pluck('entry_ref')) as string[];

function upload(bank: Bank, xml: string) {
  return request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(w.centre)).set('Content-Type', 'application/xml').send(xml);
}

async function report(id: string) {
  const res = await request(app).get(`/v1/reconciliations/${id}?linesLimit=100`).set(bearer(w.centre));
  expect(res.status).toBe(200);
  return res.body as { matched: { recovered: number }; lines: { data: { entryRef: string; result: string; detail: string | null }[] }; exceptions: { data: { kind: string; entryRef: string; status: string; detail: string }[] } };
}

describe('R15 R4 notifications in the shapes banks send: exactly what is ours is booked, to the fen', () => {
  test('camt.054.001.06: "1500" and "1500.5", Othr/Id with SchmeNm, proprietary codes, a batch numbered by NtryRef, a date-only booking', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id, { depositAmount: '1500.00' });
    const big = await w.section(bank.id, { depositAmount: '20000.10' });
    const a = await payer(section.id, '浙江交工集团股份有限公司');
    const b = await payer(section.id, '宁波建工工程集团有限公司');
    const c = await payer(big.id, '温州市政工程建设开发有限公司');
    const xml = asSentBy(fixture('camt054.001.06-othrid-ntryref.xml'), {
      '98010078801600001234': trust,
      '98010078801600001234101': a.va, '1202020209900012345': a.number,
      '98010078801600001234102': b.va, '3901110009000054321': b.number,
      '98010078801600001234103': c.va, '33050162712700001111': c.number,
      '98010078801600001234104': `${bank.prefix}9999999`,
    });
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(200);
    // Four bookings: the batch's three (the third told from the first by its NtryRef alone) and
    // the date-only one; the word-for-word repeat, the pending credit and the fee are not.
    expect(res.body).toMatchObject({ accepted: 4, duplicates: 0, ignored: 3, ignoredReasons: { notOurAccount: 0 }, reversals: 0, exceptions: 0 });
    expect(res.body.depositIds).toHaveLength(4);

    const deposits = await depositsOf(section.id);
    const byRef = new Map(deposits.map((d) => [d.credit.entryRef, d]));
    expect(byRef.get('SPDB2504020915B0007')).toMatchObject({ bidderId: a.id, status: 'valid', amount: '1500.00', excess: '0.00', secured: '1500.00', currency: 'CNY' });
    expect(byRef.get('SPDB2504020915B0007/0002')).toMatchObject({ bidderId: b.id, status: 'valid', amount: '1500.50', excess: '0.50', secured: '1500.00' });
    // The first payer paid twice: the second 1,500.00 is all excess, owed back, never dropped.
    expect(byRef.get('SPDB2504020915B0007/0003')).toMatchObject({ bidderId: a.id, amount: '1500.00', excess: '1500.00' });
    expect(deposits).toHaveLength(3);
    const [dateOnly] = await depositsOf(big.id);
    expect(dateOnly).toMatchObject({ bidderId: c.id, status: 'valid', amount: '20000.10', excess: '0.00', credit: { entryRef: 'SPDB2504020000D0011', bookingDateOnly: true } });
    expect(await creditRefs(bank)).toEqual(['SPDB2504020000D0011', 'SPDB2504020915B0007', 'SPDB2504020915B0007/0002', 'SPDB2504020915B0007/0003']);

    // The same file again under another message id: every booking is on record, none twice.
    const again = await w.notify(bank, xml.replace('<MsgId>SPDB-NTF-20250402-000318</MsgId>', '<MsgId>SPDB-NTF-20250402-000319</MsgId>'), 'application/xml');
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 4, exceptions: 0 });
    expect(await suspenseOf(bank)).toEqual([]);
    await w.expectLedgerConsistent(bank.id);
  });

  test('camt.054.001.10 with a prefix: USD and CHF held for the centre as the bank said, accounts not ours ignored with a reason and counted, a return recognised', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id);
    const usd = await payer(section.id, 'Harbour Engineering (HK) Ltd');
    const chf = await payer(section.id, 'Alpen Tunnelbau AG');
    const cny = await payer(section.id, '中交第四航务工程局有限公司');
    const xml = asSentBy(fixture('camt054.001.10-prefixed-foreign-notours.xml'), {
      '755912345610801': trust,
      '755912345610801201': usd.va, '012875001234567': usd.number,
      '755912345610801202': chf.va,
      '755912345610801203': cny.va, '3602000109000123456': cny.number,
    });
    const notOursBefore = await ignoredNotOurs();
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(200);
    // The deposit; USD, CHF and the return (which names no refund of ours) for a person; the two
    // credits to accounts that are not this bank's trust account or its sub-accounts ignored.
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 0, ignored: 2, ignoredReasons: { notOurAccount: 2 }, reversals: 0, exceptions: 3 });
    expect(await ignoredNotOurs()).toBe(notOursBefore + 2);

    const deposits = await depositsOf(section.id);
    expect(deposits).toHaveLength(1);
    expect(deposits[0]).toMatchObject({ bidderId: cny.id, status: 'valid', amount: '50000.00', currency: 'CNY', credit: { entryRef: 'CMB250415104012D06' } });
    const foreign = (await exceptionsOf(bank, 'foreign_currency')).map((x) => [x.entryRef, x.currency, x.amount, x.status]).sort();
    expect(foreign).toEqual([
      ['CMB250415103107U01', 'USD', '1500.00', 'open'],
      ['CMB250415103340C02', 'CHF', '2500.55', 'open'],
    ]);
    const returns = await exceptionsOf(bank, 'return_unmatched');
    expect(returns.map((x) => [x.entryRef, x.amount, x.currency])).toEqual([['CMB250415103821R05', '30000.00', 'CNY']]);
    expect(returns[0].detail).toContain('RFD-dep01JRB7K2QX-1');
    // Nothing of the foreign money or of the other accounts is in the ledger or in suspense.
    expect(await creditRefs(bank)).toEqual(['CMB250415103821R05', 'CMB250415104012D06']);
    expect(await suspenseOf(bank)).toEqual([]);

    // The bank sends the message again: the first answer, and nothing counted twice.
    const replay = await w.notify(bank, xml, 'application/xml');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await ignoredNotOurs()).toBe(notOursBefore + 2);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/^bidbond_notification_entries_ignored_total\{reason="not_our_account"\} [1-9]\d*$/m);
    await w.expectLedgerConsistent(bank.id);
  });

  test('camt.054.001.13 with a prefix: a batch with one transaction not ours, interest, and the reversal of a batch credit in the same notice', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const first = await w.section(bank.id, { depositAmount: '50000.00' });
    const second = await w.section(bank.id, { depositAmount: '30000.00' });
    const a = await payer(first.id, '天津市政工程集团有限公司');
    const b = await payer(second.id, '中建六局第三建筑工程有限公司');
    const xml = asSentBy(fixture('camt054.001.13-prefixed-batch-reversal.xml'), {
      '12010101040012345': trust,
      '12010101040012345301': a.va, '0302014209300012345': a.number,
      '12010101040012345302': b.va, '12050101040000067890': b.number,
    });
    const notOursBefore = await ignoredNotOurs();
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 3, duplicates: 0, ignored: 2, ignoredReasons: { notOurAccount: 1 }, reversals: 1, exceptions: 0 });
    expect(await ignoredNotOurs()).toBe(notOursBefore + 1);
    expect(await depositsOf(first.id)).toMatchObject([{ bidderId: a.id, status: 'valid', amount: '50000.00' }]);
    expect(await depositsOf(second.id)).toMatchObject([{ bidderId: b.id, status: 'reversed', amount: '30000.00' }]);
    expect(await creditRefs(bank)).toEqual(['ABC250428A0001', 'ABC250428A0002', 'ABC250428I0005']);
    expect(await suspenseOf(bank)).toEqual([]);
    // In the trust account: the two deposits and the interest, less the credit taken back.
    expect(await trustBalance(bank)).toBe(5_000_000n + 3_000_000n + 1_234n - 3_000_000n);
  });

  test('a notice too large to answer at once counts its entries not ours in /metrics when the deposits queue works it through', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id, { depositAmount: '100.00' });
    const a = await payer(section.id, '湖北省路桥集团有限公司');
    const credit = (ref: string, account: string): CreditEntry => ({
      entryRef: ref, virtualAccount: account, amountFen: 100n, currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()),
      debtor: { name: '湖北省路桥集团有限公司', accountNumber: a.number },
    });
    const ours = Array.from({ length: notificationInlineEntriesMax + 1 }, (_, i) => credit(`Q${randomDigits(8)}${i}`, a.va));
    const notOurs = ['4200000000000000001', '4200000000000000002', 'GB29NWBK60161331926819'].map((acct, i) => credit(`QX${randomDigits(8)}${i}`, acct));
    const messageId = `Q${randomDigits(12)}`;
    const res = await w.notify(bank, buildCamt054({ messageId, createdAt: new Date(), account: trust, credits: [...ours, ...notOurs] }), 'application/xml');
    expect(res.status).toBe(202);
    const before = await ignoredNotOurs();
    expect((await processStoredNotification(rt, bank.id, messageId)).status).toBe('done');
    const outcome = await request(app).get(`/v1/banks/${bank.id}/notifications/${messageId}`).set(bearer(w.centre));
    expect(outcome.body).toMatchObject({ accepted: ours.length, ignoredReasons: { notOurAccount: 3 } });
    expect(await ignoredNotOurs()).toBe(before + 3);
    expect(await suspenseOf(bank)).toEqual([]);
  });

  test('a notice with an amount of half a fen is refused whole, naming the amount: not even its good entry is booked', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id);
    const a = await payer(section.id, '北京城建集团有限责任公司');
    const xml = asSentBy(fixture('camt054.001.08-refused-fraction-of-fen.xml'), { '10250000000123456': trust, '10250000000123456701': a.va, '0109000012345678': a.number });
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bank_message_invalid', message: expect.stringMatching(/"50000\.005": has fractions of a fen/) });
    expect(await creditRefs(bank)).toEqual([]);
  });
});

describe('R15 R4 statements in the shapes banks send: recovery books only what is ours, in yuan', () => {
  test('camt.053.001.06: a lost date-only deposit is recovered, USD is held as USD, a credit to an account not ours is not booked, a pending line is not read', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id);
    const other = await w.section(bank.id, { depositAmount: '30000.00' });
    const a = await payer(section.id, '上海隧道工程有限公司');
    const b = await payer(other.id, '上海城建市政工程（集团）有限公司');
    const usd = await payer(section.id, 'Lion City Builders Pte Ltd');
    // The first deposit was notified; the others' notices were lost.
    const notified = entry(a.va, '50000.00', { name: '上海隧道工程有限公司', number: a.number }, { entryRef: 'CCB2505060930000001' });
    expect((await w.notify(bank, jsonNotification([notified]))).body).toMatchObject({ accepted: 1 });
    const xml = asSentBy(fixture('camt053.001.06-othrid-foreign-notours.xml'), {
      '31001500100050012345': trust,
      '31001500100050012345201': a.va, '31001900800050001111': a.number,
      '31001500100050012345202': b.va, '03300100040012345': b.number,
      '31001500100050012345203': usd.va, '0721234567': usd.number,
    });
    const notOursBefore = await ignoredNotOurs();
    const res = await upload(bank, xml);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 5, matched: { recovered: 1 } });
    expect(await ignoredNotOurs()).toBe(notOursBefore + 1);

    expect(await depositsOf(section.id)).toMatchObject([{ bidderId: a.id, status: 'valid', amount: '50000.00', currency: 'CNY' }]);
    expect(await depositsOf(other.id)).toMatchObject([{ bidderId: b.id, status: 'valid', amount: '30000.00', currency: 'CNY', credit: { bookingDateOnly: true } }]);
    // USD is never recovered as yuan: held for the centre with the bank's currency and amount.
    expect((await exceptionsOf(bank, 'foreign_currency')).map((x) => [x.entryRef, x.currency, x.amount])).toEqual([['CCB2505061102450003', 'USD', '1500.00']]);
    // The credit addressed to another account of the customer is not ours: no credit, no suspense.
    expect(await creditRefs(bank)).toEqual(['CCB2505060000000002', 'CCB2505060930000001']);
    expect(await suspenseOf(bank)).toEqual([]);
    const lines = (await report(res.body.id)).lines.data;
    expect(lines.find((l) => l.entryRef === 'CCB2505060930000001')).toMatchObject({ result: 'matched' });
    expect(lines.find((l) => l.entryRef === 'CCB2505060000000002')).toMatchObject({ result: 'recovered' });
    expect(lines.find((l) => l.entryRef === 'CCB2505061650000005')).toBeUndefined();
    // The line not ours stays for a person, saying why it was not booked.
    const notOurs = (await report(res.body.id)).exceptions.data.find((x) => x.entryRef === 'CCB2505061420000004');
    expect(notOurs).toMatchObject({ kind: 'missing_in_ledger', status: 'open', detail: expect.stringContaining("neither this bank's trust account nor one of its sub-accounts") });
    await w.expectLedgerConsistent(bank.id);
  });

  test('camt.053.001.10 with a prefix: two bookings under one AcctSvcrRef told apart by NtryRef are both recovered; returns and interest are never recovered as deposits', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const section = await w.section(bank.id, { depositAmount: '1500.00' });
    const g = await payer(section.id, '广州市第三建筑工程有限公司');
    const xml = asSentBy(fixture('camt053.001.10-prefixed-returns-ntryref.xml'), {
      '442899991010003001234': trust,
      '442899991010003001234501': g.va, '3602000409200054321': g.number,
    });
    const res = await upload(bank, xml);
    expect(res.status).toBe(201);
    expect(res.body.entries).toBe(6);
    const deposits = await depositsOf(section.id);
    expect(deposits.map((d) => [d.credit.entryRef, d.amount, d.excess]).sort()).toEqual([
      ['BOCOM250520B000031', '1500.00', '0.00'],
      ['BOCOM250520B000031/000018', '1500.00', '1500.00'],
    ]);
    // A refund of ours that came back is not a deposit of whoever it came back from, however the
    // bank marks it, and the bank's interest is not a deposit of anyone: the returns (which name
    // no refund of ours) wait for a person as bank exceptions, the interest is interest.
    expect(await suspenseOf(bank)).toEqual([]);
    const returns = await exceptionsOf(bank, 'return_unmatched');
    expect(returns.map((x) => [x.entryRef, x.amount]).sort()).toEqual([
      ['BOCOM250520T000044', '25000.00'],
      ['BOCOM250520T000051', '18000.00'],
    ]);
    const lines = (await report(res.body.id)).lines.data;
    expect(lines.find((l) => l.entryRef === 'BOCOM250520I000060')?.detail).toMatch(/interest/);
    expect(res.body.matched.recovered).toBe(5);
    // The refund paid (which the ledger never saw) stays for a person.
    expect(lines.find((l) => l.entryRef === 'BOCOM250520P000072')).toMatchObject({ result: 'missing_in_ledger' });
    expect(await trustBalance(bank)).toBe(150_000n + 150_000n + 2_500_000n + 1_800_000n + 4_560n);
  });

  test('a statement in a version after the current one, or a notice sent as a statement, is refused naming what it is', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const statement = asSentBy(fixture('camt053.001.10-prefixed-returns-ntryref.xml'), { '442899991010003001234': trust });
    const future = await upload(bank, statement.replace('xsd:camt.053.001.10', 'xsd:camt.053.001.14'));
    expect(future.status).toBe(400);
    expect(future.body.error).toMatchObject({ code: 'statement_invalid', message: expect.stringContaining('"urn:iso:std:iso:20022:tech:xsd:camt.053.001.14"') });
    const notice = await upload(bank, fixture('camt054.001.13-prefixed-batch-reversal.xml'));
    expect(notice.status).toBe(400);
    expect(notice.body.error.message).toMatch(/expected camt\.053, got camt\.054/);
    expect(await rt.db('statements').where({ bank_id: bank.id })).toEqual([]);
  });

  test('a statement with an amount of a fraction of a fen is refused whole, and nothing of it is kept', async () => {
    const bank = await w.bank();
    const trust = await trustOf(bank);
    const res = await upload(bank, asSentBy(fixture('camt053.001.02-refused-many-decimals.xml'), { '38010188000012345': trust }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'statement_invalid', message: expect.stringMatching(/has fractions of a fen/) });
    expect(await rt.db('statements').where({ bank_id: bank.id })).toEqual([]);
    expect(await creditRefs(bank)).toEqual([]);
  });
});

describe("issuer webhook bodies are as strict as the bank's notices", () => {
  let g: World;
  beforeAll(async () => {
    g = await new World(rt, app).init();
  });

  test("a bank's JSON notice with a constructor field at any level is refused naming it, and nothing is booked", async () => {
    const bank = await w.bank();
    const section = await w.section(bank.id);
    const a = await payer(section.id, '某建设集团有限公司');
    const good = entry(a.va, '50000.00', { name: '某建设集团有限公司', number: a.number });
    for (const [body, field] of [
      [JSON.stringify({ eventId: `evt-${randomDigits(8)}`, entries: [good], constructor: { prototype: { isAdmin: true } } }), '$.constructor'],
      [JSON.stringify({ eventId: `evt-${randomDigits(8)}`, entries: [{ ...good, constructor: 'x' }] }), '$.entries[0].constructor'],
      [JSON.stringify({ eventId: `evt-${randomDigits(8)}`, entries: [{ ...good, debtor: { ...good.debtor, constructor: 'x' } }] }), '$.entries[0].debtor.constructor'],
    ]) {
      const res = await w.notify(bank, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'bank_message_invalid', param: field });
    }
    expect(await creditRefs(bank)).toEqual([]);
  });

  test('a key named twice in one object is refused on every JSON body (a notice, an issuance, the API), and nothing is booked', async () => {
    const bank = await w.bank();
    const section = await w.section(bank.id);
    const a = await payer(section.id, '某建设集团有限公司');
    const good = JSON.stringify(entry(a.va, '1.00', { name: '某建设集团有限公司', number: a.number }));
    const twice = good.replace('"amount":"1.00"', () => '"amount":"1.00","amount":"50000.00"');
    expect(twice).not.toBe(good);
    const notice = await w.notify(bank, `{"eventId":"evt-${randomDigits(8)}","entries":[${twice}]}`);
    expect([notice.status, notice.body.error?.code, notice.body.error?.param]).toEqual([400, 'bank_message_invalid', '$.entries[0].amount']);
    expect(await creditRefs(bank)).toEqual([]);

    const sc = await g.scene('insurance');
    const body = g.issuance(sc);
    const raw = Buffer.from(JSON.stringify(body).replace(/^\{/, () => `{"amount":"1.00",`));
    const issued = await g.signed(`/v1/issuers/${sc.issuer.id}/guarantees`, undefined, sc.issuer, { raw });
    expect([issued.status, issued.body.error?.code, issued.body.error?.param]).toEqual([400, 'repeated_key', 'amount']);
    expect(await rt.db('guarantees').where({ number: body.number }).first()).toBeUndefined();

    const tenderee = await request(app).post('/v1/tenderees').set(bearer(w.centre)).set('Content-Type', 'application/json').send(`{"name":"招标人","name":"另一个招标人","uscc":"${uniqueUscc()}"}`);
    expect([tenderee.status, tenderee.body.error?.code, tenderee.body.error?.param]).toEqual([400, 'repeated_key', 'name']);
  });

  test.each([10_000, 100_000])('JSON nested %i levels deep is a 400 on the bank notification and the issuance webhook, and the next call is served', async (levels) => {
    const bank = await w.bank();
    const deep = (field: string) => `{"eventId":"evt-deep-${levels}","${field}":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const notice = await w.notify(bank, deep('entries'));
    expect(notice.status).toBe(400);
    expect(notice.body.error.code).toBe('bank_message_invalid');
    const sc = await g.scene('insurance');
    const raw = Buffer.from(deep('applicant'));
    const issued = await g.signed(`/v1/issuers/${sc.issuer.id}/guarantees`, undefined, sc.issuer, { raw });
    expect([400, 413]).toContain(issued.status);
    expect(issued.body.error).toBeDefined();
    expect((await w.notify(bank, jsonNotification([]))).status).toBe(200);
  });

  test.each([
    ['a constructor field', (b: Record<string, unknown>) => ({ ...b, constructor: { prototype: { isAdmin: true } } }), 'unknown_field', 'constructor'],
    ['a __proto__ field', (b: Record<string, unknown>) => JSON.parse(JSON.stringify(b).replace(/^\{/, '{"__proto__":{"isAdmin":true},')), 'unknown_field', '__proto__'],
    ['a __proto__ field in the applicant', (b: Record<string, unknown>) => JSON.parse(JSON.stringify(b).replace('"applicant":{', '"applicant":{"__proto__":{"uscc":"x"},')), 'unknown_field', 'applicant.__proto__'],
    ['a misspelt field', (b: Record<string, unknown>) => ({ ...b, documentSha265: b.documentSha256 }), 'unknown_field', 'documentSha265'],
    ['a validFrom that is no day', (b: Record<string, unknown>) => ({ ...b, validFrom: '2026-02-30' }), 'invalid_field', 'validFrom'],
    ['a validTo in month 13', (b: Record<string, unknown>) => ({ ...b, validTo: '2027-13-01' }), 'invalid_field', 'validTo'],
    ['an issuedAt without an offset', (b: Record<string, unknown>) => ({ ...b, issuedAt: '2026-01-05T10:00:00' }), 'invalid_field', 'issuedAt'],
    ['an issuedAt at hour 24', (b: Record<string, unknown>) => ({ ...b, issuedAt: '2026-01-05T24:00:00+08:00' }), 'invalid_field', 'issuedAt'],
    ['an amount as a JSON number', (b: Record<string, unknown>) => ({ ...b, amount: 50000 }), 'invalid_field', 'amount'],
  ])('an issuance with %s is a 400 naming the field, and no guarantee is recorded', async (_what, patch, code, param) => {
    const sc = await g.scene('insurance');
    const body = g.issuance(sc);
    const res = await g.issue(sc.issuer, patch(body));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, param });
    expect(await rt.db('guarantees').where({ number: body.number }).first()).toBeUndefined();
  });

  test('guarantee and application events refuse unknown fields and impossible dates', async () => {
    const sc = await g.scene('insurance');
    const body = g.issuance(sc);
    expect((await g.issue(sc.issuer, body)).status).toBe(201);
    const refused = [
      [{ type: 'cancelled', reason: '撤销', constructor: 1 }, 'constructor'],
      [{ type: 'claim_paid', amount: '50000.00', paidAt: '2026-02-29T10:00:00+08:00' }, 'paidAt'],
      [{ type: 'claim_paid', paidAt: '2026-03-01T10:00:00' }, 'paidAt'],
      [{ type: 'amended', validTo: '2027-02-29' }, 'validTo'],
    ] as const;
    for (const [event, param] of refused) {
      const res = await g.event(sc.issuer, body.number, { ...event });
      expect([res.status, res.body.error?.param]).toEqual([400, param]);
    }
    const stored = await rt.db('guarantees').where({ number: body.number }).first();
    expect(stored.status).toBe('issued');
    const app_ = await g.signed(`/v1/issuers/${sc.issuer.id}/applications/app_${'0'.repeat(26)}/events`, { eventId: `evt-${randomDigits(8)}`, type: 'declined', reason: '资料不全', isAdmin: true }, sc.issuer);
    expect([app_.status, app_.body.error?.param]).toEqual([400, 'isAdmin']);
  });
});
