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

/** Checks the timestamp window and the RSA signature against the given certificate (PEM, or
 *  its public key already parsed). Returns null when both hold, or the reason they do not. */
export function checkMessageSignature(
  headers: { timestamp?: string; signature?: string },
  body: Buffer,
  certificate: string | KeyObject,
  now = new Date(),
): SignatureFailure | null {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return 'signature_missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'timestamp_invalid';
  const skewSeconds = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (skewSeconds > signatureToleranceSeconds) return 'timestamp_out_of_tolerance';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature) || signature.length > 2048) return 'signature_invalid';
  try {
    const key = typeof certificate === 'string' ? createPublicKey(certificate) : certificate;
    const ok = rsaVerify('sha256', signedPayload(timestamp, body), key, Buffer.from(signature, 'base64'));
    return ok ? null : 'signature_invalid';
  } catch {
    return 'signature_invalid';
  }
}
