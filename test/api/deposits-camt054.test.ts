import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { parseNotification } from '../../src/banks/adapters';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import { notificationEntriesMax } from '../../src/banks/xmlLimits';
import { bankCode, bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { businessDate } from '../../src/domain/time';

const samplesDir = path.resolve(__dirname, '../fixtures/iso20022/samples');
const camt054Samples = readdirSync(samplesDir).filter((f) => f.startsWith('camt.054'));

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
});
afterEach(async () => {
  await w.expectLedgerConsistent(bank.id);
});
afterAll(async () => {
  await rt.close();
});

const creditCount = () => rt.db('credits').where({ bank_id: bank.id }).then((r) => r.length);

/** A published sample credits accounts of some other bank: its accounts are moved under the
 *  sub-account prefix of the bank that sends it here, as that bank's own notice would name them
 *  (an account that is not the bank's trust account or under its prefix is not ours, and is
 *  left alone). */
function asNoticeOf(fresh: Bank, raw: Buffer): Buffer {
  let xml = raw.toString('utf8');
  for (const va of new Set(parseNotification(raw, 'application/xml').credits.map((c) => c.virtualAccount))) {
    xml = xml.split(`>${va}<`).join(`>${fresh.prefix}${va.slice(-Math.max(4, va.length - fresh.prefix.length)).replace(/\D/g, '0')}<`);
  }
  return Buffer.from(xml, 'utf8');
}

describe('camt.054 notifications', () => {
  it.each(camt054Samples)('records the credits of %s with exact amounts and ignores its debits', async (file) => {
    const fresh = await w.bank();
    const raw = asNoticeOf(fresh, readFileSync(path.join(samplesDir, file)));
    const expected = parseNotification(raw, 'application/xml');
    const res = await w.notify(fresh, raw, file.includes('.001.02') ? 'text/xml' : 'application/xml');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: expected.credits.length, duplicates: 0, ignored: expected.ignored });
    const credits = await rt.db('credits').where({ bank_id: fresh.id }).orderBy('entry_ref');
    expect(credits.map((c) => [c.entry_ref, c.amount_fen])).toEqual(
      [...expected.credits].sort((a, b) => (a.entryRef < b.entryRef ? -1 : 1)).map((c) => [c.entryRef, c.amountFen]),
    );
    await w.expectLedgerConsistent(fresh.id);
  });

  it('matches the self-authored sample credit to its bidder as a valid 50,000.00 deposit', async () => {
    const fresh = await w.bank();
    const raw = asNoticeOf(fresh, readFileSync(path.join(samplesDir, 'camt.054.001.08__selfauthored_credit.xml')));
    const [credit] = parseNotification(raw, 'application/xml').credits;
    const section = await w.section(fresh.id);
    const res0 = await request(app)
      .post('/v1/bidders')
      .set(bearer(w.centre))
      .send({ name: credit.debtor.name, uscc: (await import('../support/runtime')).uniqueUscc(), basicAccount: { bankCode: bankCode(), number: credit.debtor.accountNumber, name: credit.debtor.name } });
    // The sample's sub-account number was issued by "the bank", not by our sequence: register
    // it as this bidder's account directly.
    await rt.db('deposit_accounts').insert({ virtual_account: credit.virtualAccount, bank_id: fresh.id, section_id: section.id, bidder_id: res0.body.id, serial: 0 });
    const res = await w.notify(fresh, raw, 'application/xml');
    expect([res.status, res.body.accepted]).toEqual([200, 1]);
    const d = await request(app).get(`/v1/deposits/${res.body.depositIds[0]}`).set(bearer(w.centre));
    expect(d.body).toMatchObject({ status: 'valid', amount: '50000.00', bidderId: res0.body.id });
    expect(d.body.credit.bookedAt).toBe('2025-02-28T06:03:20.000Z');
    await w.expectLedgerConsistent(fresh.id);
  });

  it('records a built camt.054 once, however it is repeated or overlapped', async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const mk = (ref: string, amountFen: bigint) => ({
      entryRef: ref, virtualAccount: va, amountFen, currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()),
      debtor: { name: bidder.account.name, accountNumber: bidder.account.number },
    });
    const a = mk(`A${randomDigits(10)}`, 3000000n);
    const b = mk(`B${randomDigits(10)}`, 2000000n);
    const doc1 = buildCamt054({ messageId: `M${randomDigits(12)}`, createdAt: new Date(), account: va, credits: [a] });
    const doc2 = buildCamt054({ messageId: `M${randomDigits(12)}`, createdAt: new Date(), account: va, credits: [a, b] });
    expect((await w.notify(bank, doc1, 'application/xml')).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await w.notify(bank, doc1, 'application/xml')).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await w.notify(bank, doc2, 'application/xml')).body).toMatchObject({ accepted: 1, duplicates: 1 });
    const deposits = await rt.db('deposits').where({ section_id: section.id });
    expect(deposits.map((d) => d.status)).toEqual(['valid', 'valid']);
    expect(deposits.reduce((s, d) => s + d.amount_fen, 0n)).toBe(5000000n);
  });
});

describe('hostile notifications are refused and record nothing', () => {
  const refusedCleanly = async (res: request.Response, statuses: number[]) => {
    expect(statuses).toContain(res.status);
    expect(res.body.error).toBeDefined();
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
  };

  it('refuses a billion-laughs document with 400', async () => {
    const before = await creditCount();
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn></Document>`;
    const res = await w.notify(bank, lol, 'application/xml');
    await refusedCleanly(res, [400]);
    expect(res.body.error.code).toBe('bank_message_invalid');
    expect(await creditCount()).toBe(before);
  });

  it('refuses an external entity with 400 and never reads the file', async () => {
    const before = await creditCount();
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn></Document>`;
    const res = await w.notify(bank, xxe, 'application/xml');
    await refusedCleanly(res, [400]);
    expect(JSON.stringify(res.body)).not.toMatch(/root:/);
    expect(await creditCount()).toBe(before);
  });

  it('refuses a 50 MB body with 413', async () => {
    const before = await creditCount();
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    huge.write('<?xml version="1.0"?><Document>');
    const res = await w.notify(bank, huge, 'application/xml');
    await refusedCleanly(res, [413]);
    expect(await creditCount()).toBe(before);
  });

  it('refuses a notification of 100,000 entries (camt.054) and one over the entry limit (JSON)', async () => {
    const before = await creditCount();
    const ntry = '<Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry>';
    const xml = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BIG${randomDigits(8)}</MsgId><CreDtTm>2025-02-28T14:03:20+08:00</CreDtTm></GrpHdr><Ntfctn><Id>N1</Id><CreDtTm>2025-02-28T14:03:20+08:00</CreDtTm><Acct><Id><Othr><Id>123</Id></Othr></Id></Acct>${ntry.repeat(100_000)}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;
    await refusedCleanly(await w.notify(bank, xml, 'application/xml'), [400, 413]);
    const payer = { name: '某公司', number: '6222333344445555666' };
    const entries = Array.from({ length: notificationEntriesMax + 1 }, (_, i) => ({ ...entry(`${bank.prefix}1`, '1.00', payer), entryRef: `X${i}` }));
    const res = await w.notify(bank, jsonNotification(entries));
    await refusedCleanly(res, [400]);
    expect(await creditCount()).toBe(before);
  });

  it('refuses an unsupported content type with 415', async () => {
    const res = await w.notify(bank, 'entries=1', 'text/plain');
    expect(res.status).toBe(415);
  });
});
