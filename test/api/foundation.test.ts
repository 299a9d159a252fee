import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
});
afterAll(async () => {
  await rt.close();
});

describe('callers', () => {
  it('refuses a request without a key, with a malformed key and with an unknown key', async () => {
    const none = await request(app).get('/v1/sections');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('missing_api_key');
    const bad = await request(app).get('/v1/sections').set(bearer('nope'));
    expect(bad.body.error.code).toBe('invalid_api_key');
    const unknown = await request(app).get('/v1/sections').set(bearer(`bb_centre_${'a'.repeat(43)}`));
    expect(unknown.status).toBe(401);
  });

  it('answers 404 when a bidder asks for another bidder, and shows it its own record', async () => {
    const mk = (uscc: string) =>
      request(app).post('/v1/bidders').set(bearer(centre)).send({ name: '甲公司', uscc, basicAccount: { bankCode: bankCode(), number: '6222020200001234567', name: '甲公司' } });
    const a = await mk(uniqueUscc());
    const b = await mk(uniqueUscc());
    expect(a.status).toBe(201);
    const keyA = await keyFor(rt, 'bidder', { bidderId: a.body.id });
    expect((await request(app).get(`/v1/bidders/${a.body.id}`).set(bearer(keyA))).status).toBe(200);
    const other = await request(app).get(`/v1/bidders/${b.body.id}`).set(bearer(keyA));
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
  });

  it('gives a bidder key no access to centre-only routes', async () => {
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: (await createBidder()).id });
    const res = await request(app).post('/v1/tenderees').set(bearer(bidderKey)).send({ name: 'x', uscc: uniqueUscc() });
    expect(res.status).toBe(404);
    expect(await rt.db('tenderees').where({ name: 'x' }).first()).toBeUndefined();
  });
});

async function createBidder() {
  const res = await request(app)
    .post('/v1/bidders')
    .set(bearer(centre))
    .send({ name: '乙公司', uscc: uniqueUscc(), basicAccount: { bankCode: bankCode(), number: '0123456789012345678', name: '乙公司' } });
  expect(res.status).toBe(201);
  return res.body;
}

describe('identities', () => {
  it('accepts the GB 32100 vectors and refuses a wrong check character with 422', async () => {
    for (const uscc of ['91512081MA62K0260E', '91330100716105852F', '911100007109208380']) {
      await rt.db('tenderees').where({ uscc }).del();
      const res = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '招标人', uscc });
      expect(res.status).toBe(201);
    }
    const bad = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '招标人', uscc: '91350100M000100Y4Z' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('invalid_uscc');
    expect(bad.body.error.param).toBe('uscc');
  });

  it('refuses a bank code whose check digit is wrong', async () => {
    const res = await request(app)
      .post('/v1/bidders')
      .set(bearer(centre))
      .send({ name: '丙公司', uscc: uniqueUscc(), basicAccount: { bankCode: '102100099990', number: '6222020200001234567', name: '丙公司' } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_bank_code');
    expect(res.body.error.param).toBe('basicAccount.bankCode');
  });

  it('keeps an account number with a leading zero as written', async () => {
    const b = await createBidder();
    expect(b.basicAccount.number).toBe('0123456789012345678');
  });
});

describe('hostile and malformed bodies', () => {
  it('rejects wrong types, unknown fields, non-JSON and bad JSON with 400/415 and writes nothing', async () => {
    const usccs = [uniqueUscc(), uniqueUscc()];
    const wrongType = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: 42, uscc: usccs[0] });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.param).toBe('name');
    const unknown = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: 'a', uscc: usccs[1], admin: true });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_field');
    const text = await request(app).post('/v1/tenderees').set(bearer(centre)).set('Content-Type', 'text/plain').send('name=a');
    expect(text.status).toBe(415);
    const broken = await request(app).post('/v1/tenderees').set(bearer(centre)).set('Content-Type', 'application/json').send('{"name":');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('malformed_json');
    expect(await rt.db('tenderees').whereIn('uscc', usccs).count({ n: '*' })).toEqual([{ n: 0n }]);
  });

  it('answers 413 to a huge body without a stack trace', async () => {
    const res = await request(app)
      .post('/v1/tenderees')
      .set(bearer(centre))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), uscc: uniqueUscc() }));
    expect(res.status).toBe(413);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
  });

  it('stores SQL and script fragments in names as plain text', async () => {
    const name = "'); DROP TABLE tenderees; -- <script>alert(1)</script>";
    const res = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name, uscc: uniqueUscc() });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe(name);
    expect((await rt.db('tenderees').where({ id: res.body.id }).first()).name).toBe(name);
  });

  it('rejects control characters in names', async () => {
    const res = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: 'a\u0000b', uscc: uniqueUscc() });
    expect(res.status).toBe(400);
  });
});

