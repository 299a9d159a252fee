// The issuer-messages job on its own: a job run twice sends once, the attempt limit ends in
// `failed`, and the sweep picks up a message whose worker died mid-send.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../../src/runtime';
import { deliverIssuerMessage, issuerMessageAttemptsMax, queueIssuerMessage, sweepIssuerMessages } from '../../src/guarantees/messages';
import { startTestRuntime, testApp } from '../support/runtime';
import { World } from '../api/guaranteesFixtures';

let rt: Runtime;
let w: World;
let hits = 0;
let status = 200;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    hits++;
    res.writeHead(status).end();
  });
});
let url: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  w = await new World(rt, testApp(rt)).init();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rt.close();
});

async function message() {
  const issuer = await w.issuer('insurance');
  // Its job is withdrawn before commit: a worker of another test file in this run (same queue
  // prefix) must not deliver it before these tests run the handler by hand.
  return rt.db.transaction(async (tx) => {
    const id = await queueIssuerMessage(tx, { issuerId: issuer.id, kind: 'release', subjectId: 'gty_x', url, payload: { reason: 'contract' } });
    await tx('outbox').where('job_id', 'like', `issuer-message.${id}.%`).del();
    return id;
  });
}

it('sends once when the job runs twice', async () => {
  status = 200;
  const id = await message();
  const before = hits;
  expect(await deliverIssuerMessage(rt, id)).toBe('sent');
  expect(await deliverIssuerMessage(rt, id)).toBe('skipped');
  expect(hits - before).toBe(1);
});

it(`gives up as failed after ${issuerMessageAttemptsMax} attempts, each recorded`, async () => {
  status = 503;
  const id = await message();
  for (let i = 1; i < issuerMessageAttemptsMax; i++) await expect(deliverIssuerMessage(rt, id)).rejects.toThrow(/attempt/);
  await expect(deliverIssuerMessage(rt, id)).rejects.toThrow(/failed after/);
  const row = await rt.db('issuer_messages').where({ id }).first();
  expect(row).toMatchObject({ status: 'failed', attempts: issuerMessageAttemptsMax });
  expect(await rt.db('issuer_message_attempts').where({ message_id: id })).toHaveLength(issuerMessageAttemptsMax);
  expect(await deliverIssuerMessage(rt, id)).toBe('skipped');
});

it('puts a message stuck in sending back in the queue', async () => {
  const id = await message();
  await rt.db('issuer_messages').where({ id }).update({ status: 'sending', updated_at: new Date(Date.now() - 3600_000) });
  expect(await sweepIssuerMessages(rt)).toBeGreaterThanOrEqual(1);
  expect((await rt.db('issuer_messages').where({ id }).first()).status).toBe('pending');
  expect(await rt.db('outbox').where('job_id', 'like', `issuer-message.${id}.%sweep%`).del()).toBe(1);
});
