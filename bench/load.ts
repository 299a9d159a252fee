// The senders of a bench: signed requests posted from another process, so that their HTTP work
// is not counted as the service's and does not share its event loop (a bank or an issuer is
// another machine). The bench process keeps the service; the child only sends and times.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface SignedRequest {
  body: Buffer;
  headers: Record<string, string>;
}

/** What every answer must be: its status and, where given, one field of its JSON body. */
export interface Expected {
  status: number;
  field?: { name: string; value: string };
}

export type LoadShape =
  /** As fast as `concurrency` senders go, each waiting for its answer before the next. */
  | { concurrency: number }
  /** Request i is due at i / ratePerSecond; its latency counts from when it was due, so time
   *  spent waiting for a free sender is the service's. At most `inFlightMax` are in flight. */
  | { ratePerSecond: number; inFlightMax: number };

export interface LoadResult {
  /** Milliseconds, in the order the answers came. */
  latencies: number[];
  /** Requests sent more than 5 ms after they were due (a scheduled load only). */
  behindSchedule: number;
  seconds: number;
}

// Plain node:http with a keep-alive agent: a sender as light as the platform allows, so that the
// bench measures the service and not its client.
const loadScript = `
const http = require('node:http');
process.once('message', (job) => {
const { endpoint, requests, shape, expect } = job;
process.send({ ready: true });
process.once('message', () => run(endpoint, requests, shape, expect));
});
function run(endpoint, requests, shape, expect) {
const url = new URL(endpoint);
const agent = new http.Agent({ keepAlive: true, maxSockets: shape.concurrency ?? shape.inFlightMax });
const latencies = [];
let behindSchedule = 0;
function send({ body, headers }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let ok = res.statusCode === expect.status;
        if (ok && expect.field) { try { ok = JSON.parse(text)[expect.field.name] === expect.field.value; } catch { ok = false; } }
        if (!ok) reject(new Error(url.pathname + ': ' + res.statusCode + ' ' + text.slice(0, 500)));
        else resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(Buffer.from(body));
  });
}
async function closedLoop() {
  let next = 0;
  await Promise.all(Array.from({ length: shape.concurrency }, async () => {
    while (next < requests.length) {
      const r = requests[next++];
      const t0 = performance.now();
      await send(r);
      latencies.push(performance.now() - t0);
    }
  }));
}
async function onSchedule() {
  const start = performance.now();
  const inFlight = new Set();
  for (let i = 0; i < requests.length; i++) {
    const due = start + (i * 1000) / shape.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= shape.inFlightMax) await Promise.race(inFlight);
    if (performance.now() - due > 5) behindSchedule++;
    const p = send(requests[i]).then(() => { latencies.push(performance.now() - due); inFlight.delete(p); });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}
const started = performance.now();
(shape.ratePerSecond ? onSchedule() : closedLoop()).then(
  () => process.send({ latencies, behindSchedule, seconds: (performance.now() - started) / 1000 }),
  (e) => process.send({ error: String((e && e.stack) || e) }),
);
}
`;

/** A full collection of the bench process's heap, which is also the service's: what the bench
 *  itself allocated to prepare a pass (thousands of signed requests, their copy for the child)
 *  would otherwise be collected in the first moments of the pass, as a pause no request of a
 *  running service meets. */
function collectBenchGarbage(): void {
  if (typeof globalThis.gc !== 'function') {
    setFlagsFromString('--expose-gc');
    globalThis.gc = runInNewContext('gc') as typeof globalThis.gc;
  }
  globalThis.gc!();
}

/** Posts `requests` to `endpoint` from a child process in the given shape. */
export async function load(endpoint: string, requests: SignedRequest[], shape: LoadShape, expect: Expected): Promise<LoadResult> {
  const child = spawn(process.execPath, ['-e', loadScript], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  try {
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    exited.catch(() => undefined);
    const reply = () => Promise.race([new Promise<Partial<LoadResult> & { error?: string; ready?: true }>((resolve) => child.once('message', resolve as (m: unknown) => void)), exited]);
    // The requests go to the child before the clock starts; the clock starts once they are there
    // and the bench's own garbage is collected.
    const ready = reply();
    child.send({ endpoint, requests: requests.map((r) => ({ body: new Uint8Array(r.body), headers: r.headers })), shape, expect });
    await ready;
    collectBenchGarbage();
    const result = reply();
    child.send('go');
    const out = await result;
    if (out.error) throw new Error(out.error);
    return { latencies: out.latencies!, behindSchedule: out.behindSchedule!, seconds: out.seconds! };
  } finally {
    child.kill();
  }
}
