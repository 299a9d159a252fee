// Issuers and banks call in with signed requests instead of API keys. The certificate named by
// Bidbond-Certificate must be registered to the sender named in the path, within its validity,
// chained to a configured root, and must verify the signature over "<timestamp>.<raw body>".
//
// A refusal must cost the service little, because anyone can make one: it is counted in /metrics
// (bidbond_webhook_rejected_total by reason) and, per sender address, written to the audit log at
// most once a minute, that event summing up the refusals from the address since its previous
// one. The counting is in Redis, not PostgreSQL: one atomic script per refusal (no row, no WAL,
// no lock) decides whether this refusal is the address's first of the minute, and only that one
// appends to the hash chain and takes its lock. Counting in PostgreSQL (INSERT ... ON CONFLICT DO
// UPDATE on a row per address and minute) would write and lock a row on every forged call, the
// very contention this avoids; Redis is on the request path already (rate limits).
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Request } from 'express';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type forge from 'node-forge';
import { Unauthorized } from '../errors';
import { run, statement } from '../db/statements';
import { appendAudit } from '../audit/service';
import { bankRowColumns, type BankRow } from '../registry/repo';
import { chainsToRoot, parseCertificatePem } from '../pki/certs';
import { certificateHeader, checkMessageSignatureAsync, signatureHeader, timestampHeader } from '../pki/messageSignature';
import type { AppDeps } from './deps';
import type { Metrics } from './metrics';
import { RefusalBudget, senderAddressKey, type RefusalSummary } from './refusalBudget';
import { BoundedMap } from '../domain/boundedMap';

export interface WebhookSender {
  type: 'issuer' | 'bank';
  id: string;
  fingerprint: string;
  /** A bank's registration, read with its certificate: what its notices are read against. */
  bank?: BankRow;
}

const fingerprintPattern = /^[0-9a-f]{64}$/;

/** What the check reads of a registered certificate (the registry owns the table). */
interface RegisteredCertificate {
  owner_type: string;
  owner_id: string;
  pem: string;
  retired_at: Date | null;
  not_before: Date;
  not_after: Date;
  bank?: BankRow;
}

// The certificates of every signed call that arrives while one such read is in flight, read
// together in the next: in a rush each call would otherwise cost the process a round trip of
// its own before its work even starts. One index lookup per fingerprint (db/statements.ts). A
// bank's registration comes with its certificate, so that its notices need no read of their
// own before they are acted on (deposits/notificationGroups.ts).
const certificatesByFingerprint = statement(
  'webhooks.certificates',
  `SELECT c.*, ${Object.keys(bankRowColumns).map((k) => `b.${k} AS bank_${k}`).join(', ')}
     FROM unnest($1::text[]) AS f(fingerprint)
    CROSS JOIN LATERAL (SELECT fingerprint, owner_type, owner_id, pem, retired_at, not_before, not_after FROM certificates WHERE fingerprint = f.fingerprint LIMIT 1) c
     LEFT JOIN LATERAL (SELECT * FROM banks WHERE c.owner_type = 'bank' AND id = c.owner_id LIMIT 1) b ON true`,
);

/** The bank's row among a certificate's columns (each `bank_<column>`), when it has one. */
function bankOf(row: Record<string, unknown>): BankRow | undefined {
  if (row.bank_id == null) return undefined;
  const bank: Record<string, unknown> = {};
  for (const k of Object.keys(bankRowColumns)) bank[k] = row[`bank_${k}`];
  return bank as unknown as BankRow;
}

/** Fingerprints read in one statement at most. */
export const certificateReadsPerStatementMax = 64;

interface CertificateRead {
  fingerprint: string;
  resolve: (cert: RegisteredCertificate | undefined) => void;
  reject: (err: unknown) => void;
}

/** One read in flight per database handle; the fingerprints asked for meanwhile wait for the next. */
class CertificateReader {
  private waiting: CertificateRead[] = [];
  private reading = false;

  constructor(private readonly db: Knex) {}

