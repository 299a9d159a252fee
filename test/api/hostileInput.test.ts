// Hostile and broken input, as the service meets it from the internet and from real banks:
// every refusal is an answer (status, code, the rule broken) that changes nothing, and costs the
// service little.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import request from 'supertest';
import type { Express, Request } from 'express';
import type { Runtime } from '../../src/runtime';
import { xmlBodyBytesMax } from '../../src/banks/xmlLimits';
import { jsonBodyBytesMax } from '../../src/http/app';
import { senderAddressKey } from '../../src/http/refusalBudget';
import { authenticateWebhook, webhookRejectedAuditWindowSeconds } from '../../src/http/webhookAuth';
import { Unauthorized } from '../../src/errors';
import { bearer, keyFor, startTestRuntime, testApp, bankCode, uniqueUscc } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { newCert, World } from './guaranteesFixtures';
import type { SandboxBank } from '../../src/sandbox-bank';
import { cnh2hBuildCreditNotice } from '../../src/banks/cnh2h/protocol';
import { api, sandboxBankCode, startTestBank, trustNumber, uniqueNumber, virtualPrefix, type ApiResult } from '../integration/banks/sandboxSupport';
import { businessDate } from '../../src/domain/time';

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
afterAll(async () => {
  await rt.close();
});

const deep = (levels: number) => `<?xml version="1.0" encoding="UTF-8"?>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}`;
const creditCount = async () => (await rt.db('credits').where({ bank_id: bank.id })).length;
const statementCount = async () => (await rt.db('statements').where({ bank_id: bank.id })).length;

function upload(body: string | Buffer) {
  return request(app).post(`/v1/reconciliations?bankId=${bank.id}`).set(bearer(w.centre)).set('Content-Type', 'application/xml').send(body);
}

