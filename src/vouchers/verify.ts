// Checks a signed voucher without a PDF parser: the last /ByteRange in the file, the CMS in the
// gap it leaves, the digest of the covered bytes, the RSA signature over the signed attributes
// (Node's crypto) and the signer's chain to a configured root (node-forge). Anything a caller
// uploads goes through here, so every step is bounded and every failure is a result, not a throw.
import { createHash, verify as rsaVerify, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { chainsToRoot, fingerprintOf, parseCertificateBundle } from '../pki/certs';
import { voucherIdInfoKey } from './render';

/** Vouchers are tens of KB; the largest, a roster of 5,000 bidders, is about 1 MB (3 MB if every
 *  name is as long as the registry allows). */
export const voucherPdfBytesMax = 10 * 1024 * 1024;
/** CMS larger than this is not one of ours (render.ts reserves 8 KB). */
export const cmsBytesMax = 64 * 1024;
/** Certificates considered inside one CMS, and steps when building a path to a root. */
export const embeddedCertificatesMax = 10;

export interface VerifyResult {
  /** True only when the signature is intact, covers the whole file and chains to a trust root. */
  valid: boolean;
  reason?: string;
  signer?: { subject: string; fingerprint: string };
  /** The signingTime attribute (ISO); claimed by the signer, there is no timestamp token. */
  signedAt?: string;
  /** The signed ranges are the whole file except the signature itself: nothing appended. */
  coversWholeFile: boolean;
  trusted: boolean;
  /** The file claims a signature (it has a /ByteRange), whether or not it could be read. */
  signed: boolean;
  /** The signature is intact: the covered bytes are the ones signed, by the key of the
   *  certificate in the signature, and nothing was added after them. */
  intact: boolean;
  voucherId?: string;
}

const oids = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  sha256: '2.16.840.1.101.3.4.2.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
} as const;

class Invalid extends Error {}

// node-forge's fromDer takes an options object as well as the `strict` flag that @types/node-forge
// declares (asn1.js: strict, parseAllBytes, decodeBitStrings, maxDepth).
declare module 'node-forge' {
  namespace asn1 {
    interface FromDerOptions {
      strict?: boolean;
      parseAllBytes?: boolean;
      decodeBitStrings?: boolean;
      maxDepth?: number;
    }
    function fromDer(bytes: Bytes | util.ByteBuffer, options?: FromDerOptions): Asn1;
  }
}

export function verifyPdf(bytes: Uint8Array, trustRoots: string[]): VerifyResult {
  const result: VerifyResult = { valid: false, coversWholeFile: false, trusted: false, signed: false, intact: false };
  try {
    verifyInto(bytes, trustRoots, result);
    result.valid = result.reason === undefined;
  } catch (e) {
    result.valid = false;
    result.reason = e instanceof Invalid ? e.message : `unreadable signature: ${(e as Error)?.message ?? String(e)}`.slice(0, 300);
  }
  return result;
}