  read(fingerprint: string): Promise<RegisteredCertificate | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ fingerprint, resolve, reject });
      if (!this.reading) void this.next();
    });
  }

  private async next(): Promise<void> {
    this.reading = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, certificateReadsPerStatementMax);
      try {
        const rows = await run<RegisteredCertificate & { fingerprint: string }>(this.db, certificatesByFingerprint, [[...new Set(batch.map((r) => r.fingerprint))]]);
        const byFingerprint = new Map(rows.map((r) => [r.fingerprint, { ...r, bank: bankOf(r as unknown as Record<string, unknown>) }]));
        for (const r of batch) r.resolve(byFingerprint.get(r.fingerprint));
      } catch (err) {
        for (const r of batch) r.reject(err);
      }
    }
    this.reading = false;
  }
}

const readers = new WeakMap<Knex, CertificateReader>();

async function registeredCertificate(db: Knex, fingerprint: string): Promise<RegisteredCertificate | undefined> {
  let reader = readers.get(db);
  if (!reader) readers.set(db, (reader = new CertificateReader(db)));
  const cert = await reader.read(fingerprint);
  rememberRegistration(db, fingerprint, cert);
  return cert;
}

// What a certificate's row says of it never changes once registered (its owner, its PEM and
// so its validity, its bank's registration as a notice is read against it), except that it
// may be retired. A route whose transaction checks that when it claims the call's event
// (`rememberedRegistration` on its access) takes the rest from here, read once per process,
// instead of reading it on every call: in a rush of a bank's notices that read was one
// statement for every two credits. Only unretired certificates are remembered, and a call whose
// certificate the claim finds retired is authenticated again from the database
// (`CertificateRetiredAtClaim`), which forgets it.
/** Registrations remembered per process and database handle at most. */
export const rememberedRegistrationsMax = 1000;
const registrationsByDb = new WeakMap<Knex, BoundedMap<string, RegisteredCertificate>>();

function rememberRegistration(db: Knex, fingerprint: string, cert: RegisteredCertificate | undefined): void {
  let remembered = registrationsByDb.get(db);
  if (!remembered) registrationsByDb.set(db, (remembered = new BoundedMap(rememberedRegistrationsMax)));
  if (!cert || cert.retired_at) {
    remembered.delete(fingerprint);
    return;
  }
  remembered.set(fingerprint, cert);
}

/** A signed call's certificate was found retired when its event was claimed, after its
 *  registration had been taken from memory. */
export class CertificateRetiredAtClaim extends Unauthorized {
  constructor() {
    super('certificate_retired', 'the certificate has been retired');
  }
}

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
const chainChecksByRoots = new WeakMap<object, BoundedMap<string, CheckedCertificate>>();

function checkedCertificate(fingerprint: string, pem: string, trustRoots: forge.pki.Certificate[], now: Date): CheckedCertificate {
  let chainChecks = chainChecksByRoots.get(trustRoots);
  if (!chainChecks) chainChecksByRoots.set(trustRoots, (chainChecks = new BoundedMap(chainCheckCacheEntriesMax)));
  const cached = chainChecks.get(fingerprint);
  if (cached && cached.until > now.getTime()) return cached;
  const { cert } = parseCertificatePem(pem);
  const checked = { trusted: chainsToRoot(cert, trustRoots, [], now), publicKey: createPublicKey(pem), until: now.getTime() + chainCheckCacheSeconds * 1000 };
  chainChecks.set(fingerprint, checked);
  return checked;
}

/** What checking a signed call needs from the app's dependencies. */
export interface WebhookAuthDeps {
  db: Knex;
  redis: Redis;
  metrics: Pick<Metrics, 'webhookRejected'>;
  trustRoots: forge.pki.Certificate[];
  /** Redis keys are prefixed with it, like the queues and rate limits. */
  keyPrefix: string;
}

/** The check's dependencies, as the app has them. */
export function webhookAuthDeps(deps: Pick<AppDeps, 'db' | 'redis' | 'metrics' | 'trustRoots' | 'config'>): WebhookAuthDeps {
  return { db: deps.db, redis: deps.redis, metrics: deps.metrics, trustRoots: deps.trustRoots, keyPrefix: deps.config.BIDBOND_QUEUE_PREFIX };
}

