// The demo's only way in: HTTP to the public API and to the sandbox bank's customer API, as an
// outside caller would make it. Bounded concurrency, polling with deadlines, and 429s honoured.
import { signMessage, type MessageSigner } from '../pki/messageSignature';

/** Requests in flight at once: enough to keep a 2-core machine busy, few enough that the
 *  database pool (10 per process) is never the queue. */
export const httpConcurrency = 8;
/** One request may take this long before the demo calls it a failure. */
export const requestTimeoutMs = 30_000;
/** A 429 is waited out (its Retry-After), at most this many times per request. */
export const rateLimitedRetriesMax = 5;
/** A rate-limit wait is never longer than this, whatever the server says. */
export const retryAfterMsMax = 61_000;

export class DemoHttpError extends Error {
  constructor(readonly method: string, readonly url: string, readonly status: number, readonly body: unknown) {
    super(`${method} ${new URL(url).pathname}: ${status} ${typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body).slice(0, 300)}`);
    this.name = 'DemoHttpError';
  }
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  /** Raw bytes (signed webhooks, PDFs) instead of a JSON body. */
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Statuses the caller handles itself instead of an exception. */
  accept?: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function call<T = any>(method: string, url: string, opts: RequestOptions = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  let payload: Buffer | string | undefined;
  if (opts.raw) {
    payload = opts.raw;
    headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
  } else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(requestTimeoutMs) });
    if (res.status === 429 && attempt < rateLimitedRetriesMax) {
      const retryAfterS = Number(res.headers.get('retry-after') ?? '1');
      await res.arrayBuffer();
      await sleep(Math.min(Math.max(retryAfterS, 1) * 1000, retryAfterMsMax));
      continue;
    }
    const type = res.headers.get('content-type') ?? '';
    const body = type.includes('application/json') ? await res.json() : type.includes('application/pdf') ? Buffer.from(await res.arrayBuffer()) : await res.text();
    if (res.status >= 400 && !(opts.accept ?? []).includes(res.status)) throw new DemoHttpError(method, url, res.status, body);
    return { status: res.status, body: body as T };
  }
}

/** A JSON client bound to a base URL and (optionally) an API key. */
export function client(baseUrl: string, key?: string) {
  const u = (p: string) => `${baseUrl.replace(/\/$/, '')}${p}`;
  return {
    baseUrl,
    get: <T = any>(p: string, o: RequestOptions = {}) => call<T>('GET', u(p), { key, ...o }).then((r) => r.body),
    post: <T = any>(p: string, body?: unknown, o: RequestOptions = {}) => call<T>('POST', u(p), { key, body: body ?? {}, ...o }).then((r) => r.body),
    request: <T = any>(method: string, p: string, o: RequestOptions = {}) => call<T>(method, u(p), { key, ...o }),
    /** A signed webhook, as an issuer or bank sends it: the signature covers the exact bytes. */
    signed: <T = any>(p: string, body: unknown, signer: MessageSigner, o: RequestOptions = {}) => {
      const raw = Buffer.from(JSON.stringify(body));
      return call<T>('POST', u(p), { raw, contentType: 'application/json', headers: signMessage(raw, signer), ...o });
    },
  };
}
export type Client = ReturnType<typeof client>;

/** Every page of a list endpoint (`{data, hasMore, nextCursor}`), up to `pagesMax` pages. */
export async function listAll<T = any>(api: Client, path: string, pagesMax: number): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < pagesMax; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res: { data: T[]; hasMore: boolean; nextCursor: string | null } = await api.get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...res.data);
    if (!res.hasMore) return out;
    cursor = res.nextCursor;
  }
  throw new Error(`${path}: more than ${pagesMax} pages`);
}

/** Runs `fn` over `items` with at most `limit` at once, calling `onDone` after each. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, onDone?: () => void): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i], i);
      onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Polls `probe` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export { sleep };
