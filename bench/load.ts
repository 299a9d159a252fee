// The senders of a bench: requests signed and posted from another process (bench/sender.ts), so
// that their signing and HTTP work is not counted as the service's and does not share its event
// loop or its heap (a bank or an issuer is another machine). The bench process keeps the service;
// the child signs, sends and times.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { MessageSigner } from '../src/pki/messageSignature';
import type { SenderJob } from './sender';

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
  /** Requests sent later than `lateAfterMs` (bench/sender.ts) after they were due (a scheduled
   *  load only). */
  behindSchedule: number;
  seconds: number;
}

/** The requests of one pass: their bodies, made when the pass is about to start, and who signs
 *  them. */
export interface RequestBatch {
  bodies: () => Buffer[];
  signer: MessageSigner;
}

/** Hands the bodies to the child. They are made here and referenced from nowhere once sent, so
 *  that the service's process holds none of them during the pass: bodies kept alive in the
 *  young generation would be copied by its first collections, as a pause no request of a
 *  running service meets, and a full collection forced to clear them instead makes V8 start
 *  the pass with its heap limits at their tightest (a major collection every 0.6 s for the
 *  first two seconds, instead of one in the pass). */
function sendJob(child: ReturnType<typeof spawn>, endpoint: string, batch: RequestBatch, shape: LoadShape, expect: Expected): void {
  const job: SenderJob = { endpoint, bodies: batch.bodies(), signer: batch.signer, shape, expect };
  child.send(job);
}

/** Posts the batch's requests to `endpoint` from a child process in the given shape. */
export async function load(endpoint: string, batch: RequestBatch, shape: LoadShape, expect: Expected): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'sender.ts')], {
    cwd: path.join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  try {
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    exited.catch(() => undefined);
    const reply = () => Promise.race([new Promise<Partial<LoadResult> & { error?: string; ready?: true }>((resolve) => child.once('message', resolve as (m: unknown) => void)), exited]);
    // The child signs every request before the clock starts.
    const ready = reply();
    sendJob(child, endpoint, batch, shape, expect);
    await ready;
    const result = reply();
    child.send('go');
    const out = await result;
    if (out.error) throw new Error(out.error);
    return { latencies: out.latencies!, behindSchedule: out.behindSchedule!, seconds: out.seconds! };
  } finally {
    child.kill();
  }
}
