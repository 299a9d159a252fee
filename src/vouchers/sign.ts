// Signs a voucher rendered sealed (render.ts): the file already holds the signature dictionary
// with /ByteRange filled and an empty fixed-size /Contents, and the visible stamp. Signing hashes
// every byte but that gap and writes a detached CMS (PKCS#7) SignedData into it, the way Adobe
// Reader and poppler's pdfsig expect (`/SubFilter /adbe.pkcs7.detached`). Nothing is parsed:
// re-loading the PDF with a PDF library to add a placeholder cost several times the signature.
//
// Not PAdES: that needs the signingCertificateV2 signed attribute (and ETSI.CAdES.detached),
// which node-forge's PKCS#7 cannot add; we say adbe.pkcs7.detached rather than claim a profile
// we do not meet.
//
// The CMS structure is assembled with node-forge's ASN.1 helpers, but the RSA step is Node's
// crypto.sign: node-forge's RSA is about 70 times slower (18.5 ms vs 0.26 ms for RSA-2048).
import { createHash, createPrivateKey, KeyObject, sign as rsaSign } from 'node:crypto';
import forge from 'node-forge';
import { renderSealedVoucher, signatureBytesMax, type Seal, type SealedVoucher, type VoucherInput } from './render';
import type { Signer } from './signer';
import { BoundedMap } from '../domain/boundedMap';

export { signatureBytesMax };

export interface SignOptions {
  signedAt: Date;
  reason?: string;
  location?: string;
  /** Shown as the signer's name; defaults to the certificate's common name. */
  name?: string;
}

/** What the stamp and the signature dictionary say for this signer. */
export function sealFor(signer: Signer, opts: SignOptions): Seal {
  return {
    signerName: opts.name ?? certCommonName(signer) ?? signer.subject,
    certificateFingerprint: signer.fingerprint,
    signedAt: opts.signedAt,
    ...(opts.reason ? { reason: opts.reason } : {}),
    ...(opts.location ? { location: opts.location } : {}),
  };
}

/** Renders a voucher sealed for `signer` and signs it. */
export async function renderAndSignVoucher(input: VoucherInput, signer: Signer, opts: SignOptions): Promise<Buffer> {
  return signSealedVoucher(renderSealedVoucher(input, sealFor(signer, opts)), signer);
}

/** Writes the signature into the sealed voucher's bytes (in place) and returns them. */
export function signSealedVoucher(sealed: SealedVoucher, signer: Signer): Buffer {
  const { pdf, contentsStart, contentsEnd, seal } = sealed;
  if (seal.certificateFingerprint !== signer.fingerprint) throw new Error('assertion: the voucher was sealed for another certificate than the signer holds');
  if (contentsEnd - contentsStart !== signatureBytesMax * 2 + 2 || pdf[contentsStart] !== 0x3c || pdf[contentsEnd - 1] !== 0x3e) {
    throw new Error('assertion: the sealed voucher has no signature placeholder at the offsets given');
  }
  // A DER SignedData starts with 0x30 ("30" in hex); the placeholder is all zeros.
  if (pdf.toString('latin1', contentsStart + 1, contentsStart + 3) !== '00') throw new Error('the PDF is already signed');
  const digest = createHash('sha256').update(pdf.subarray(0, contentsStart)).update(pdf.subarray(contentsEnd)).digest();
  const cms = detachedSignedData(digest, signer, seal.signedAt);
  if (cms.length > signatureBytesMax) throw new Error(`assertion: CMS of ${cms.length} bytes exceeds the ${signatureBytesMax}-byte placeholder`);
  pdf.write(cms.toString('hex'), contentsStart + 1, 'latin1');
  return pdf;
}

function certCommonName(signer: Signer): string | undefined {
  return /(?:^|, )CN=([^,]+)/.exec(signer.subject)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The CMS SignedData (RFC 5652): signed attributes contentType, signingTime and
// messageDigest, the signer's certificate and its chain, no encapsulated content.

const oids = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const seq = (value: forge.asn1.Asn1[]) => asn1.create(U, T.SEQUENCE, true, value);
const set = (value: forge.asn1.Asn1[]) => asn1.create(U, T.SET, true, value);
const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
const int = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
const algorithm = (o: string) => seq([oid(o), asn1.create(U, T.NULL, false, '')]);
const der = (node: forge.asn1.Asn1) => Buffer.from(asn1.toDer(node).getBytes(), 'binary');

interface PreparedSigner {
  key: KeyObject;
  certificates: forge.asn1.Asn1[];
  issuer: forge.asn1.Asn1;
  serial: forge.asn1.Asn1;
}

// Parsing PEMs and the key costs more than the signature itself; a process signs with one or two
// keys, so the cache is tiny (and bounded, in case a caller loads signers in a loop).
const preparedSignersMax = 16;
const preparedSigners = new BoundedMap<string, PreparedSigner>(preparedSignersMax);

function prepare(signer: Signer): PreparedSigner {
  const cacheKey = signer.fingerprint + signer.keyPem;
  const hit = preparedSigners.get(cacheKey);
  if (hit) return hit;
  const certificates = [signer.certPem, ...signer.chainPems].map((pem) => asn1.fromDer(forge.pki.pemToDer(pem)));
  // issuer and serial taken verbatim from the certificate: re-encoding a DN can change its
  // string types, and then no verifier would match the signer identifier to the certificate.
  const tbs = certificates[0].value[0] as forge.asn1.Asn1;
  const fields = tbs.value as forge.asn1.Asn1[];
  const offset = fields[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const prepared: PreparedSigner = { key: createPrivateKey(signer.keyPem), certificates, serial: fields[offset], issuer: fields[offset + 2] };
  preparedSigners.set(cacheKey, prepared);
  return prepared;
}

function signingTimeNode(at: Date) {
  // RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
  const year = at.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(at))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(at));
}

/** DER-encoded ContentInfo wrapping a detached SignedData over `digest` (SHA-256). */
export function detachedSignedData(digest: Buffer, signer: Signer, signedAt: Date): Buffer {
  const p = prepare(signer);
  const attributes = [
    seq([oid(oids.contentType), set([oid(oids.data)])]),
    seq([oid(oids.signingTime), set([signingTimeNode(signedAt)])]),
    seq([oid(oids.messageDigest), set([asn1.create(U, T.OCTETSTRING, false, digest.toString('binary'))])]),
  ];
  // DER sorts the members of a SET OF by their encodings; the signature is over that order.
  const sorted = attributes.map((a) => ({ a, d: der(a) })).sort((x, y) => Buffer.compare(x.d, y.d));
  const signedAttrsDer = Buffer.concat([Buffer.from([0x31]), derLength(sorted.reduce((n, s) => n + s.d.length, 0)), ...sorted.map((s) => s.d)]);
  const signature = rsaSign('sha256', signedAttrsDer, p.key);

  const signerInfo = seq([
    int(1),
    seq([p.issuer, p.serial]),
    algorithm(oids.sha256),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, sorted.map((s) => s.a)),
    algorithm(oids.rsaEncryption),
    asn1.create(U, T.OCTETSTRING, false, signature.toString('binary')),
  ]);
  const signedData = seq([
    int(1),
    set([algorithm(oids.sha256)]),
    seq([oid(oids.data)]),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, p.certificates),
    set([signerInfo]),
  ]);
  return der(seq([oid(oids.signedData), asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [signedData])]));
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