// ---- refusals ---------------------------------------------------------------------------------

/** One audit event per sender address per window at most. */
export const webhookRejectedAuditWindowSeconds = 60;
/** And at most this many refusal events per window from all addresses together, so that many
 *  addresses (a botnet, or the 2^64 addresses of one IPv6 subnet) cannot grow the chain either. */
export const webhookRejectedAuditEventsPerWindowMax = 120;
/** Refusals not yet summarised in an audit event are kept this long per address; an address
 *  silent for longer has its last refusals only in /metrics. Bounds what Redis holds. */
export const webhookRejectedPendingSeconds = 3600;

const refusals = new RefusalBudget('webhook-rejected', {
  windowSeconds: webhookRejectedAuditWindowSeconds,
  eventsPerWindowMax: webhookRejectedAuditEventsPerWindowMax,
  pendingSeconds: webhookRejectedPendingSeconds,
});

/** Counts a refusal and says whether to audit it, with the summary to write. */
function countRefusal(deps: WebhookAuthDeps, address: string, reason: string, now: Date): Promise<RefusalSummary | undefined> {
  deps.metrics.webhookRejected.inc({ reason });
  return refusals.count(deps.redis, deps.keyPrefix, address, reason, now);
}

// ---- the check --------------------------------------------------------------------------------

export async function authenticateWebhook(
  req: Request,
  rawBody: Buffer,
  deps: WebhookAuthDeps,
  senderType: 'issuer' | 'bank',
  senderId: string,
  now = new Date(),
  options: { rememberedRegistration?: boolean } = {},
): Promise<WebhookSender> {
  const { db, trustRoots } = deps;
  const fingerprint = req.get(certificateHeader) ?? '';
  const fail = async (code: string, message: string): Promise<never> => {
    const address = senderAddressKey(req.ip);
    const summary = await countRefusal(deps, address, code, now);
    if (summary) {
      await db.transaction((tx) =>
        appendAudit(tx, {
          actor: { type: 'anonymous' },
          action: 'security.webhook_rejected',
          entityType: senderType,
          entityId: senderId,
          // This refusal's details, and how many came from the address since its last event.
          data: { code, fingerprint: fingerprint.slice(0, 64), path: req.path, ip: req.ip, senderAddress: address, bodyBytes: rawBody.length, refusals: summary },
        }),
      );
    }
    throw new Unauthorized(code, message);
  };
  if (!req.get(timestampHeader) || !req.get(signatureHeader) || !fingerprint) {
    return fail('signature_missing', 'Bidbond-Timestamp, Bidbond-Certificate and Bidbond-Signature are required');
  }
  if (!fingerprintPattern.test(fingerprint)) return fail('certificate_unknown', 'Bidbond-Certificate must be a lowercase hex SHA-256');
  const cert = (options.rememberedRegistration ? registrationsByDb.get(db)?.get(fingerprint) : undefined) ?? (await registeredCertificate(db, fingerprint));
  if (!cert) return fail('certificate_unknown', 'no registered certificate has this fingerprint');
  if (cert.owner_type !== senderType || cert.owner_id !== senderId) {
    return fail('certificate_sender_mismatch', `the certificate is not registered to this ${senderType}`);
  }
  if (cert.retired_at) return fail('certificate_retired', 'the certificate has been retired');
  if (now < cert.not_before || now > cert.not_after) return fail('certificate_expired', 'the certificate is outside its validity period');
  const checked = checkedCertificate(fingerprint, cert.pem, trustRoots, now);
  if (!checked.trusted) return fail('certificate_untrusted', 'the certificate does not chain to a trusted root');
  const problem = await checkMessageSignatureAsync(
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
  return cert.bank ? { type: senderType, id: senderId, fingerprint, bank: cert.bank } : { type: senderType, id: senderId, fingerprint };
}
