// The voucher signer's key and certificate chain, from a PKCS#12 file (the form production keys
// arrive in; BIDBOND_SIGNING_P12).
//
// node-forge reads PKCS#12 with the legacy algorithms (3DES/RC2, SHA-1 MAC) — which is what
// ensureDevPki writes and `openssl pkcs12 -export -legacy` makes — but not OpenSSL 3's default
// (AES-256-CBC with PBKDF2): it fails with "Too few bytes to parse DER". For such a file we ask
// the `openssl` command to unpack it instead, so both kinds work; without an openssl on the PATH
// the error says to re-export with `-legacy`.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { parseCertificatePem } from '../pki/certs';

export interface Signer {
  /** PKCS#8 PEM. */
  keyPem: string;
  /** The signing certificate. */
  certPem: string;
  /** The rest of the chain from the file (intermediates and usually the root), issuer first;
   *  embedded in every signature so a verifier can build the path to its trust root. */
  chainPems: string[];
  /** Lowercase hex SHA-256 of the signing certificate's DER. */
  fingerprint: string;
  subject: string;
}

export class SignerLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignerLoadError';
  }
}

/** A PKCS#12 of a key and a few certificates is a few KB; anything far larger is not one. */
export const p12BytesMax = 1024 * 1024;
/** Certificates kept from the file; a longer chain is a misconfiguration. */
export const chainLengthMax = 8;

export function loadSigner(opts: { p12Path: string; password: string }): Signer {
  const bytes = readFileSync(opts.p12Path);
  if (bytes.length > p12BytesMax) throw new SignerLoadError(`${opts.p12Path} is ${bytes.length} bytes, more than a PKCS#12 key file (${p12BytesMax})`);
  let unpacked: { keyPem: string; certPems: string[] };
  try {
    unpacked = unpackWithForge(bytes, opts.password);
  } catch (forgeError) {
    try {
      unpacked = unpackWithOpenssl(opts.p12Path, opts.password);
    } catch (opensslError) {
      throw new SignerLoadError(
        `cannot read ${opts.p12Path}: node-forge says "${(forgeError as Error).message}", openssl says "${firstLine(opensslError)}". ` +
          'Check the password; a file made by OpenSSL 3 with its defaults (AES-256, PBKDF2) needs either an openssl binary on the PATH ' +
          'or re-exporting with `openssl pkcs12 -export -legacy ...`.',
      );
    }
  }
  return signerFrom(unpacked.keyPem, unpacked.certPems);
}

/** Also used by tests and the CLI with PEM files. */
export function signerFrom(keyPem: string, certPems: string[]): Signer {
  if (certPems.length === 0) throw new SignerLoadError('the key file holds no certificate');
  if (certPems.length > chainLengthMax) throw new SignerLoadError(`more than ${chainLengthMax} certificates`);
  const key = createPrivateKey(keyPem);
  const publicDer = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const leafIndex = certPems.findIndex((pem) => (new X509Certificate(pem).publicKey as KeyObject).export({ type: 'spki', format: 'der' }).equals(publicDer));
  if (leafIndex < 0) throw new SignerLoadError('no certificate in the file matches its private key');
  const certPem = certPems[leafIndex];
  const { info } = parseCertificatePem(certPem);
  return {
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: info.pem,
    chainPems: orderChain(certPem, certPems.filter((_, i) => i !== leafIndex)),
    fingerprint: info.fingerprint,
    subject: info.subject,
  };
}

function unpackWithForge(bytes: Buffer, password: string): { keyPem: string; certPems: string[] } {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
  const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ];
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const key = keyBags.find((b) => b.key)?.key;
  if (!key) throw new Error('no private key in the PKCS#12');
  return {
    keyPem: forge.pki.privateKeyToPem(key),
    certPems: certBags.flatMap((b) => (b.cert ? [forge.pki.certificateToPem(b.cert)] : [])),
  };
}

function unpackWithOpenssl(p12Path: string, password: string): { keyPem: string; certPems: string[] } {
  // The password travels in the environment, not argv, where any local user could read it.
  const pem = execFileSync('openssl', ['pkcs12', '-in', p12Path, '-nodes', '-passin', 'env:BIDBOND_P12_PASSWORD'], {
    env: { ...process.env, BIDBOND_P12_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 4 * p12BytesMax,
  }).toString('utf8');
  const keyPem = pem.match(/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/)?.[0];
  if (!keyPem) throw new Error('no private key in the PKCS#12');
  return { keyPem, certPems: pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [] };
}

/** Issuer first, walking up from the signing certificate; certificates off the path keep their
 *  file order at the end. */
function orderChain(leafPem: string, others: string[]): string[] {
  const remaining = others.map((pem) => ({ pem, x509: new X509Certificate(pem) }));
  const ordered: string[] = [];
  let current = new X509Certificate(leafPem);
  for (let step = 0; step < chainLengthMax && remaining.length > 0; step++) {
    const i = remaining.findIndex((c) => current.checkIssued(c.x509) && current.verify(c.x509.publicKey));
    if (i < 0 || current.subject === current.issuer) break;
    const [next] = remaining.splice(i, 1);
    ordered.push(forge.pki.certificateToPem(forge.pki.certificateFromPem(next.pem)));
    current = next.x509;
  }
  return [...ordered, ...remaining.map((c) => c.pem)];
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: Buffer; message?: string };
  return (err.stderr?.toString('utf8') || err.message || String(e)).split('\n')[0].trim();
}
