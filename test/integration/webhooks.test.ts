// Events delivered to the centre's endpoints, as a real receiver sees them: every request signed
// under the certificate GET /v1/certificate serves, failures (500, a receiver that never
// answers, a redirect) retried and listed attempt by attempt, redelivery on demand, an endpoint
// failing for the whole window disabled (itself an event), and deliveries that cannot be turned
// against the network the service runs in.
import { X509Certificate } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { deliverDueWebhooks } from '../../src/events/delivery';
import { relayEvents } from '../../src/events/relay';
import { isForbiddenAddress } from '../../src/events/rules';
import { checkMessageSignature } from '../../src/pki/messageSignature';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { DepositWorld, entry, jsonNotification, type Bank } from '../api/deposits.support';

type Answer = number | 'hang' | 'redirect' | 'huge';

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
  path: string;
}

/** An HTTP receiver that answers from a script, one answer per request, then 200. */
class Receiver {
  received: Received[] = [];
  script: Answer[] = [];
  private server!: Server;
  private hanging: ServerResponse[] = [];

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks), path: req.url ?? '' });
        const answer = this.script.shift() ?? 200;
        if (answer === 'hang') {
          this.hanging.push(res);
          return;
        }
        if (answer === 'redirect') {
          res.writeHead(302, { Location: `${this.url}/elsewhere` }).end();
          return;
        }
        if (answer === 'huge') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(Buffer.alloc(4 * 1024 * 1024, 'x'));
          return;
        }
        res.writeHead(answer, { 'Content-Type': 'text/plain' }).end(answer === 200 ? 'ok' : 'receiver is down');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let centre: string;
let w: DepositWorld;
let bank: Bank;
let receiver: Receiver;
let chainPem: string;

const fast = { timeoutMs: 500, backoffBaseMs: 1 };

beforeAll(async () => {
  isolated = await createIsolatedDatabase('webhooks');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  w = new DepositWorld(rt, app, centre);
  bank = await w.bank();
  receiver = await new Receiver().start();
  const cert = await request(app).get('/v1/certificate');
  expect(cert.status).toBe(200);
  expect(cert.headers['content-type']).toMatch(/application\/x-pem-file/);
  chainPem = cert.text;
});
afterAll(async () => {
  await receiver?.close();
  await rt?.close();
  await isolated?.drop();
});

/** The first certificate of the served chain: the one every delivery must be signed under. */
function leaf(): X509Certificate {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem)![0];
  return new X509Certificate(first);
}

function expectSignedByService(r: Received): void {
  const cert = leaf();
  const failure = checkMessageSignature(
    { timestamp: String(r.headers['bidbond-timestamp']), signature: String(r.headers['bidbond-signature']) },
    r.body,
    cert.publicKey,
  );
  expect(failure).toBeNull();
  expect(r.headers['bidbond-certificate']).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase());
}

async function registerEndpoint(events: string[], url = `${receiver.url}/hooks/bidbond`) {
  const res = await request(app).post('/v1/webhook-endpoints').set(bearer(centre)).send({ url, events });
  expect(res.status).toBe(201);
  return res.body as { id: string; url: string; status: string };
}

/** A valid deposit, relayed into an event; returns the deposit's id. */
async function validDeposit(): Promise<string> {
  const section = await w.section(bank.id);
  const b = await w.bidder();
  const va = await w.virtualAccount(section.id, b.id);
  const res = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: b.account.name, number: b.account.number })]));
  expect(res.status).toBe(200);
  await relayEvents(rt.db);
  return res.body.depositIds[0];
}

const deliveriesOf = async (endpointId: string) => {
  const res = await request(app).get(`/v1/webhook-endpoints/${endpointId}/deliveries`).set(bearer(centre));
  expect(res.status).toBe(200);
  return res.body.data as any[];
};

