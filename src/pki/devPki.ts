// The development PKI, made on first run so that a fresh clone signs vouchers and messages with
// nothing configured: a root CA, the service's signing certificate (also as PKCS#12, the form
// production keys arrive in) and the sandbox bank's certificate. Production configures its own
// through BIDBOND_SIGNING_P12 and BIDBOND_TRUST_ROOTS and never touches this.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { issueCertificate } from './certs';

export const devP12Password = 'bidbond-dev';

export interface DevPkiPaths {
  dir: string;
  rootKey: string;
  rootCert: string;
  serviceKey: string;
  serviceCert: string;
  serviceP12: string;
  sandboxKey: string;
  sandboxCert: string;
}

export function devPkiPaths(dir: string): DevPkiPaths {
  return {
    dir,
    rootKey: path.join(dir, 'root.key.pem'),
    rootCert: path.join(dir, 'root.cert.pem'),
    serviceKey: path.join(dir, 'service.key.pem'),
    serviceCert: path.join(dir, 'service.cert.pem'),
    serviceP12: path.join(dir, 'service.p12'),
    sandboxKey: path.join(dir, 'sandbox-bank.key.pem'),
    sandboxCert: path.join(dir, 'sandbox-bank.cert.pem'),
  };
}

/** PKCS#12 with 3DES (the legacy algorithms) so that node-forge can read it back; OpenSSL 3
 *  reads it too. */
export function makePkcs12(keyPem: string, chainPems: string[], password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const chain = chainPems.map((p) => forge.pki.certificateFromPem(p));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, chain, password, { algorithm: '3des', friendlyName: 'bidbond' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** Creates whatever of the development PKI is missing; idempotent. */
export function ensureDevPki(dir: string): DevPkiPaths {
  const p = devPkiPaths(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(p.rootCert) || !existsSync(p.rootKey)) {
    const root = issueCertificate({ commonName: 'bidbond development root', isCa: true, keyBits: 2048, notAfter: new Date(Date.now() + 20 * 365 * 86400e3) });
    writeFileSync(p.rootKey, root.keyPem, { mode: 0o600 });
    writeFileSync(p.rootCert, root.certPem);
  }
  const ca = { keyPem: readFileSync(p.rootKey, 'utf8'), certPem: readFileSync(p.rootCert, 'utf8') };
  if (!existsSync(p.serviceCert) || !existsSync(p.serviceKey) || !existsSync(p.serviceP12)) {
    const svc = issueCertificate({ commonName: 'bidbond voucher and message signing (development)', ca });
    writeFileSync(p.serviceKey, svc.keyPem, { mode: 0o600 });
    writeFileSync(p.serviceCert, svc.certPem);
    writeFileSync(p.serviceP12, makePkcs12(svc.keyPem, [svc.certPem, ca.certPem], devP12Password), { mode: 0o600 });
  }
  if (!existsSync(p.sandboxCert) || !existsSync(p.sandboxKey)) {
    const bank = issueCertificate({ commonName: 'bidbond sandbox bank', organization: 'bidbond sandbox bank', ca });
    writeFileSync(p.sandboxKey, bank.keyPem, { mode: 0o600 });
    writeFileSync(p.sandboxCert, bank.certPem);
  }
  return p;
}