describe('Idempotency-Key', () => {
  it('returns the stored response for the same key and body, 422 for a different body', async () => {
    const uscc = uniqueUscc();
    const first = await request(app).post('/v1/tenderees').set(bearer(centre)).set('Idempotency-Key', `k-${uscc}`).send({ name: '丁', uscc });
    const again = await request(app).post('/v1/tenderees').set(bearer(centre)).set('Idempotency-Key', `k-${uscc}`).send({ name: '丁', uscc });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const different = await request(app).post('/v1/tenderees').set(bearer(centre)).set('Idempotency-Key', `k-${uscc}`).send({ name: '戊', uscc });
    expect(different.status).toBe(422);
    expect(different.body.error.code).toBe('idempotency_key_reused');
    expect(await rt.db('tenderees').where({ uscc })).toHaveLength(1);
  });

  it('lets exactly one of two identical concurrent requests act', async () => {
    const uscc = uniqueUscc();
    const send = () => request(app).post('/v1/tenderees').set(bearer(centre)).set('Idempotency-Key', `c-${uscc}`).send({ name: '己', uscc });
    const results = await Promise.all([send(), send(), send()]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const s of statuses) expect([201, 409]).toContain(s);
    expect(await rt.db('tenderees').where({ uscc })).toHaveLength(1);
  });

  it('answers a duplicate registration without a key with 409 and one row', async () => {
    const uscc = uniqueUscc();
    const [a, b] = await Promise.all([
      request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '庚', uscc }),
      request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '庚', uscc }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect(await rt.db('tenderees').where({ uscc })).toHaveLength(1);
  });
});

describe('audit log', () => {
  it('chains every change and names the first event edited behind the service', async () => {
    await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '审计', uscc: uniqueUscc() });
    const ok = await request(app).get('/v1/audit/verify').set(bearer(centre));
    expect(ok.body.ok).toBe(true);
    expect(ok.body.eventsChecked).toBeGreaterThan(0);
    const list = await request(app).get('/v1/audit?limit=2').set(bearer(centre));
    expect(list.body.object).toBe('list');
    expect(list.body.data).toHaveLength(2);
    const victim = list.body.data[1];
    await rt.db.transaction(async (tx) => {
      await tx.raw(`SET LOCAL bidbond.audit_maintenance = 'on'`);
      await tx('audit_events').where({ id: victim.id }).update({ data: JSON.stringify({ forged: true }) });
    });
    const broken = await request(app).get('/v1/audit/verify').set(bearer(centre));
    expect(broken.body.ok).toBe(false);
    expect(broken.body.firstBroken.id).toBe(victim.id);
    expect(broken.body.firstBroken.reason).toBe('hash_mismatch');
    await rt.db.transaction(async (tx) => {
      await tx.raw(`SET LOCAL bidbond.audit_maintenance = 'on'`);
      await tx('audit_events').where({ id: victim.id }).update({ data: JSON.stringify(victim.data) });
    });
  });

  it('refuses an ordinary UPDATE of the log', async () => {
    await expect(rt.db('audit_events').update({ action: 'x' })).rejects.toThrow(/append-only/);
  });
});

describe('operations', () => {
  it('reports health, readiness and metrics, and serves the OpenAPI document', async () => {
    expect((await request(app).get('/healthz')).status).toBe(200);
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok', calendar: expect.stringMatching(/^(ok|degraded)$/) });
    expect(ready.body.status).toBe(ready.body.checks.calendar === 'ok' ? 'ready' : 'degraded');
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/bidbond_http_requests_total/);
    expect(metrics.text).toMatch(/bidbond_refunds_overdue \d+/);
    const doc = await request(app).get('/v1/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const docs = await request(app).get('/docs/').redirects(1);
    expect(docs.status).toBe(200);
    expect(docs.text).toMatch(/swagger-ui/i);
    expect(doc.body.paths['/v1/sections'].post.requestBody.content['application/json'].schema.properties.depositAmount).toBeDefined();
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a key has had its requests in the last minute, counting callers at once exactly, and other keys go on', async () => {
    const limited = await startTestRuntime({ BIDBOND_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const limitedApp = testApp(limited);
      const key = await keyFor(limited, 'auditor');
      // The window slides: no clock-minute edge among the requests lets a fourth one through.
      const responses = [];
      for (let i = 0; i < 4; i++) responses.push(await request(limitedApp).get('/v1/audit?limit=1').set(bearer(key)));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      const refused = responses[3];
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      // A Redis that lost its script cache (restarted) is sent the script again, and the log holds.
      await limited.queueRedis.script('FLUSH');
      expect((await request(limitedApp).get('/v1/audit?limit=1').set(bearer(key))).status).toBe(429);
      // Eight callers at once on a fresh key: three are let in, never more.
      const racing = await keyFor(limited, 'auditor');
      const atOnce = await Promise.all(Array.from({ length: 8 }, () => request(limitedApp).get('/v1/audit?limit=1').set(bearer(racing))));
      expect(atOnce.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
      const other = await keyFor(limited, 'auditor');
      expect((await request(limitedApp).get('/v1/audit?limit=1').set(bearer(other))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
