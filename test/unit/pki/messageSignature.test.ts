// A signed call's check, on the event loop and on the thread pool: the same verdict for every
// way a call can be signed or not.
import { createPublicKey } from 'node:crypto';
import { issueCertificate } from '../../../src/pki/certs';
import { checkMessageSignature, checkMessageSignatureAsync, signMessage, signatureToleranceSeconds, type SignatureFailure } from '../../../src/pki/messageSignature';

// The chain is checked elsewhere (webhookAuth.ts); a key's own certificate is enough here.
const signer = issueCertificate({ commonName: 'a bank' });
const stranger = issueCertificate({ commonName: 'someone else' });
const publicKey = createPublicKey(signer.certPem);

const body = Buffer.from('{"eventId":"e1","entries":[]}');
const now = new Date();
const signed = signMessage(body, { keyPem: signer.keyPem, fingerprint: signer.fingerprint }, now);
const headers = { timestamp: signed['Bidbond-Timestamp'], signature: signed['Bidbond-Signature'] };

const cases: { name: string; headers: { timestamp?: string; signature?: string }; body: Buffer; at?: Date; expected: SignatureFailure | null }[] = [
  { name: 'a call signed over its body', headers, body, expected: null },
  { name: 'a changed body', headers, body: Buffer.from('{"eventId":"e2","entries":[]}'), expected: 'signature_invalid' },
  { name: 'another key', headers: { ...headers, signature: signMessage(body, { keyPem: stranger.keyPem, fingerprint: stranger.fingerprint }, now)['Bidbond-Signature'] }, body, expected: 'signature_invalid' },
  { name: 'no signature', headers: { timestamp: headers.timestamp }, body, expected: 'signature_missing' },
  { name: 'a timestamp that is not unix seconds', headers: { ...headers, timestamp: '2026-12-04' }, body, expected: 'timestamp_invalid' },
  { name: 'a timestamp outside the window', headers, body, at: new Date(now.getTime() + (signatureToleranceSeconds + 1) * 1000), expected: 'timestamp_out_of_tolerance' },
  { name: 'a signature that is not base64', headers: { ...headers, signature: 'not base64!' }, body, expected: 'signature_invalid' },
  { name: 'a signature of the wrong length', headers: { ...headers, signature: 'AAAA' }, body, expected: 'signature_invalid' },
];

describe.each(cases)('$name', ({ headers: h, body: b, at, expected }) => {
  it(`is ${expected ?? 'accepted'} on the event loop and on the thread pool alike`, async () => {
    expect(checkMessageSignature(h, b, publicKey, at ?? now)).toBe(expected);
    expect(await checkMessageSignatureAsync(h, b, publicKey, at ?? now)).toBe(expected);
  });
});
