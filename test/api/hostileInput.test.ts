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
import { authenticateWebhook, senderAddressKey, webhookRejectedAuditWindowSeconds } from '../../src/http/webhookAuth';
import { Unauthorized } from '../../src/errors';
import { bearer, keyFor, startTestRuntime, testApp, bankCode } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from './deposits.support';
import { newCert, World } from './guaranteesFixtures';

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

