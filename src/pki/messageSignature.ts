// Signed messages between the service and issuers or banks, in both directions:
//   Bidbond-Timestamp:   unix seconds
//   Bidbond-Certificate: lowercase hex SHA-256 of the signer certificate's DER
//   Bidbond-Signature:   base64 RSA-SHA256 (PKCS#1 v1.5) over "<timestamp>.<raw body bytes>"
// Signing and verifying use Node's crypto; certificates are looked up and chained elsewhere.
import { createPublicKey, sign as rsaSign, verify as rsaVerify, type KeyObject } from 'node:crypto';

export const timestampHeader = 'bidbond-timestamp';
export const certificateHeader = 'bidbond-certificate';
export const signatureHeader = 'bidbond-signature';

/** Both directions: a message from the future is as suspect as a stale one. */
export const signatureToleranceSeconds = 300;

export interface MessageSigner {
  keyPem: string;
  /** Fingerprint of the certificate that goes with the key. */
  fingerprint: string;
}

function signedPayload(timestamp: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]);
}

export function signMessage(body: Buffer, signer: MessageSigner, now = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = rsaSign('sha256', signedPayload(timestamp, body), signer.keyPem).toString('base64');
  return {
    'Bidbond-Timestamp': timestamp,
    'Bidbond-Certificate': signer.fingerprint,
    'Bidbond-Signature': signature,
  };
}

export type SignatureFailure =
  | 'signature_missing'
  | 'timestamp_invalid'
  | 'timestamp_out_of_tolerance'
  | 'signature_invalid';

/** The headers read, or why they fail before the signature's own check: present, the timestamp
 *  in the window, the signature well-formed base64. */
function readSignatureHeaders(headers: { timestamp?: string; signature?: string }, now: Date): SignatureFailure | { timestamp: string; signature: Buffer } {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return 'signature_missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'timestamp_invalid';
  const skewSeconds = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (skewSeconds > signatureToleranceSeconds) return 'timestamp_out_of_tolerance';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature) || signature.length > 2048) return 'signature_invalid';
  return { timestamp, signature: Buffer.from(signature, 'base64') };
}

/** Checks the timestamp window and the RSA signature against the given certificate (PEM, or
 *  its public key already parsed). Returns null when both hold, or the reason they do not. */
export function checkMessageSignature(
  headers: { timestamp?: string; signature?: string },
  body: Buffer,
  certificate: string | KeyObject,
  now = new Date(),
): SignatureFailure | null {
  const checked = readSignatureHeaders(headers, now);
  if (typeof checked === 'string') return checked;
  try {
    const key = typeof certificate === 'string' ? createPublicKey(certificate) : certificate;
    return rsaVerify('sha256', signedPayload(checked.timestamp, body), key, checked.signature) ? null : 'signature_invalid';
  } catch {
    return 'signature_invalid';
  }
}

/** Signed payloads up to this size are checked on the event loop: the whole check of a single
 *  credit or issuance (about 600 bytes) takes 24 µs there, of a 64 KiB payload 78 µs, less than
 *  handing the job to libuv's thread pool and waking the loop again costs on a busy two-core
 *  machine. Checking every call on the pool took 5–10% more of the service's CPU per call in
 *  `bench/issuance.ts` and `bench/notifications.ts`. A larger payload (a bank's file of
 *  thousands of credits: a megabyte takes 0.9 ms to hash and check) goes to the pool, so the
 *  loop keeps serving requests meanwhile. */
export const signatureCheckOnLoopBytesMax = 64 * 1024;

/** The same check as `checkMessageSignature`, with the RSA verification of a payload larger than
 *  `signatureCheckOnLoopBytesMax` on libuv's thread pool. */
export function checkMessageSignatureAsync(
  headers: { timestamp?: string; signature?: string },
  body: Buffer,
  publicKey: KeyObject,
  now = new Date(),
): Promise<SignatureFailure | null> {
  if (body.length <= signatureCheckOnLoopBytesMax) return Promise.resolve(checkMessageSignature(headers, body, publicKey, now));
  const checked = readSignatureHeaders(headers, now);
  if (typeof checked === 'string') return Promise.resolve(checked);
  return new Promise((resolve) => {
    try {
      rsaVerify('sha256', signedPayload(checked.timestamp, body), publicKey, checked.signature, (err, ok) => resolve(!err && ok ? null : 'signature_invalid'));
    } catch {
      resolve('signature_invalid');
    }
  });
}
