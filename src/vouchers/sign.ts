// Signs a rendered voucher: fills its signature field with a detached CMS (PKCS#7) SignedData
// over every byte of the file except the signature's own /Contents, the way Adobe Reader and
// poppler's pdfsig expect (`/SubFilter /adbe.pkcs7.detached`).
//
// Not PAdES: that needs the signingCertificateV2 signed attribute (and ETSI.CAdES.detached),
// which node-forge's PKCS#7 cannot add; we say adbe.pkcs7.detached rather than claim a profile
// we do not meet.
//
// The CMS structure is assembled with node-forge's ASN.1 helpers, but the RSA step is Node's
// crypto.sign: node-forge's RSA is about 70 times slower (18.5 ms vs 0.26 ms for RSA-2048).
import { createHash, createPrivateKey, KeyObject, sign as rsaSign } from 'node:crypto';
import forge from 'node-forge';
import {
  beginText,
  endText,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRef,
  PDFString,
  ParseSpeeds,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  rgb,
  setFillingRgbColor,
  setFontAndSize,
  setLineWidth,
  setStrokingRgbColor,
  showText,
  stroke,
  moveText,
  PDFOperator,
} from 'pdf-lib';
import { fontkitForPdfLib, loadFontBytes } from './fonts';
import { displayTime } from './layouts';
import { fitLines, margin } from './layoutPage';
import { signatureFieldName } from './render';
import type { Signer } from './signer';

/** Room reserved for the DER SignedData. A signer and a CA certificate with RSA-2048 come to
 *  about 2.5 KB; 8 KB leaves room for an intermediate and RSA-4096. */
export const signatureBytesMax = 8 * 1024;
/** Unsigned vouchers are tens of KB; this bounds what a caller can make us parse and hash. */
export const unsignedPdfBytesMax = 10 * 1024 * 1024;

export interface SignOptions {
  signedAt: Date;
  reason?: string;
  location?: string;
  /** Shown as the signer's name; defaults to the certificate's common name. */
  name?: string;
}

const byteRangePlaceholder = '/**********';

export async function signPdf(unsignedPdf: Uint8Array, signer: Signer, opts: SignOptions): Promise<Uint8Array> {
  if (unsignedPdf.length > unsignedPdfBytesMax) throw new Error(`PDF of ${unsignedPdf.length} bytes exceeds ${unsignedPdfBytesMax}`);
  if (Number.isNaN(opts.signedAt.getTime())) throw new Error('assertion: signedAt must be a valid Date');
  const prepared = await withSignaturePlaceholder(unsignedPdf, signer, opts);
  return fillSignature(prepared, signer, opts.signedAt);
}

// ---------------------------------------------------------------------------------------------
// Step 1: the signature dictionary with a fixed-size /Contents, in a file saved without object
// streams (a signature dictionary inside a compressed object stream could not be patched).

async function withSignaturePlaceholder(unsignedPdf: Uint8Array, signer: Signer, opts: SignOptions): Promise<Buffer> {
  // Fastest: pdf-lib otherwise yields a timer tick every 100 objects, which costs more than the parse.
  const doc = await PDFDocument.load(unsignedPdf, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  const ctx = doc.context;
  const cn = certCommonName(signer) ?? signer.subject;
  const signerName = opts.name ?? cn;

  const sigDict = ctx.obj({
    Type: 'Sig',
    Filter: 'Adobe.PPKLite',
    SubFilter: 'adbe.pkcs7.detached',
    ByteRange: [0, PDFName.of('**********'), PDFName.of('**********'), PDFName.of('**********')],
    Contents: PDFHexString.of('0'.repeat(signatureBytesMax * 2)),
    M: PDFString.fromDate(opts.signedAt),
    Name: PDFHexString.fromText(signerName),
    ...(opts.reason ? { Reason: PDFHexString.fromText(opts.reason) } : {}),
    ...(opts.location ? { Location: PDFHexString.fromText(opts.location) } : {}),
  });
  const sigRef = ctx.register(sigDict);

  const { widget, acroForm } = findOrCreateSignatureField(doc);
  const rect = widget.lookup(PDFName.of('Rect'), PDFArray).asArray().map((n) => (n as PDFNumber).asNumber());
  const width = Math.abs(rect[2] - rect[0]);
  const height = Math.abs(rect[3] - rect[1]);
  const appearance = await appearanceStream(doc, width, height, [
    { text: '电子签章 Electronic signature', size: 9.5 },
    { text: `签署人 Signed by: ${signerName}`, size: 7 },
    { text: `时间 At: ${displayTime(opts.signedAt.toISOString())}`, size: 7 },
    { text: `证书 Certificate SHA-256: ${signer.fingerprint.slice(0, 32)}…`, size: 6 },
  ]);
  widget.set(PDFName.of('V'), sigRef);
  widget.set(PDFName.of('AP'), ctx.obj({ N: appearance }));
  // SignaturesExist | AppendOnly: viewers must not rewrite the file in a way that breaks it.
  acroForm.set(PDFName.of('SigFlags'), PDFNumber.of(3));

  const saved = await doc.save({ useObjectStreams: false, updateFieldAppearances: false, objectsPerTick: Number.MAX_SAFE_INTEGER });
  return Buffer.from(saved.buffer, saved.byteOffset, saved.byteLength);
}

function findOrCreateSignatureField(doc: PDFDocument): { widget: PDFDict; widgetRef: PDFRef; acroForm: PDFDict } {
  const ctx = doc.context;
  let acroForm = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict);
  if (!acroForm) {
    acroForm = ctx.obj({ Fields: [] });
    doc.catalog.set(PDFName.of('AcroForm'), ctx.register(acroForm));
  }
  let fields = acroForm.lookupMaybe(PDFName.of('Fields'), PDFArray);
  if (!fields) {
    fields = ctx.obj([]);
    acroForm.set(PDFName.of('Fields'), fields);
  }
  let alreadySigned = false;
  for (let i = 0; i < fields.size(); i++) {
    const ref = fields.get(i);
    const field = fields.lookupMaybe(i, PDFDict);
    if (!(ref instanceof PDFRef) || !field || field.get(PDFName.of('FT')) !== PDFName.of('Sig')) continue;
    if (field.get(PDFName.of('V'))) {
      alreadySigned = true;
      continue;
    }
    const t = field.lookupMaybe(PDFName.of('T'), PDFString, PDFHexString);
    if (t?.decodeText() === signatureFieldName && field.get(PDFName.of('Rect'))) return { widget: field, widgetRef: ref, acroForm };
  }
  // Re-saving the whole file (as pdf-lib does) would invalidate an existing signature; a second
  // signature needs an incremental update, which vouchers never need.
  if (alreadySigned) throw new Error('the PDF is already signed');
  // A PDF not rendered by render.ts: put the signature box at the foot of the last page.
  const page = doc.getPage(doc.getPageCount() - 1);
  const widget = ctx.obj({
    Type: 'Annot',
    Subtype: 'Widget',
    FT: 'Sig',
    T: PDFString.of(signatureFieldName),
    Rect: [margin.left, 8, margin.left + 250, 8 + 48],
    F: 4,
    P: page.ref,
  });
  const widgetRef = ctx.register(widget);
  let annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) {
    annots = ctx.obj([]);
    page.node.set(PDFName.of('Annots'), annots);
  }
  annots.push(widgetRef);
  fields.push(widgetRef);
  return { widget, widgetRef, acroForm };
}

