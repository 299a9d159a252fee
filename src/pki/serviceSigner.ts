// The service's own signing identity, from a PKCS#12 file: signs messages to issuers and banks
// (Bidbond-* headers) and vouchers. In development the file is generated on first run.
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { fingerprintOf } from './certs';
import { signMessage, type MessageSigner } from './messageSignature';

export interface ServiceSigner extends MessageSigner {
  certPem: string;
  /** Signer first, then the CA certificates, as PEM. */
  chainPems: string[];
  subject: string;
  sign(body: Buffer): Record<string, string>;
}

export class SigningKeyUnreadable extends Error {}

export function loadServiceSigner(p12Path: string, password: string): ServiceSigner {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const der = readFileSync(p12Path).toString('binary');
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), password);
  } catch (e) {
    throw new SigningKeyUnreadable(
      `cannot read PKCS#12 ${p12Path}: ${(e as Error).message}. A file made by OpenSSL 3 with its defaults (AES-256, PBKDF2) must be re-exported with \`openssl pkcs12 -export -legacy\`.`,
    );
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ];
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const key = keyBags[0]?.key;
  if (!key) throw new SigningKeyUnreadable(`${p12Path} holds no private key`);
  const certs = certBags.map((b) => b.cert).filter((c): c is forge.pki.Certificate => !!c);
  const pub = forge.pki.setRsaPublicKey((key as forge.pki.rsa.PrivateKey).n, (key as forge.pki.rsa.PrivateKey).e);
  const own = certs.find((c) => forge.pki.publicKeyToPem(c.publicKey) === forge.pki.publicKeyToPem(pub));
  if (!own) throw new SigningKeyUnreadable(`${p12Path} holds no certificate for its key`);
  const others = certs.filter((c) => c !== own);
  const keyPem = forge.pki.privateKeyToPem(key);
  const fingerprint = fingerprintOf(own);
  return {
    keyPem,
    fingerprint,
    certPem: forge.pki.certificateToPem(own),
    chainPems: [own, ...others].map((c) => forge.pki.certificateToPem(c)),
    subject: own.subject.attributes.map((a) => `${a.shortName}=${a.value}`).join(', '),
    sign: (body: Buffer) => signMessage(body, { keyPem, fingerprint }),
  };
}