function verifyInto(bytes: Uint8Array, trustRoots: string[], result: VerifyResult): void {
  if (!(bytes instanceof Uint8Array)) throw new Invalid('not a byte array');
  if (bytes.length > voucherPdfBytesMax) throw new Invalid(`file of ${bytes.length} bytes exceeds ${voucherPdfBytesMax}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Invalid('not a PDF');
  const text = buf.toString('latin1');

  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d{1,10})\s+(\d{1,10})\s+(\d{1,10})\s+(\d{1,10})\s*\]/g)) last = m;
  if (!last) throw new Invalid('no signature (no /ByteRange)');
  result.signed = true;
  const [a, b, c, d] = last.slice(1, 5).map(Number);
  if (a !== 0 || b <= 0 || c <= b + 1 || c + d > buf.length || buf[b] !== 0x3c /* < */ || buf[c - 1] !== 0x3e /* > */) {
    throw new Invalid(`malformed /ByteRange [${a} ${b} ${c} ${d}]`);
  }
  result.coversWholeFile = c + d === buf.length;
  const hex = text.slice(b + 1, c - 1);
  if (hex.length > cmsBytesMax * 2 || !/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new Invalid('/Contents is not a hex signature of a plausible size');

  const covered = [buf.subarray(0, b), buf.subarray(c, c + d)];
  const idMatches = [...covered[0].toString('latin1').matchAll(new RegExp(`/${voucherIdInfoKey}\\s*\\(([A-Za-z0-9_-]{1,64})\\)`, 'g'))];
  if (idMatches.length > 0) result.voucherId = idMatches[idMatches.length - 1][1];

  const cms = parseSignedData(Buffer.from(hex, 'hex'));
  result.signer = { subject: cms.signerSubject, fingerprint: cms.signerFingerprint };
  if (cms.signedAt) result.signedAt = cms.signedAt.toISOString();

  const digest = createHash('sha256').update(covered[0]).update(covered[1]).digest();
  const reasons: string[] = [];
  if (!digest.equals(cms.messageDigest)) reasons.push('the document was changed after signing (digest mismatch)');
  if (!rsaVerify('sha256', cms.signedAttrsDer, cms.signerPublicKey, cms.signature)) reasons.push('the signature does not match the signer certificate');
  if (!result.coversWholeFile) reasons.push('bytes were added after the signed range');
  result.intact = reasons.length === 0;

  // Checked at the signing time: a voucher stays valid after its certificate expires, as long as
  // it was signed while the certificate was valid.
  result.trusted = chainsTo(cms, trustRoots, cms.signedAt ?? new Date());
  if (!result.trusted) reasons.push('the signer certificate does not chain to a trusted root');
  if (reasons.length > 0) result.reason = reasons.join('; ');
}

interface ParsedSignedData {
  messageDigest: Buffer;
  signedAttrsDer: Buffer;
  signature: Buffer;
  signedAt?: Date;
  signerPublicKey: X509Certificate['publicKey'];
  signerSubject: string;
  signerFingerprint: string;
  signerForge?: forge.pki.Certificate;
  otherForge: forge.pki.Certificate[];
}

const { asn1 } = forge;
const der = (node: forge.asn1.Asn1) => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
const children = (node: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] => {
  if (!node || !Array.isArray(node.value)) throw new Invalid(`malformed CMS: ${what}`);
  return node.value;
};
const oidOf = (node: forge.asn1.Asn1 | undefined): string | undefined =>
  node && node.type === asn1.Type.OID && typeof node.value === 'string' ? asn1.derToOid(node.value) : undefined;
const bytesOf = (node: forge.asn1.Asn1 | undefined, what: string): Buffer => {
  if (!node || typeof node.value !== 'string') throw new Invalid(`malformed CMS: ${what}`);
  return Buffer.from(node.value, 'binary');
};

function parseSignedData(cmsDer: Buffer): ParsedSignedData {
  // parseAllBytes off: the placeholder is zero-padded after the DER.
  const root = asn1.fromDer(forge.util.createBuffer(cmsDer.toString('binary')), { parseAllBytes: false });
  const [contentType, explicit] = children(root, 'ContentInfo');
  if (oidOf(contentType) !== oids.signedData) throw new Invalid('the signature is not a CMS SignedData');
  const signedData = children(children(explicit, 'content')[0], 'SignedData');
  const certSet = signedData.find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 0);
  const signerInfos = children(signedData[signedData.length - 1], 'signerInfos');
  if (signerInfos.length !== 1) throw new Invalid(`expected one signer, found ${signerInfos.length}`);
  const si = children(signerInfos[0], 'SignerInfo');
  const [, sid, digestAlg, signedAttrs] = si;
  if (oidOf(children(digestAlg, 'digestAlgorithm')[0]) !== oids.sha256) throw new Invalid('unsupported digest algorithm (only SHA-256)');
  if (!signedAttrs || signedAttrs.tagClass !== asn1.Class.CONTEXT_SPECIFIC || signedAttrs.type !== 0) throw new Invalid('signature without signed attributes');
  const sigAlg = oidOf(children(si[4], 'signatureAlgorithm')[0]);
  if (sigAlg !== oids.rsaEncryption && sigAlg !== oids.sha256WithRSA) throw new Invalid('unsupported signature algorithm (only RSA)');
  const signature = bytesOf(si[5], 'signature');

  // The signature covers the attributes encoded as a SET (tag 0x31), not as the [0] they are
  // stored under (RFC 5652 5.4).
  const signedAttrsDer = der(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, children(signedAttrs, 'signedAttrs')));
  let messageDigest: Buffer | undefined;
  let signedAt: Date | undefined;
  let contentTypeOk = false;
  for (const attr of children(signedAttrs, 'signedAttrs')) {
    const [type, values] = children(attr, 'attribute');
    const value = children(values, 'attribute values')[0];
    switch (oidOf(type)) {
      case oids.messageDigest:
        messageDigest = bytesOf(value, 'messageDigest');
        break;
      case oids.contentType:
        contentTypeOk = oidOf(value) === oids.data;
        break;
      case oids.signingTime:
        signedAt = value.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(value.value as string) : asn1.generalizedTimeToDate(value.value as string);
        if (Number.isNaN(signedAt.getTime())) signedAt = undefined;
        break;
    }
  }
  if (!messageDigest) throw new Invalid('signature without a messageDigest attribute');
  if (!contentTypeOk) throw new Invalid('signature contentType attribute is missing or not id-data');

  // Find the signer by issuer and serial, compared as encoded bytes.
  const [sidIssuer, sidSerial] = children(sid, 'signer identifier');
  const wantIssuer = der(sidIssuer);
  const wantSerial = der(sidSerial);
  const certNodes = certSet ? children(certSet, 'certificates').slice(0, embeddedCertificatesMax) : [];
  let signerNode: forge.asn1.Asn1 | undefined;
  const otherForge: forge.pki.Certificate[] = [];
  for (const node of certNodes) {
    const tbs = children(children(node, 'certificate')[0], 'tbsCertificate');
    const offset = tbs[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
    if (!signerNode && der(tbs[offset]).equals(wantSerial) && der(tbs[offset + 2]).equals(wantIssuer)) signerNode = node;
    else {
      try {
        otherForge.push(forge.pki.certificateFromAsn1(node));
      } catch {
        // A certificate node-forge cannot read (non-RSA key) cannot be on our chain anyway.
      }
    }
  }
  if (!signerNode) throw new Invalid('the signer certificate is not in the signature');
  const signerDer = der(signerNode);
  const x509 = new X509Certificate(signerDer);
  let signerForge: forge.pki.Certificate | undefined;
  try {
    signerForge = forge.pki.certificateFromAsn1(signerNode);
  } catch {
    signerForge = undefined;
  }
  return {
    messageDigest,
    signedAttrsDer,
    signature,
    signedAt,
    signerPublicKey: x509.publicKey,
    signerSubject: signerForge ? signerForge.subject.attributes.map((a) => `${a.shortName ?? a.name ?? a.type}=${a.value}`).join(', ') : x509.subject.replace(/\n/g, ', '),
    signerFingerprint: signerForge ? fingerprintOf(signerForge) : createHash('sha256').update(signerDer).digest('hex'),
    signerForge,
    otherForge,
  };
}

function chainsTo(cms: ParsedSignedData, trustRoots: string[], at: Date): boolean {
  if (!cms.signerForge) return false;
  let roots: forge.pki.Certificate[];
  try {
    roots = trustRoots.flatMap((pem) => parseCertificateBundle(pem));
  } catch {
    return false;
  }
  if (roots.length === 0) return false;
  // Only intermediates come from the signature; a root there proves nothing and is left out.
  const intermediates: forge.pki.Certificate[] = [];
  let current = cms.signerForge;
  for (let step = 0; step < embeddedCertificatesMax; step++) {
    if (roots.some((r) => safeIssued(r, current))) break;
    const next = cms.otherForge.find((c) => !safeIssued(c, c) && !intermediates.includes(c) && safeIssued(c, current));
    if (!next) break;
    intermediates.push(next);
    current = next;
  }
  return chainsToRoot(cms.signerForge, roots, intermediates, at);
}

function safeIssued(parent: forge.pki.Certificate, child: forge.pki.Certificate): boolean {
  try {
    return parent.issued(child);
  } catch {
    return false;
  }
}
