// The HTTP conversation with a bank, shared by every protocol: bounded reads, timeouts, signed
// requests, and the rule that a timeout, a network error or a 5xx leaves the outcome unknown
// (BankUnreachable: ask for status before sending anything again).
import { Readable } from 'node:stream';
import { BankMessageInvalid, BankUnreachable, type BankConnection, type StatusReport } from './types';
import { xmlBodyBytesMax } from './xmlLimits';
import { isoStatusOutcome } from './iso20022/pain002';

/** How long we wait for a bank's answer (headers and, for whole documents, the body), and how
 *  long a streamed statement may stall while we are waiting for its next bytes. */
export const bankRequestTimeoutMs = 30_000;
/** A status report or payment answer larger than this is not one we read. */
export const bankResponseBytesMax = xmlBodyBytesMax;

export interface BankResponse {
  status: number;
  contentType: string;
  /** The body read whole (bounded), unless stream was asked for. */
  body?: Buffer;
  stream?: Readable;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  return [e?.name, e?.message, e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ');
}

async function readBounded(reader: ReadableStreamDefaultReader<Uint8Array>, bytesMax: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel().catch(() => undefined);
      throw new BankMessageInvalid(`bank response exceeds ${bytesMax} bytes`);
    }
    parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(parts);
}

/** A node Readable over a fetch body whose stall timer runs only while we wait on the network:
 *  a consumer that is slow to take entries (back-pressure) never trips it. */
export class StallGuardedBody extends Readable {
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly stallMs: number,
    private readonly abort: () => void,
  ) {
    super();
  }

  override _read(): void {
    let stalled = false;
    const timer = setTimeout(() => {
      stalled = true;
      this.abort();
    }, this.stallMs);
    this.reader.read().then(
      ({ done, value }) => {
        clearTimeout(timer);
        if (done) this.push(null);
        else this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      },
      (err: unknown) => {
        clearTimeout(timer);
        this.destroy(
          new BankUnreachable(stalled ? `bank stream stalled for ${this.stallMs} ms` : `bank stream broke: ${describe(err)}`, err),
        );
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.reader.cancel().catch(() => undefined);
    callback(err);
  }
}

export async function bankRequest(
  conn: BankConnection,
  method: 'GET' | 'POST',
  url: string,
  opts: { body?: Buffer; headers?: Record<string, string>; stream?: boolean },
): Promise<BankResponse> {
  const timeoutMs = conn.timeoutMs ?? bankRequestTimeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const body = opts.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = { ...(opts.headers ?? {}), ...(conn.sign ? conn.sign(body) : {}) };
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: method === 'POST' ? body : undefined, signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    throw new BankUnreachable(timedOut ? `${method} ${url}: no answer within ${timeoutMs} ms` : `${method} ${url}: ${describe(err)}`, err);
  }
  const contentType = res.headers.get('content-type') ?? '';
  if (res.status >= 500) {
    clearTimeout(timer);
    await res.body?.cancel().catch(() => undefined);
    throw new BankUnreachable(`${method} ${url}: HTTP ${res.status}, outcome unknown`);
  }
  if (res.status === 408 || res.status === 429) {
    // Not refused on its merits: the bank may have the request and may still act on it later.
    clearTimeout(timer);
    await res.body?.cancel().catch(() => undefined);
    throw new BankUnreachable(`${method} ${url}: HTTP ${res.status}`);
  }
  if (!res.body) {
    clearTimeout(timer);
    return { status: res.status, contentType, body: Buffer.alloc(0) };
  }
  const reader = res.body.getReader();
  if (opts.stream && res.status === 200) {
    clearTimeout(timer);
    return { status: res.status, contentType, stream: new StallGuardedBody(reader, timeoutMs, () => controller.abort()) };
  }
  try {
    return { status: res.status, contentType, body: await readBounded(reader, bankResponseBytesMax) };
  } catch (err) {
    if (err instanceof BankMessageInvalid) throw err;
    throw new BankUnreachable(timedOut ? `${method} ${url}: body not complete within ${timeoutMs} ms` : `${method} ${url}: ${describe(err)}`, err);
  } finally {
    clearTimeout(timer);
  }
}

export function joinUrl(endpoint: string, path: string): string {
  return `${endpoint.replace(/\/+$/, '')}${path}`;
}

export function snippet(body: Buffer | undefined): string {
  return body ? body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ') : '';
}

/** Adds every asked-for transfer the report does not list. A status given for the whole file
 *  (group level) applies to each of its transfers, as ISO 20022 defines; without one the bank
 *  has said nothing about it, which is `unknown`, not rejected. */
export function completeStatusReport(report: StatusReport, endToEndIds: string[]): StatusReport {
  const listed = new Set(report.transactions.map((t) => t.endToEndId));
  const transactions = [...report.transactions];
  for (const id of endToEndIds) {
    if (listed.has(id)) continue;
    if (report.groupStatus) {
      transactions.push({
        endToEndId: id,
        outcome: isoStatusOutcome(report.groupStatus),
        bankStatus: report.groupStatus,
        ...(report.groupReasonCode ? { reasonCode: report.groupReasonCode } : {}),
      });
    } else {
      transactions.push({ endToEndId: id, outcome: 'unknown', bankStatus: '' });
    }
  }
  return { ...report, transactions };
}

/** The answer to a payment that cannot be read leaves the payment's fate unknown: the bank may
 *  well have taken it. Reporting it as BankUnreachable makes the caller ask for status instead
 *  of treating it as refused and paying again under a new message id. */
export function unreadableIsUnknown<T>(url: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof BankMessageInvalid) throw new BankUnreachable(`${url}: answer unreadable (${err.message}); outcome unknown`, err);
    throw err;
  }
}

export function allUnknown(originalMessageId: string, endToEndIds: string[]): StatusReport {
  return { originalMessageId, transactions: endToEndIds.map((id) => ({ endToEndId: id, outcome: 'unknown' as const, bankStatus: '' })) };
}

