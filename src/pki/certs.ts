// X.509 certificates: parsing (node-forge) and issuing development certificates. RSA key
// generation and signing use Node's crypto, which is far faster than node-forge's own RSA.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface CertificateInfo {
  /** Lowercase hex SHA-256 of the DER encoding: the value of Bidbond-Certificate. */
  fingerprint: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  pem: string;
}

export class InvalidCertificate extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCertificate';
  }
}

/** Bounded so that a hostile PEM cannot make the parser work on megabytes. */
export const certificatePemBytesMax = 16 * 1024;

function dnString(attrs: forge.pki.CertificateField[]): string {
  return attrs.map((a) => `${a.shortName ?? a.name ?? a.type}=${a.value}`).join(', ');
}

export function certificateDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export function fingerprintOf(cert: forge.pki.Certificate): string {
  return createHash('sha256').update(certificateDer(cert)).digest('hex');
}

export function parseCertificatePem(pem: string): { cert: forge.pki.Certificate; info: CertificateInfo } {
  if (typeof pem !== 'string' || pem.length > certificatePemBytesMax) {
    throw new InvalidCertificate(`certificate PEM must be a string of at most ${certificatePemBytesMax} bytes`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks || blocks.length !== 1) throw new InvalidCertificate('expected exactly one PEM CERTIFICATE block');
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(blocks[0]);
  } catch (e) {
    throw new InvalidCertificate(`certificate could not be parsed: ${(e as Error).message}`);
  }
  const info: CertificateInfo = {
    fingerprint: fingerprintOf(cert),
    subject: dnString(cert.subject.attributes),
    issuer: dnString(cert.issuer.attributes),
    serialNumber: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    pem: forge.pki.certificateToPem(cert),
  };
  return { cert, info };
}

/** Splits a PEM bundle (a trust-roots file may hold several). */
export function parseCertificateBundle(pem: string): forge.pki.Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => forge.pki.certificateFromPem(b));
}

/** True when `cert` chains to one of `roots` (signature checked by node-forge) and every
 *  certificate on the way is within its validity at `at`. */
export function chainsToRoot(cert: forge.pki.Certificate, roots: forge.pki.Certificate[], intermediates: forge.pki.Certificate[] = [], at = new Date()): boolean {
  if (roots.length === 0) return false;
  const store = forge.pki.createCaStore(roots);
  try {
    return forge.pki.verifyCertificateChain(store, [cert, ...intermediates], { validityCheckDate: at }) === true;
  } catch {
    return false;
  }
}

export interface IssuedKeyPair {
  keyPem: string;
  certPem: string;
  cert: forge.pki.Certificate;
  fingerprint: string;
}

export interface IssueOptions {
  commonName: string;
  organization?: string;
  /** Signs with this CA; self-signed (a root) when absent. */
  ca?: { keyPem: string; certPem: string };
  isCa?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  keyBits?: number;
}

/** Issues a certificate with a fresh RSA key. Used for the development root, the service's
 *  signing certificate, the sandbox bank and test issuers. */
export function issueCertificate(opts: IssueOptions): IssuedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: opts.keyBits ?? 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial: the high bit clear so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = new Date();
  cert.validity.notBefore = opts.notBefore ?? new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = opts.notAfter ?? new Date(now.getTime() + 5 * 365 * 24 * 3600 * 1000);
  const subject = [{ shortName: 'CN', value: opts.commonName }, { shortName: 'O', value: opts.organization ?? 'bidbond' }, { shortName: 'C', value: 'CN' }];
  cert.setSubject(subject);
  const ca = opts.ca ? forge.pki.certificateFromPem(opts.ca.certPem) : undefined;
  cert.setIssuer(ca ? ca.subject.attributes : subject);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: !!opts.isCa, critical: true },
    opts.isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (ca) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() });
  cert.setExtensions(extensions);
  const signerKeyPem = opts.ca ? opts.ca.keyPem : privateKey;
  cert.sign(forge.pki.privateKeyFromPem(signerKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { keyPem: privateKey, certPem: forge.pki.certificateToPem(cert), cert, fingerprint: fingerprintOf(cert) };
}