async function deliverUntilQuiet(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if ((await deliverDueWebhooks(rt, fast)) === 0) {
      const pending = await rt.db('webhook_deliveries').where({ status: 'pending' }).where('next_attempt_at', '<=', new Date(Date.now() + 50)).first();
      if (!pending) return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('delivery to a registered endpoint', () => {
  it('retries a 500 and a receiver that never answers, then delivers, every request signed with the served certificate', async () => {
    const endpoint = await registerEndpoint(['deposit.valid']);
    expect(endpoint).toMatchObject({ status: 'enabled', url: `${receiver.url}/hooks/bidbond` });
    receiver.received = [];
    receiver.script = [500, 'hang'];
    const depositId = await validDeposit();
    await deliverUntilQuiet();

    expect(receiver.received).toHaveLength(3);
    const bodies = receiver.received.map((r) => r.body.toString('utf8'));
    expect(new Set(bodies).size).toBe(1);
    const event = JSON.parse(bodies[0]);
    expect(event).toMatchObject({ object: 'event', type: 'deposit.valid', subject: { type: 'deposit', id: depositId } });
    for (const r of receiver.received) {
      expectSignedByService(r);
      expect(r.headers['bidbond-event-id']).toBe(event.id);
      expect(r.path).toBe('/hooks/bidbond');
    }

    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ eventId: event.id, eventType: 'deposit.valid', status: 'delivered', attemptCount: 3 });
    expect(delivery.attempts.map((a: any) => a.httpStatus)).toEqual([500, null, 200]);
    expect(delivery.attempts[0].error).toMatch(/^HTTP 500/);
    expect(delivery.attempts[1].error).toMatch(/no complete answer within 500 ms/);
    expect(delivery.attempts[2].error).toBeNull();
    expect((await request(app).get(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre))).body.failingSince).toBeNull();

    // Redelivered on request: the same event, the same id to deduplicate on, a new attempt.
    const again = await request(app).post(`/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/redeliver`).set(bearer(centre)).send({});
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: delivery.id, status: 'pending' });
    await deliverUntilQuiet();
    expect(receiver.received).toHaveLength(4);
    expect(receiver.received[3].body.toString('utf8')).toBe(bodies[0]);
    expectSignedByService(receiver.received[3]);
    const [redelivered] = await deliveriesOf(endpoint.id);
    expect(redelivered).toMatchObject({ status: 'delivered', attemptCount: 4 });
    expect(redelivered.attempts[3]).toMatchObject({ httpStatus: 200, redelivery: true });

    await request(app).delete(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre)).expect(200);
    expect((await request(app).get(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre))).status).toBe(404);
  });

  it('does not follow a redirect, and reads only a bounded part of a large answer', async () => {
    const endpoint = await registerEndpoint(['deposit.valid']);
    receiver.received = [];
    receiver.script = ['redirect', 'huge'];
    await validDeposit();
    await deliverUntilQuiet();
    // The redirect's target was never asked for.
    expect(receiver.received.map((r) => r.path)).toEqual(['/hooks/bidbond', '/hooks/bidbond']);
    const [d] = await deliveriesOf(endpoint.id);
    expect(d.attempts.map((a: any) => a.httpStatus)).toEqual([302, 200]);
    expect(d.status).toBe('delivered');
    await request(app).delete(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre)).expect(200);
  });

  it('disables an endpoint that has failed for the whole retry window, tells the others and the metrics', async () => {
    const failing = await registerEndpoint(['deposit.valid']);
    const watcher = await registerEndpoint(['webhook_endpoint.disabled'], `${receiver.url}/watcher`);
    receiver.received = [];
    receiver.script = [503];
    await validDeposit();
    await deliverDueWebhooks(rt, fast);
    expect((await request(app).get(`/v1/webhook-endpoints/${failing.id}`).set(bearer(centre))).body.failingSince).not.toBeNull();
    // Nobody waits 72 hours in a test: the endpoint's failing period is moved back instead.
    await rt.db('webhook_endpoints').where({ id: failing.id }).update({ failing_since: new Date(Date.now() - 73 * 3600_000) });
    receiver.script = [503];
    await new Promise((r) => setTimeout(r, 20));
    await deliverDueWebhooks(rt, fast);

    const after = await request(app).get(`/v1/webhook-endpoints/${failing.id}`).set(bearer(centre));
    expect(after.body).toMatchObject({ status: 'disabled' });
    expect(after.body.disabledReason).toMatch(/72 hours/);
    const [d] = await deliveriesOf(failing.id);
    expect(d.status).toBe('failed');

    await relayEvents(rt.db);
    const events = await request(app).get('/v1/events').query({ type: 'webhook_endpoint.disabled' }).set(bearer(centre));
    expect(events.body.data.map((e: any) => e.subject.id)).toContain(failing.id);
    receiver.received = [];
    await deliverUntilQuiet();
    expect(receiver.received.map((r) => [r.path, JSON.parse(r.body.toString('utf8')).subject.id])).toEqual([['/watcher', failing.id]]);

    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/bidbond_webhook_endpoints\{status="disabled"\} 1/);

    const redeliver = await request(app).post(`/v1/webhook-endpoints/${failing.id}/deliveries/${d.id}/redeliver`).set(bearer(centre)).send({});
    expect([redeliver.status, redeliver.body.error.code]).toEqual([409, 'endpoint_disabled']);
    await request(app).delete(`/v1/webhook-endpoints/${watcher.id}`).set(bearer(centre)).expect(200);
  });

  it('sends again what a worker that died was sending, with the lost attempt on record', async () => {
    const endpoint = await registerEndpoint(['deposit.valid']);
    receiver.received = [];
    await validDeposit();
    // As if a worker had claimed it ten minutes ago and died before writing down the answer.
    await rt.db('webhook_deliveries').where({ endpoint_id: endpoint.id }).update({ status: 'sending', attempts: 1, claimed_at: new Date(Date.now() - 10 * 60_000) });
    await deliverUntilQuiet();
    expect(receiver.received).toHaveLength(1);
    const [d] = await deliveriesOf(endpoint.id);
    expect(d).toMatchObject({ status: 'delivered', attemptCount: 2 });
    expect(d.attempts.map((a: any) => [a.attempt, a.httpStatus, a.error])).toEqual([[1, null, 'the sending worker stopped before recording an answer'], [2, 200, null]]);
    await request(app).delete(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre)).expect(200);
  });

  it('lists endpoints for the centre only, and refuses unknown types and malformed URLs', async () => {
    const e = await registerEndpoint(['*']);
    const list = await request(app).get('/v1/webhook-endpoints').set(bearer(centre));
    expect(list.body.data.map((x: any) => x.id)).toContain(e.id);
    const bidder = await keyFor(rt, 'bidder', { bidderId: (await w.bidder()).id });
    expect((await request(app).get('/v1/webhook-endpoints').set(bearer(bidder))).status).toBe(404);
    const badType = await request(app).post('/v1/webhook-endpoints').set(bearer(centre)).send({ url: receiver.url, events: ['deposit.eaten'] });
    expect(badType.status).toBe(400);
    const badUrl = await request(app).post('/v1/webhook-endpoints').set(bearer(centre)).send({ url: 'ftp://example.com/x', events: ['*'] });
    expect([badUrl.status, badUrl.body.error.param]).toEqual([400, 'url']);
    await request(app).delete(`/v1/webhook-endpoints/${e.id}`).set(bearer(centre)).expect(200);
  });
});

