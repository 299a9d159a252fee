// Issuers and banks call in with signed requests instead of API keys. The certificate named by
// Bidbond-Certificate must be registered to the sender named in the path, within its validity,
// chained to a configured root, and must verify the signature over "<timestamp>.<raw body>".
// A failure records a security event and nothing else.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Request } from 'express';
import type { Knex } from 'knex';
import type forge from 'node-forge';
import { Unauthorized } from '../errors';
import { appendAudit } from '../audit/service';
import { chainsToRoot, parseCertificatePem } from '../pki/certs';
import { certificateHeader, checkMessageSignature, signatureHeader, timestampHeader } from '../pki/messageSignature';

export interface WebhookSender {
  type: 'issuer' | 'bank';
  id: string;
  fingerprint: string;
}

const fingerprintPattern = /^[0-9a-f]{64}$/;

/** Parsing a certificate, checking its chain in node-forge's JavaScript RSA and reading its
 *  public key cost about a millisecond or two; the outcome per certificate is kept this long. Registration, retirement and the
 *  validity window are still read from the database on every request. */
export const chainCheckCacheSeconds = 60;
export const chainCheckCacheEntriesMax = 1000;
interface CheckedCertificate {
  trusted: boolean;
  publicKey: KeyObject;
  until: number;
}
// Per set of roots, so a process that serves several configurations never mixes their answers.
const chainChecksByRoots = new WeakMap<object, Map<string, CheckedCertificate>>();

function checkedCertificate(fingerprint: string, pem: string, trustRoots: forge.pki.Certificate[], now: Date): CheckedCertificate {
  let chainChecks = chainChecksByRoots.get(trustRoots);
  if (!chainChecks) chainChecksByRoots.set(trustRoots, (chainChecks = new Map()));
  const cached = chainChecks.get(fingerprint);
  if (cached && cached.until > now.getTime()) return cached;
  const { cert } = parseCertificatePem(pem);
  const checked = { trusted: chainsToRoot(cert, trustRoots, [], now), publicKey: createPublicKey(pem), until: now.getTime() + chainCheckCacheSeconds * 1000 };
  if (chainChecks.size >= chainCheckCacheEntriesMax) chainChecks.clear();
  chainChecks.set(fingerprint, checked);
  return checked;
}

export async function authenticateWebhook(
  req: Request,
  rawBody: Buffer,
  db: Knex,
  trustRoots: forge.pki.Certificate[],
  senderType: 'issuer' | 'bank',
  senderId: string,
  now = new Date(),
): Promise<WebhookSender> {
  const fingerprint = req.get(certificateHeader) ?? '';
  const fail = async (code: string, message: string): Promise<never> => {
    await db.transaction((tx) =>
      appendAudit(tx, {
        actor: { type: 'anonymous' },
        action: 'security.webhook_rejected',
        entityType: senderType,
        entityId: senderId,
        data: { code, fingerprint: fingerprint.slice(0, 64), path: req.path, ip: req.ip, bodyBytes: rawBody.length },
      }),
    );
    throw new Unauthorized(code, message);
  };
  if (!req.get(timestampHeader) || !req.get(signatureHeader) || !fingerprint) {
    return fail('signature_missing', 'Bidbond-Timestamp, Bidbond-Certificate and Bidbond-Signature are required');
  }
  if (!fingerprintPattern.test(fingerprint)) return fail('certificate_unknown', 'Bidbond-Certificate must be a lowercase hex SHA-256');
  const cert = await db('certificates').where({ fingerprint }).first();
  if (!cert) return fail('certificate_unknown', 'no registered certificate has this fingerprint');
  if (cert.owner_type !== senderType || cert.owner_id !== senderId) {
    return fail('certificate_sender_mismatch', `the certificate is not registered to this ${senderType}`);
  }
  if (cert.retired_at) return fail('certificate_retired', 'the certificate has been retired');
  if (now < cert.not_before || now > cert.not_after) return fail('certificate_expired', 'the certificate is outside its validity period');
  const checked = checkedCertificate(fingerprint, cert.pem, trustRoots, now);
  if (!checked.trusted) return fail('certificate_untrusted', 'the certificate does not chain to a trusted root');
  const problem = checkMessageSignature(
    { timestamp: req.get(timestampHeader), signature: req.get(signatureHeader) },
    rawBody,
    checked.publicKey,
    now,
  );
  if (problem) {
    const messages: Record<string, string> = {
      signature_missing: 'the signature headers are missing',
      timestamp_invalid: 'Bidbond-Timestamp must be unix seconds',
      timestamp_out_of_tolerance: 'Bidbond-Timestamp is more than 300 s from the server clock',
      signature_invalid: 'the signature does not verify over "<timestamp>.<raw body>"',
    };
    return fail(problem, messages[problem]);
  }
  return { type: senderType, id: senderId, fingerprint };
}
