// A bench's senders (bench/load.ts starts this file as a child process): a bank or an issuer is
// another machine, so its requests are signed and posted from another process, and neither its
// HTTP work nor its signing shares the service's event loop or heap. It gets the bodies and the
// sender's key, signs every body before the clock starts (within the ±300 s window), then posts
// them in the shape asked and sends back the latencies.
import http from 'node:http';
import { signMessage, type MessageSigner } from '../src/pki/messageSignature';
import type { Expected, LoadResult, LoadShape } from './load';

/** What the bench process sends this one first. */
export interface SenderJob {
  endpoint: string;
  bodies: Uint8Array[];
  signer: MessageSigner;
  shape: LoadShape;
  expect: Expected;
}

/** A request sent more than this long after it was due counts as behind schedule. */
const lateAfterMs = 5;

interface Signed {
  body: Buffer;
  headers: Record<string, string>;
}

function run(job: SenderJob, requests: Signed[]): Promise<LoadResult> {
  const { shape, expect } = job;
  const url = new URL(job.endpoint);
  // Plain node:http with a keep-alive agent: a sender as light as the platform allows, so that
  // the bench measures the service and not its client.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 'concurrency' in shape ? shape.concurrency : shape.inFlightMax });
  const latencies: number[] = [];
  let behindSchedule = 0;
  const send = ({ body, headers }: Signed) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let ok = res.statusCode === expect.status;
            if (ok && expect.field) {
              try {
                ok = JSON.parse(text)[expect.field.name] === expect.field.value;
              } catch {
                ok = false;
              }
            }
            if (ok) resolve();
            else reject(new Error(`${url.pathname}: ${res.statusCode} ${text.slice(0, 500)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const closedLoop = async (concurrency: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests.length) {
          const r = requests[next++];
          const t0 = performance.now();
          await send(r);
          latencies.push(performance.now() - t0);
        }
      }),
    );
  };
  const onSchedule = async (ratePerSecond: number, inFlightMax: number) => {
    const start = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < requests.length; i++) {
      const due = start + (i * 1000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inFlight.size >= inFlightMax) await Promise.race(inFlight);
      if (performance.now() - due > lateAfterMs) behindSchedule++;
      const p: Promise<void> = send(requests[i]).then(() => {
        latencies.push(performance.now() - due);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  };
  const started = performance.now();
  return ('concurrency' in shape ? closedLoop(shape.concurrency) : onSchedule(shape.ratePerSecond, shape.inFlightMax)).then(() => ({
    latencies,
    behindSchedule,
    seconds: (performance.now() - started) / 1000,
  }));
}

process.once('message', (job: SenderJob) => {
  const requests = job.bodies.map((b) => {
    const body = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return { body, headers: signMessage(body, job.signer) };
  });
  process.send!({ ready: true });
  process.once('message', () => {
    run(job, requests).then(
      (result) => process.send!(result),
      (e: unknown) => process.send!({ error: String((e instanceof Error && e.stack) || e) }),
    );
  });
});