describe('with private destinations not allowed', () => {
  let strict: Runtime;
  let strictApp: Express;

  beforeAll(async () => {
    strict = await startTestRuntime({ ...isolated.env, BIDBOND_WEBHOOK_ALLOW_PRIVATE: '0' });
    strictApp = testApp(strict);
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('refuses to register loopback, private, link-local and mapped addresses, and names that resolve to them', async () => {
    for (const url of [receiver.url, 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/', `http://localhost:${receiver.port}/`, 'http://０x7f.0.0.1/']) {
      const res = await request(strictApp).post('/v1/webhook-endpoints').set(bearer(centre)).send({ url, events: ['*'] });
      expect([url, res.status, res.body.error?.param]).toEqual([url, 400, 'url']);
    }
  });

  it('refuses at delivery time too, when a registered name now leads to a private address', async () => {
    const endpoint = await registerEndpoint(['deposit.valid']);
    receiver.received = [];
    await validDeposit();
    await deliverDueWebhooks(strict, fast);
    expect(receiver.received).toEqual([]);
    const [d] = await deliveriesOf(endpoint.id);
    expect(d.attempts[0].error).toMatch(/^refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a private, loopback or link-local address/);
    expect(d.status).toBe('pending');
    await request(app).delete(`/v1/webhook-endpoints/${endpoint.id}`).set(bearer(centre)).expect(200);
  });

  it('judges addresses as the connection would see them', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '224.0.0.1']) {
      expect([a, isForbiddenAddress(a)]).toEqual([a, true]);
    }
    for (const a of ['8.8.8.8', '114.114.114.114', '2400:3200::1', '::ffff:8.8.8.8']) {
      expect([a, isForbiddenAddress(a)]).toEqual([a, false]);
    }
  });
});