describe('deep and oversized uploads are answered before the connection closes', () => {
  test.each([1_000, 10_000, 100_000])('a notification nested %i elements deep is a 400 naming the nesting bound', async (levels) => {
    const before = await creditCount();
    const res = await w.notify(bank, deep(levels), 'application/xml');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bank_message_invalid', message: expect.stringMatching(/nests deeper than 64/) });
    expect(await creditCount()).toBe(before);
  });

  test.each([1_000, 10_000, 100_000])('a statement nested %i elements deep is a 400, not a reset connection', async (levels) => {
    const before = await statementCount();
    const res = await upload(deep(levels));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'statement_invalid', message: expect.stringMatching(/nests deeper than 64/) });
    expect(await statementCount()).toBe(before);
  });

  test('a statement refused early while it is still being sent in chunks is answered, and the connection stays usable', async () => {
    // What a bank's client does: no Content-Length, the file in pieces, reading only at the end.
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { port } = server.address() as AddressInfo;
      const send = (pieces: string[]) =>
        new Promise<{ status: number; body: any }>((resolve, reject) => {
          const req = http.request(
            { host: '127.0.0.1', port, method: 'POST', path: `/v1/reconciliations?bankId=${bank.id}`, agent, headers: { ...bearer(w.centre), 'content-type': 'application/xml' } },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
            },
          );
          req.on('error', reject);
          for (const p of pieces) req.write(p);
          req.end();
        });
      const doc = deep(100_000);
      const pieces = Array.from({ length: Math.ceil(doc.length / 16_384) }, (_, i) => doc.slice(i * 16_384, (i + 1) * 16_384));
      const first = await send(pieces);
      expect(first.status).toBe(400);
      expect(first.body.error.code).toBe('statement_invalid');
      const second = await send([deep(10_000)]);
      expect(second.status).toBe(400);
    } finally {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a notification over the byte limit is a 413 with a JSON error, and nothing is read', async () => {
    const before = await creditCount();
    const res = await w.notify(bank, Buffer.alloc(xmlBodyBytesMax + 1, 'a'), 'application/xml');
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', message: `request body exceeds ${xmlBodyBytesMax} bytes` });
    expect(await creditCount()).toBe(before);
  });

  test('a JSON body over the limit is a 413 with a JSON error', async () => {
    const res = await request(app).post('/v1/tenderees').set(bearer(w.centre)).set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(jsonBodyBytesMax), uscc: '91110000000000000X' }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  test('a reconciliation request whose JSON is over its limit is a 413, not a reset', async () => {
    const res = await request(app).post('/v1/reconciliations').set(bearer(w.centre)).set('Content-Type', 'application/json').send(JSON.stringify({ bankId: bank.id, date: '2025-03-03', pad: 'x'.repeat(4 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });
});

describe('bank messages of other versions and kinds', () => {
  test('a notification in a camt version this service does not read is a 400 naming its namespace', async () => {
    const xml = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.14"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-14</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn></Document>`;
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bank_message_invalid');
    expect(res.body.error.message).toContain('urn:iso:std:iso:20022:tech:xsd:camt.054.001.14');
  });

  test('another ISO message sent as a notification is a 400 naming its namespace', async () => {
    const xml = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"><BkToCstmrAcctRpt><GrpHdr><MsgId>R-1</MsgId></GrpHdr></BkToCstmrAcctRpt></Document>`;
    const res = await w.notify(bank, xml, 'application/xml');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('urn:iso:std:iso:20022:tech:xsd:camt.052.001.08');
  });
});

describe('the JSON notification is as strict as every other body', () => {
  async function setup() {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    return { va, payer: { name: bidder.account.name, number: bidder.account.number } };
  }

  test.each([
    ['an unknown field', (e: Record<string, unknown>) => ({ ...e, isAdmin: true }), /\$\.entries\[0\]\.isAdmin: unknown field/],
    ['a __proto__ field', (e: Record<string, unknown>) => JSON.parse(JSON.stringify(e).replace(/^\{/, '{"__proto__":{"isAdmin":true},')), /\$\.entries\[0\]\.__proto__: unknown field/],
    ['a day that does not exist', (e: Record<string, unknown>) => ({ ...e, bookedAt: '2026-02-30T00:00:00Z' }), /\$\.entries\[0\]\.bookedAt/],
    ['a time without an offset', (e: Record<string, unknown>) => ({ ...e, bookedAt: '2026-02-27T10:00:00' }), /\$\.entries\[0\]\.bookedAt: must carry a UTC offset/],
    ['an hour that does not exist', (e: Record<string, unknown>) => ({ ...e, bookedAt: '2026-02-27T24:30:00+08:00' }), /\$\.entries\[0\]\.bookedAt/],
    ['a value date that does not exist', (e: Record<string, unknown>) => ({ ...e, valueDate: '2026-02-29' }), /\$\.entries\[0\]\.valueDate/],
    ['three decimal places', (e: Record<string, unknown>) => ({ ...e, amount: '50000.001' }), /\$\.entries\[0\]\.amount: at most two decimal places/],
    ['an amount as a JSON number', (e: Record<string, unknown>) => ({ ...e, amount: 50000 }), /\$\.entries\[0\]\.amount: must be a string/],
    ['a currency that is not a 3-letter code', (e: Record<string, unknown>) => ({ ...e, currency: 'RMB1' }), /\$\.entries\[0\]\.currency/],
    ['an unknown field on the debtor', (e: Record<string, unknown>) => ({ ...e, debtor: { ...(e.debtor as object), role: 'admin' } }), /\$\.entries\[0\]\.debtor\.role: unknown field/],
  ])('%s is a 400 naming the field, and nothing is recorded', async (_what, patch, message) => {
    const { va, payer } = await setup();
    const before = await creditCount();
    const res = await w.notify(bank, jsonNotification([patch(entry(va, '50000.00', payer))]));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bank_message_invalid');
    expect(res.body.error.message).toMatch(message);
    expect(await creditCount()).toBe(before);
  });

  test('an unknown field at the top is refused too', async () => {
    const res = await w.notify(bank, JSON.stringify({ eventId: `evt-${randomDigits(8)}`, entries: [], isAdmin: true }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/\$\.isAdmin: unknown field/);
  });

  test('a valid notice still credits', async () => {
    const { va, payer } = await setup();
    const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', payer)]));
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
  });
});

describe('a cn-h2h credit notice carrying text no database can store is refused, not a 500', () => {
  function notice(va: string, payer: { name: string; number: string }, patch: Record<string, string>) {
    const n = cnh2hBuildCreditNotice({
      messageId: `N${randomDigits(12)}`,
      account: va.slice(0, 10),
      credits: [{ entryRef: `CN${randomDigits(14)}`, virtualAccount: va, amountFen: 5_000_000n, currency: 'CNY', bookedAt: new Date().toISOString(), valueDate: businessDate(new Date()), debtor: { name: payer.name, accountNumber: payer.number }, remittance: '投标保证金' }],
    });
    Object.assign(n.body.details[0], patch);
    return JSON.stringify(n);
  }

  test.each([
    ['a NUL in the postscript', { postscript: '投标保证金\u0000' }, /postscript/],
    ['a NUL in the payer name', { oppAcctName: '\u0000' }, /oppAcctName/],
    ['half of a surrogate pair in the postscript', { postscript: '\uD800保证金' }, /postscript/],
    ['a NUL in the bank reference', { bankSerialNo: 'CN\u00001' }, /bankSerialNo/],
  ])('%s is a 400 naming the field, and nothing is recorded', async (_what, patch, field) => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const before = await creditCount();
    const res = await w.notify(bank, notice(va, { name: bidder.account.name, number: bidder.account.number }, patch));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bank_message_invalid');
    expect(res.body.error.message).toMatch(field);
    expect(await creditCount()).toBe(before);
  });

  test('the same notice with storable text credits', async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const res = await w.notify(bank, notice(va, { name: bidder.account.name, number: bidder.account.number }, { postscript: '投标保证金 𠀀' }));
    expect(res.status).toBe(200);
  });
});

describe('half of a surrogate pair is not Unicode: refused naming the field, never a 500', () => {
  test('in a name given to the API', async () => {
    const res = await request(app).post('/v1/tenderees').set(bearer(w.centre)).send({ name: '某市\uD800住建局', uscc: uniqueUscc() });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: 'name', message: expect.stringMatching(/surrogate/) });
  });

  test("in an issuer's issuance and event webhooks", async () => {
    const g = await new World(rt, app).init();
    const sc = await g.scene('insurance');
    const body = g.issuance(sc);
    const res = await g.issue(sc.issuer, { ...body, applicant: { ...body.applicant, name: '甲\uDC00' } });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('applicant.name');
    expect(await rt.db('guarantees').where({ number: body.number }).first()).toBeUndefined();
    const issued = await g.issue(sc.issuer, body);
    expect(issued.status).toBe(201);
    const ev = await g.event(sc.issuer, body.number, { type: 'cancelled', reason: '撤销\uD800' });
    expect(ev.status).toBe(400);
    expect(ev.body.error.param).toBe('reason');
  });

  test("in a bank's JSON notification", async () => {
    const section = await w.section(bank.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const before = await creditCount();
    const res = await w.notify(bank, jsonNotification([{ ...entry(va, '50000.00', { name: bidder.account.name, number: bidder.account.number }), remittance: '保证金\uD800' }]));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/\$\.entries\[0\]\.remittance: must not contain half of a surrogate pair/);
    expect(await creditCount()).toBe(before);
  });
});

describe('refused senders cost little', () => {
  const rejectedTotal = async (reason?: string) =>
    (await rt.metrics.webhookRejected.get()).values.filter((v) => reason === undefined || v.labels.reason === reason).reduce((n, v) => n + v.value, 0);

  test('50 forged notifications are 50 refusals in /metrics and at most one audit event per minute', async () => {
    const since = new Date(Date.now() - 1000);
    const counted = await rejectedTotal();
    const body = jsonNotification([]);
    for (let i = 0; i < 50; i++) {
      const res = await request(app)
        .post(`/v1/banks/${bank.id}/notifications`)
        .set('Content-Type', 'application/json')
        .set({ 'Bidbond-Timestamp': String(Math.floor(Date.now() / 1000)), 'Bidbond-Certificate': 'f'.repeat(64), 'Bidbond-Signature': 'forged' })
        .send(body);
      expect(res.status).toBe(401);
    }
    expect(await rejectedTotal()).toBe(counted + 50);
    // Every refused call of this whole test run comes from this one address, so the bound holds
    // across files too: one event per minute, two if the minute turned during the loop.
    const events = await rt.db('audit_events').where({ action: 'security.webhook_rejected' }).andWhere('at', '>=', since);
    expect(events.length).toBeLessThanOrEqual(2);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/bidbond_webhook_rejected_total\{reason="certificate_unknown"\} \d+/);
  });

  test("the first refusal of a minute is audited with a summary of the address's refusals since its last event", async () => {
    // One address of this test alone (documentation range), driven through the check itself so
    // that the clock can move to the next minute.
    const ip = `198.51.100.${randomInt(1, 255)}`;
    const address = senderAddressKey(ip);
    const minute = webhookRejectedAuditWindowSeconds * 1000;
    const start = new Date(Math.ceil(Date.now() / minute) * minute + minute * randomInt(10, 1000));
    const forged = { ip, path: `/v1/banks/${bank.id}/notifications`, get: (h: string) => ({ 'bidbond-timestamp': '1', 'bidbond-certificate': 'not-a-fingerprint', 'bidbond-signature': 'x' })[h.toLowerCase()] } as unknown as Request;
    const deps = { db: rt.db, redis: rt.redis, metrics: rt.metrics, trustRoots: rt.trustRoots, keyPrefix: rt.config.BIDBOND_QUEUE_PREFIX };
    const events = () => rt.db('audit_events').where({ action: 'security.webhook_rejected' }).whereRaw("data->>'senderAddress' = ?", [address]).orderBy('seq');
    const refuse = (at: Date) => expect(authenticateWebhook(forged, Buffer.from('{}'), deps, 'bank', bank.id, at)).rejects.toBeInstanceOf(Unauthorized);

    for (let i = 0; i < 50; i++) await refuse(new Date(start.getTime() + i * 100));
    let written = await events();
    expect(written).toHaveLength(1);
    expect(written[0].data).toMatchObject({ code: 'certificate_unknown', ip, refusals: { count: 1, byReason: { certificate_unknown: 1 } } });

    await refuse(new Date(start.getTime() + minute));
    written = await events();
    expect(written).toHaveLength(2);
    expect(written[1].data.refusals).toMatchObject({ count: 50, byReason: { certificate_unknown: 50 }, since: new Date(start.getTime() + 100).toISOString() });
  });

  test('addresses are counted by IPv4, IPv4-mapped and IPv6 /64', () => {
    expect(senderAddressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(senderAddressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(senderAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(senderAddressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(senderAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(senderAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(senderAddressKey(undefined)).toBe('unknown');
    expect(senderAddressKey('not an address')).toBe('unknown');
  });
});

describe('registered URLs are normalised before they are checked and stored', () => {
  async function registerBank(endpoint: string) {
    const signer = newCert();
    return request(app)
      .post('/v1/banks')
      .set(bearer(w.centre))
      .send({
        name: '测试银行', bankCode: bankCode('104', '1000', randomDigits(4)), adapter: 'iso20022', endpoint, certificatePem: signer.certPem,
        trustAccount: { number: `9${randomDigits(18)}`, name: '保证金专户' }, virtualAccountPrefix: randomDigits(10),
      });
  }
  async function registerIssuer(callbackUrl: string) {
    return request(app).post('/v1/issuers').set(bearer(w.centre)).send({ name: '保险公司', kind: 'insurance', certificatePem: newCert().certPem, callbackUrl });
  }

  test.each([
    ['http://１27.0.0.1:9/bank', 'http://127.0.0.1:9/bank'],
    ['http://１２７.０.０.１', 'http://127.0.0.1'],
    ['ｈｔｔｐｓ://Bank.Example.CN/h2h', 'https://bank.example.cn/h2h'],
    ['https://例え.jp/h2h', 'https://xn--r8jz45g.jp/h2h'],
    ['http://0x7f.1:9/', 'http://127.0.0.1:9/'],
  ])('bank endpoint %s is stored as %s', async (given, stored) => {
    const res = await registerBank(given);
    expect(res.status).toBe(201);
    expect(res.body.endpoint).toBe(stored);
    expect((await rt.db('banks').where({ id: res.body.id }).first()).endpoint).toBe(stored);
  });

  test('an issuer callbackUrl in fullwidth digits is stored in ASCII', async () => {
    const res = await registerIssuer('https://１27.0.0.1/callback');
    expect(res.status).toBe(201);
    expect(res.body.callbackUrl).toBe('https://127.0.0.1/callback');
  });

  test.each([
    ['ｊａｖａｓｃｒｉｐｔ:alert(1)', /must be an http or https URL/],
    ['http://user:secret@bank.example.cn/h2h', /must not carry a user name or password/],
    ['http://exa mple.cn', /not a URL/],
    ['ftp://bank.example.cn', /must be an http or https URL/],
  ])('%s is refused naming the field', async (given, message) => {
    const bankRes = await registerBank(given);
    expect(bankRes.status).toBe(400);
    expect(bankRes.body.error).toMatchObject({ param: 'endpoint', message: expect.stringMatching(message) });
    const issuerRes = await registerIssuer(given);
    expect(issuerRes.status).toBe(400);
    expect(issuerRes.body.error.param).toBe('callbackUrl');
  });
});

describe('webhook endpoints are registered URLs too: normalised before they are checked and stored', () => {
  const register = (url: string) => request(app).post('/v1/webhook-endpoints').set(bearer(w.centre)).send({ url, events: ['*'] });

  test.each([
    ['http://%31%32%37.0.0.1/hook', 'http://127.0.0.1/hook'],
    ['http://１２７。０．０．１:9/hook', 'http://127.0.0.1:9/hook'],
  ])('%s is stored as %s', async (given, stored) => {
    const res = await register(given);
    expect(res.status).toBe(201);
    expect(res.body.url).toBe(stored);
    const again = await request(app).get(`/v1/webhook-endpoints/${res.body.id}`).set(bearer(w.centre));
    expect(again.body.url).toBe(stored);
  });

  // The host check resolves the name: it is asked about the normalised host, never a spelling.
  test.each([
    ['https://ｅｒｐ。centre．example.cn/hook', 'erp.centre.example.cn'],
    ['https://bаnk.example.cn/hook', 'xn--bnk-6cd.example.cn'],
  ])('%s is checked as %s', async (given, host) => {
    const res = await register(given);
    expect(res.body.error?.message ?? '').not.toMatch(/ｅｒｐ|。|．|bаnk/);
    if (res.status !== 201) expect(res.body.error.message).toContain(host);
    else expect(new URL(res.body.url).hostname).toBe(host);
  });

  test.each([
    ['ｊａｖａｓｃｒｉｐｔ:alert(1)', /must be an http or https URL/],
    ['https://user:secret@erp.example.cn/hook', /must not carry a user name or password/],
  ])('%s is refused naming the field', async (given, message) => {
    const res = await register(given);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: 'url', message: expect.stringMatching(message) });
  });
});

describe("issuance details name no other issuer's records", () => {
  test("R7 on a bidder already secured by another issuer's guarantee says so without its id", async () => {
    const g = await new World(rt, app).init();
    const sc = await g.scene('insurance');
    const first = await g.issue(sc.issuer, g.issuance(sc));
    expect(first.body.status).toBe('issued');
    const competitor = await g.issuer('insurance');
    const second = await g.issue(competitor, g.issuance({ ...sc, issuer: competitor }));
    expect(second.status).toBe(201);
    expect(second.body.status).toBe('rejected');
    const r7 = second.body.checks.filter((c: { rule: string; ok: boolean }) => c.rule === 'R7' && !c.ok);
    expect(r7).toHaveLength(1);
    expect(r7[0].detail).toMatch(/already secured by another guarantee/);
    expect(JSON.stringify(second.body)).not.toContain(first.body.id);
  });

  test("R7 names the issuer's own guarantee to that issuer", async () => {
    const g = await new World(rt, app).init();
    const sc = await g.scene('insurance');
    const first = await g.issue(sc.issuer, g.issuance(sc));
    const second = await g.issue(sc.issuer, g.issuance(sc));
    const r7 = second.body.checks.find((c: { rule: string; ok: boolean }) => c.rule === 'R7' && !c.ok);
    expect(r7.detail).toContain(first.body.id);
  });
});


describe("the sandbox bank's customer API reads its bodies as strictly as the service does", () => {
  let sandbox: SandboxBank;
  beforeAll(async () => {
    sandbox = await startTestBank();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  async function customer(balance = '1000.00') {
    const number = uniqueNumber();
    const res = await api(sandbox, 'POST', '/sandbox/accounts', { number, name: '投标人甲建设有限公司', bankCode: sandboxBankCode, balance });
    expect(res.status).toBe(201);
    return number;
  }
  const accountOf = async (number: string) => (await api(sandbox, 'GET', `/sandbox/accounts/${number}`)).body;
  const refusal = (res: ApiResult, param?: string) => {
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    if (param) expect(res.body.error.param).toBe(param);
    expect(res.text).not.toMatch(/\n\s+at |node_modules|SELECT|INSERT|violates|invalid byte sequence/);
  };

  test.each([
    ['an unknown field', { isAdmin: true }, 'isAdmin'],
    ['a misspelt option', { Balance: '5.00' }, 'Balance'],
    ['a __proto__ field', JSON.parse('{"__proto__":{"isAdmin":true}}'), '__proto__'],
  ])('opening an account with %s is a 400 naming it, and no account is opened', async (_what, extra, param) => {
    const number = uniqueNumber();
    refusal(await api(sandbox, 'POST', '/sandbox/accounts', { number, name: '投标人乙', bankCode: sandboxBankCode, ...extra }), param);
    expect((await api(sandbox, 'GET', `/sandbox/accounts/${number}`)).status).toBe(404);
  });

  test('opening an account with a key named twice is a 400 naming it, and no account is opened', async () => {
    const number = uniqueNumber();
    const res = await fetch(`${sandbox.url}/sandbox/accounts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `{"number":"${number}","name":"投标人乙","bankCode":"${sandboxBankCode}","balance":"1.00","balance":"1000000.00"}`,
    });
    const text = await res.text();
    refusal({ status: res.status, body: JSON.parse(text), text, headers: res.headers }, 'balance');
    expect((await api(sandbox, 'GET', `/sandbox/accounts/${number}`)).status).toBe(404);
  });

  test.each([
    ['an array', [{ number: '6222000000000001' }]],
    ['a string', 'open'],
  ])('an account body that is %s is a 400', async (_what, body) => {
    const res = await api(sandbox, 'POST', '/sandbox/accounts', body);
    expect(res.status).toBe(400);
  });

  test.each([
    ['a NUL character', 'bad\u0000name', 'name'],
    ['half of a surrogate pair', 'bad\uD800name', 'name'],
  ])('a name with %s is a 400 naming the field, not a 500', async (_what, name, param) => {
    const number = uniqueNumber();
    refusal(await api(sandbox, 'POST', '/sandbox/accounts', { number, name, bankCode: sandboxBankCode }), param);
    expect((await api(sandbox, 'GET', `/sandbox/accounts/${number}`)).status).toBe(404);
  });

  test.each([
    ['an unknown field', { notify: false }, 'notify'],
    ['an amount as a JSON number', { amount: 100 }, 'amount'],
    ['an amount with an exponent', { amount: '1e3' }, 'amount'],
    ['an amount in fullwidth digits', { amount: '１００.００' }, 'amount'],
    ['a negative amount', { amount: '-1.00' }, 'amount'],
    ['three decimal places', { amount: '1.001' }, 'amount'],
    ['an amount of sixteen integer digits', { amount: '1000000000000000.00' }, 'amount'],
    ['a remittance with a NUL character', { remittance: '保证金\u0000' }, 'remittance'],
    ['a remittance with half a surrogate pair', { remittance: '\uDC00保证金' }, 'remittance'],
    ['bookingDateOnly as a string', { bookingDateOnly: 'true' }, 'bookingDateOnly'],
  ])('a customer transfer with %s is a 400 naming the field, and no money moves', async (_what, patch, param) => {
    const from = await customer();
    const to = await customer('0.00');
    refusal(await api(sandbox, 'POST', '/sandbox/transfers', { fromAccount: from, toAccount: to, amount: '10.00', ...patch }), param);
    expect((await accountOf(from)).balance).toBe('1000.00');
    expect((await accountOf(to)).balance).toBe('0.00');
  });

  test('a customer transfer into a virtual sub-account with an unknown field is refused, and nothing is notified', async () => {
    const from = await customer();
    const before = (await api(sandbox, 'GET', '/sandbox/notifications')).body.data.length;
    refusal(await api(sandbox, 'POST', '/sandbox/transfers', { fromAccount: from, toAccount: `${virtualPrefix}00000000001`, amount: '10.00', bookedAt: '2026-02-30T10:00:00+08:00' }), 'bookedAt');
    expect((await accountOf(from)).balance).toBe('1000.00');
    expect((await api(sandbox, 'GET', '/sandbox/notifications')).body.data.length).toBe(before);
  });

  test('closing an account with a body it does not read is refused, and the account stays open', async () => {
    const number = await customer('0.00');
    refusal(await api(sandbox, 'POST', `/sandbox/accounts/${number}/close`, { force: true }), 'force');
    expect((await accountOf(number)).status).toBe('open');
  });

  test.each([
    ['/sandbox/reversals', { ref: 'T1', reason: 'x' }, 'reason'],
    ['/sandbox/returns', { endToEndId: 'E2E-1', reasonCode: 'AC04', amount: '1.00' }, 'amount'],
    ['/sandbox/interest', { amount: '1.00', account: trustNumber }, 'account'],
    ['/sandbox/interest', { amount: 1 }, 'amount'],
    ['/sandbox/faults', { seed: 1, http500rate: 1 }, 'http500rate'],
  ])('POST %s with %j is a 400 naming the field', async (pathname, body, param) => {
    refusal(await api(sandbox, 'POST', pathname, body), param);
  });

  test.each([
    ['NUL', '%00'],
    ['NUL inside', 'ab%00cd'],
    ['5,000 characters', 'x'.repeat(5000)],
    ['fullwidth digits', encodeURIComponent('１２３')],
    ['SQL', encodeURIComponent("1' OR '1'='1")],
    ['__proto__', '__proto__'],
    ['a UTF-8 surrogate', '%ED%A0%80'],
    ['broken percent-encoding', '%E4%B8'],
  ])('a path parameter with %s is answered 4xx, never 5xx', async (_what, p) => {
    for (const pathname of [`/sandbox/accounts/${p}`, `/sandbox/payments/${p}`]) {
      const res = await api(sandbox, 'GET', pathname);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const retry = await api(sandbox, 'POST', `/sandbox/notifications/${p}/retry`);
    expect(retry.status).toBeGreaterThanOrEqual(400);
    expect(retry.status).toBeLessThan(500);
  });

  test('a cn-h2h request carrying a NUL or half a surrogate pair is refused E9002, not a 500', async () => {
    const cn = await startTestBank({ protocol: 'cn-h2h' });
    try {
      const head = { transCode: 'B2E0003', reqSeqNo: `S${Date.now()}`, transDate: '20250303', transTime: '101010', custNo: '' };
      const gateway = (code: string, message: unknown) =>
        fetch(`${cn.url}/cn-h2h/gateway`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Trans-Code': code }, body: JSON.stringify(message) });
      for (const acctNo of ['\u0000', `${trustNumber}\uD800`]) {
        const res = await gateway('B2E0003', { head, body: { acctNo, queryDate: '20250303' } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { head: { retCode: string } }).head.retCode).toBe('E9002');
      }
      const detail = { bizSerialNo: `E${Date.now()}`, recvAcctNo: '6222000000000001', recvAcctName: '收款人\u0000', tranAmt: '1.00', postscript: '退还保证金' };
      const batchNo = `B${Date.now()}`;
      const pay = await gateway('B2E0001', {
        head: { ...head, transCode: 'B2E0001', reqSeqNo: batchNo },
        body: { batchNo, expDate: '20250303', payAcctNo: trustNumber, payAcctName: '专户', ccy: 'CNY', totalNum: '1', totalAmt: '1.00', details: [detail] },
      });
      expect(pay.status).toBe(200);
      const answer = (await pay.json()) as { head: { retCode: string; retMsg: string } };
      expect(answer.head.retCode).toBe('E9002');
      expect(answer.head.retMsg).toMatch(/recvAcctName: contains a NUL character/);
      expect((await api(cn, 'GET', `/sandbox/payments/${batchNo}`)).status).toBe(404);
    } finally {
      await cn.close();
    }
  });

  test('a valid transfer still books', async () => {
    const from = await customer();
    const to = await customer('0.00');
    const res = await api(sandbox, 'POST', '/sandbox/transfers', { fromAccount: from, toAccount: to, amount: '10.00', remittance: '投标保证金 🏗', bookingDateOnly: false });
    expect(res.status).toBe(201);
    expect((await accountOf(to)).balance).toBe('10.00');
  });
});
