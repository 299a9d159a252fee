// A signed call's check, on the event loop and on the thread pool: the same verdict for every
// way a call can be signed or not, for a payload checked on the loop and one large enough to go
// to the pool.
import { createPublicKey } from 'node:crypto';
import { issueCertificate } from '../../../src/pki/certs';
import { checkMessageSignature, checkMessageSignatureAsync, signMessage, signatureCheckOnLoopBytesMax, signatureToleranceSeconds, type SignatureFailure } from '../../../src/pki/messageSignature';

// The chain is checked elsewhere (webhookAuth.ts); a key's own certificate is enough here.
const signer = issueCertificate({ commonName: 'a bank' });
const stranger = issueCertificate({ commonName: 'someone else' });
const publicKey = createPublicKey(signer.certPem);

const now = new Date();

function casesFor(size: string, body: Buffer, changed: Buffer): Case[] {
  const signed = signMessage(body, { keyPem: signer.keyPem, fingerprint: signer.fingerprint }, now);
  const headers = { timestamp: signed['Bidbond-Timestamp'], signature: signed['Bidbond-Signature'] };
  return cases(body, changed, headers).map((c) => ({ ...c, name: `${size}: ${c.name}` }));
}

interface Case {
  name: string;
  headers: { timestamp?: string; signature?: string };
  body: Buffer;
  at?: Date;
  expected: SignatureFailure | null;
}

const cases = (body: Buffer, changed: Buffer, headers: { timestamp: string; signature: string }): Case[] => [
  { name: 'a call signed over its body', headers, body, expected: null },
  { name: 'a changed body', headers, body: changed, expected: 'signature_invalid' },
  { name: 'another key', headers: { ...headers, signature: signMessage(body, { keyPem: stranger.keyPem, fingerprint: stranger.fingerprint }, now)['Bidbond-Signature'] }, body, expected: 'signature_invalid' },
  { name: 'no signature', headers: { timestamp: headers.timestamp }, body, expected: 'signature_missing' },
  { name: 'a timestamp that is not unix seconds', headers: { ...headers, timestamp: '2026-12-04' }, body, expected: 'timestamp_invalid' },
  { name: 'a timestamp outside the window', headers, body, at: new Date(now.getTime() + (signatureToleranceSeconds + 1) * 1000), expected: 'timestamp_out_of_tolerance' },
  { name: 'a signature that is not base64', headers: { ...headers, signature: 'not base64!' }, body, expected: 'signature_invalid' },
  { name: 'a signature of the wrong length', headers: { ...headers, signature: 'AAAA' }, body, expected: 'signature_invalid' },
];

const small = Buffer.from('{"eventId":"e1","entries":[]}');
// Past the bound, so checked on the pool; its change is near the end, so all of it is hashed.
const large = Buffer.concat([Buffer.from('{"eventId":"e1","pad":"'), Buffer.alloc(signatureCheckOnLoopBytesMax, 'x'), Buffer.from('"}')]);
const largeChanged = Buffer.from(large);
largeChanged[largeChanged.length - 3] = 'y'.charCodeAt(0);

const all = [...casesFor('a small payload', small, Buffer.from('{"eventId":"e2","entries":[]}')), ...casesFor('a payload past the loop bound', large, largeChanged)];

describe.each(all)('$name', ({ headers: h, body: b, at, expected }) => {
  it(`is ${expected ?? 'accepted'} by the check and by its asynchronous form alike`, async () => {
    expect(checkMessageSignature(h, b, publicKey, at ?? now)).toBe(expected);
    expect(await checkMessageSignatureAsync(h, b, publicKey, at ?? now)).toBe(expected);
  });
});