/** The visible stamp: a box with the signer and time, in the voucher font (a subset of its own,
 *  since the document's subset holds only the glyphs its pages use; one weight, because each
 *  embedded subset costs milliseconds at save). */
async function appearanceStream(doc: PDFDocument, width: number, height: number, lines: { text: string; size: number }[]): Promise<PDFRef> {
  doc.registerFontkit(fontkitForPdfLib);
  const font = await doc.embedFont(loadFontBytes('regular'), { subset: true });
  const red = rgb(0.75, 0.1, 0.1);
  const ops: PDFOperator[] = [pushGraphicsState(), setLineWidth(1.2), setStrokingRgbColor(red.red, red.green, red.blue), rectangle(1, 1, width - 2, height - 2), stroke()];
  ops.push(setFillingRgbColor(red.red, red.green, red.blue));
  let y = height - 6;
  for (const line of lines) {
    for (const text of fitLines(line.text, font, line.size, width - 12)) {
      y -= line.size * 1.25;
      if (y < 2) break;
      ops.push(beginText(), setFontAndSize('F', line.size), moveText(6, y), showText(font.encodeText(text)), endText());
    }
  }
  ops.push(popGraphicsState());
  const form = doc.context.formXObject(ops, {
    BBox: [0, 0, width, height],
    Resources: { Font: { F: font.ref } },
  });
  return doc.context.register(form);
}

function certCommonName(signer: Signer): string | undefined {
  return /(?:^|, )CN=([^,]+)/.exec(signer.subject)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Step 2: /ByteRange and /Contents patched in place. Both placeholders are fixed-width, so the
// offsets computed from the saved file stay true after patching.

function fillSignature(pdf: Buffer, signer: Signer, signedAt: Date): Buffer {
  const text = pdf.toString('latin1');
  const placeholderArray = `[ 0 ${byteRangePlaceholder} ${byteRangePlaceholder} ${byteRangePlaceholder} ]`;
  const byteRangeAt = text.lastIndexOf(`/ByteRange ${placeholderArray}`);
  const contentsMarker = `/Contents <${'0'.repeat(signatureBytesMax * 2)}>`;
  const contentsAt = text.indexOf(contentsMarker);
  if (byteRangeAt < 0 || contentsAt < 0 || text.indexOf(contentsMarker, contentsAt + 1) >= 0) {
    throw new Error('assertion: signature placeholders not found exactly once in the saved PDF');
  }
  const hexStart = contentsAt + '/Contents '.length; // at '<'
  const hexEnd = hexStart + signatureBytesMax * 2 + 2; // after '>'
  const byteRange = [0, hexStart, hexEnd, pdf.length - hexEnd];
  const arrayAt = byteRangeAt + '/ByteRange '.length;
  const written = `[${byteRange.join(' ')}]`.padEnd(placeholderArray.length, ' ');
  if (written.length !== placeholderArray.length) throw new Error('assertion: ByteRange does not fit its placeholder');
  pdf.write(written, arrayAt, 'latin1');

  const digest = createHash('sha256').update(pdf.subarray(0, hexStart)).update(pdf.subarray(hexEnd)).digest();
  const cms = detachedSignedData(digest, signer, signedAt);
  if (cms.length > signatureBytesMax) throw new Error(`assertion: CMS of ${cms.length} bytes exceeds the ${signatureBytesMax}-byte placeholder`);
  pdf.write(cms.toString('hex'), hexStart + 1, 'latin1');
  return pdf;
}

// ---------------------------------------------------------------------------------------------
// Step 3: CMS SignedData (RFC 5652) with signed attributes contentType, signingTime and
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
const preparedSigners = new Map<string, PreparedSigner>();
const preparedSignersMax = 16;

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
  if (preparedSigners.size >= preparedSignersMax) preparedSigners.clear();
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
