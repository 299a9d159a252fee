// The service's own signing identity, from a PKCS#12 file: signs messages to issuers and banks
// (Bidbond-* headers) and vouchers. In development the file is generated on first run.
import { loadSigner, type Signer } from '../vouchers/signer';
import { signMessage } from './messageSignature';

export interface ServiceSigner extends Signer {
  /** Bidbond-Timestamp / -Certificate / -Signature headers for an outgoing body. */
  sign(body: Buffer): Record<string, string>;
}

export function loadServiceSigner(p12Path: string, password: string): ServiceSigner {
  const signer = loadSigner({ p12Path, password });
  return { ...signer, sign: (body: Buffer) => signMessage(body, { keyPem: signer.keyPem, fingerprint: signer.fingerprint }) };
}
