// The one HTTP client that calls the centre's registered endpoints. A URL is only a name: the
// host is resolved here, every address it resolves to is checked, and the connection goes to
// an address that was checked (so a name that resolves differently a second time, DNS
// rebinding, cannot slip through). Redirects are never followed; time and the bytes read of
// the answer are bounded.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isForbiddenAddress } from './rules';

/** The whole exchange, connect to last byte: a receiver should answer fast and work later. */
export const webhookTimeoutMs = 10_000;
/** Of the receiver's answer we keep only a prefix, for the attempt's record. */
export const webhookResponseBytesMax = 16 * 1024;
/** Addresses one host name may resolve to that we look at; more is a misconfigured name. */
export const resolvedAddressesMax = 32;

export class DestinationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefused';
  }
}

export interface Destination {
  url: URL;
  /** Every address the host resolved to, each checked; the connection tries them in order. */
  addresses: { address: string; family: 4 | 6 }[];
}

/** Resolves the URL's host and checks every address it resolves to. */
export async function resolveDestination(rawUrl: string, opts: { allowPrivate: boolean }): Promise<Destination> {
  const url = new URL(rawUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DestinationRefused('only http and https URLs are called');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).slice(0, resolvedAddressesMax);
    } catch (e) {
      throw new DestinationRefused(`cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (addresses.length === 0) throw new DestinationRefused(`${host} resolves to no address`);
  if (!opts.allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) throw new DestinationRefused(`${host} resolves to ${bad.address}, a private, loopback or link-local address`);
  }
  return { url, addresses: addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })) };
}

export interface PostResult {
  status: number;
  /** The first `webhookResponseBytesMax` bytes of the answer. */
  bodyPrefix: string;
}

/** POSTs `body` to a checked destination. Resolves with any HTTP status (a 3xx is not
 *  followed); rejects on a network error or when the time runs out. */
export function postTo(dest: Destination, body: Buffer, headers: Record<string, string>, timeoutMs = webhookTimeoutMs): Promise<PostResult> {
  // The socket is opened only to checked addresses, never to a second answer of the resolver;
  // Host and the TLS name stay the URL's host.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, dest.addresses);
    else callback(null, dest.addresses[0].address, dest.addresses[0].family);
  };
  const client = dest.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = client.request(
      dest.url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), 'User-Agent': 'bidbond-webhooks', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < webhookResponseBytesMax) {
            const part = chunk.subarray(0, webhookResponseBytesMax - kept);
            chunks.push(part);
            kept += part.length;
          }
          // Past the bound the rest is not worth reading: the status is all that counts.
          if (kept >= webhookResponseBytesMax) {
            finish(() => resolve({ status: res.statusCode ?? 0, bodyPrefix: Buffer.concat(chunks).toString('utf8') }));
            res.destroy();
          }
        });
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, bodyPrefix: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (e) => finish(() => reject(e)));
      },
    );
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`no complete answer within ${timeoutMs} ms`)));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish(() => reject(e)));
    req.end(body);
  });
}
