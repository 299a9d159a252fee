// The first delivery of an event does not wait for the minute sweep: a relay every second writes
// the event and its deliveries and asks for a job that sends them at once. With two workers
// running, each event reaches the receiver once; a receiver that fails keeps the back-off in
// PostgreSQL, which the fast path respects.
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { buildWorker } from '../../src/app/worker';
import { eventRelayIntervalMs, eventRelaySchedulerId } from '../../src/events/jobs';
import { webhookBackoffBaseMs } from '../../src/events/rules';
import { sweepIntervalMs } from '../../src/queue/housekeeping';
import type { RunningWorkers } from '../../src/queue/worker';
import type { Runtime } from '../../src/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';
import { waitFor } from '../support/wait';

interface Arrival {
  at: number;
  eventId: string;
  type: string;
  subjectId: string | undefined;
}

/** Records every request with its arrival time; answers 500 to events about a tenderee of a
 *  name it is told to fail. */
class Receiver {
  arrivals: Arrival[] = [];
  failNames = new Set<string>();
  private server!: Server;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const subjectId = body.subject?.id ?? body.data?.id;
        this.arrivals.push({ at: Date.now(), eventId: String(req.headers['bidbond-event-id']), type: body.type, subjectId });
        const fail = typeof body.data?.name === 'string' && this.failNames.has(body.data.name);
        res.writeHead(fail ? 500 : 200, { 'Content-Type': 'text/plain' }).end(fail ? 'down' : 'ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/bidbond`;
  }

  of(subjectId: string): Arrival[] {
    return this.arrivals.filter((a) => a.subjectId === subjectId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let centre: string;
let receiver: Receiver;
const workers: RunningWorkers[] = [];

beforeAll(async () => {
  isolated = await createIsolatedDatabase('webhooksfast');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  receiver = await new Receiver().start();
  const res = await request(app).post('/v1/webhook-endpoints').set(bearer(centre)).send({ url: receiver.url, events: ['tenderee.created'] });
  expect(res.status).toBe(201);
  // Two workers on the same queues and database, as two processes would be.
  workers.push(await buildWorker(rt, process.env.REDIS_URL!), await buildWorker(rt, process.env.REDIS_URL!));
  // The first sweep runs as the workers start and registers the relay's scheduler.
  await waitFor('the relay scheduler', async () => (await rt.queues.events.getJobScheduler(eventRelaySchedulerId)) ?? undefined, 30_000, 50);
  const q = rt.queues.housekeeping;
  await waitFor('the first sweep finished', async () => (await q.getCompletedCount()) + (await q.getFailedCount()) >= 1 && (await q.getActiveCount()) === 0, 30_000, 50);
}, 60_000);
afterAll(async () => {
  for (const w of workers) await w.close();
  await receiver?.close();
  await rt?.close();
  await isolated?.drop();
});

async function createTenderee(name = '某市住建局'): Promise<string> {
  const res = await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name, uscc: uniqueUscc() });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** The minute sweeps that were running at any time between `from` and `to`. */
async function sweepsBetween(from: number, to: number): Promise<string[]> {
  const jobs = await rt.queues.housekeeping.getJobs(['completed', 'failed', 'active']);
  return jobs.filter((j) => (j.processedOn ?? 0) <= to && (j.finishedOn ?? Date.now()) >= from).map((j) => String(j.id));
}

describe('webhook delivery of a new event', () => {
  it('reaches the endpoint within seconds, well inside the minute between sweeps, and no sweep sent it', async () => {
    expect(sweepIntervalMs).toBeGreaterThanOrEqual(60_000);
    expect(eventRelayIntervalMs).toBeLessThanOrEqual(1000);
    const startedAt = Date.now();
    const id = await createTenderee();
    const [arrival] = await waitFor(`tenderee.created of ${id} at the endpoint`, async () => (receiver.of(id).length > 0 ? receiver.of(id) : undefined), 15_000, 20);
    const latencyMs = arrival.at - startedAt;
    expect(arrival.type).toBe('tenderee.created');
    expect(latencyMs).toBeLessThan(10_000);
    // The sweep that ran as the workers started finished before the tenderee was created; the
    // next one is a minute later.
    expect(await sweepsBetween(startedAt, arrival.at)).toEqual([]);
    // The sender records the answer just after the receiver has answered.
    const delivery = await waitFor('the delivery recorded', async () => {
      const d = await rt.db('webhook_deliveries').where({ event_id: arrival.eventId }).first();
      return d?.status === 'sending' ? undefined : d;
    }, 10_000, 20);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
  }, 30_000);

  it('with two workers relaying and sending, each of many events arrives once', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => createTenderee()));
    await waitFor('every event at the endpoint', async () => ids.every((id) => receiver.of(id).length > 0), 20_000, 20);
    // Time for any second sending to show up, and for the answers to be recorded.
    await new Promise((r) => setTimeout(r, 3 * eventRelayIntervalMs));
    for (const id of ids) expect(receiver.of(id)).toHaveLength(1);
    const eventIds = ids.map((id) => receiver.of(id)[0].eventId);
    expect(new Set(eventIds).size).toBe(ids.length);
    const rows = await rt.db('webhook_deliveries').whereIn('event_id', eventIds);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['delivered', 1]));
  }, 40_000);

  it('a receiver that fails gets the first attempt at once, then the back-off, not a resend every second', async () => {
    const name = `不可达测试局${Date.now()}`;
    receiver.failNames.add(name);
    const startedAt = Date.now();
    const id = await createTenderee(name);
    const first = await waitFor(`a first attempt for ${id}`, async () => {
      const d = await rt.db('webhook_deliveries as d').join('events as e', 'e.id', 'd.event_id').where('e.subject_id', id).first('d.*');
      return d && d.attempts >= 1 && d.status !== 'sending' ? d : undefined;
    }, 15_000, 20);
    expect(receiver.of(id)).toHaveLength(1);
    expect(receiver.of(id)[0].at - startedAt).toBeLessThan(10_000);
    expect(first).toMatchObject({ status: 'pending', attempts: 1 });
    expect(new Date(first.next_attempt_at).getTime() - Date.now()).toBeGreaterThan(webhookBackoffBaseMs / 4);
    await new Promise((r) => setTimeout(r, 4 * eventRelayIntervalMs));
    expect(receiver.of(id)).toHaveLength(1);
    expect((await rt.db('webhook_deliveries').where({ id: first.id }).first()).attempts).toBe(1);
  }, 30_000);
});
