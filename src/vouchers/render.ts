// Renders a voucher (凭证) as an A4 PDF. A voucher on record is rendered sealed: its signature
// dictionary, with /ByteRange already filled and an empty fixed-size /Contents, and the visible
// stamp are written with the rest of the file, so that signing (sign.ts) only hashes the bytes
// around the gap and writes the CMS into it. The renderer never needs the private key: it is
// given the signer's name and certificate fingerprint for the stamp.
import { DocumentFont, fontProgram } from './fonts';
import { a4, fitLines, PageWriter, textOp, type VoucherFonts } from './layoutPage';
import type { VoucherInput } from './input';
import { displayTime, layoutVoucherBody, titleOf } from './layouts';
import { num, PdfWriter, pdfDate, pdfText } from './pdfWriter';

// Callers of renderVoucher find its input types beside it.
export * from './input';

/** Info-dictionary key holding the voucher id; verify.ts reads it back from the signed bytes. */
export const voucherIdInfoKey = 'BidbondVoucherId';
/** Voucher ids are ASCII (`vch_…`), which keeps them literal in the Info dictionary and
 *  findable by verify.ts without a PDF parser. */
export const voucherIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** Name of the signature field. */
export const signatureFieldName = 'BidbondSignature';
/** Room reserved for the DER SignedData. A signer and a CA certificate with RSA-2048 come to
 *  about 2.5 KB; 8 KB leaves room for an intermediate and RSA-4096. */
export const signatureBytesMax = 8 * 1024;

export interface RenderOptions {
  /** Tests only: embed the whole 10 MB fonts, to prove the subset keeps every glyph. */
  subsetFonts?: boolean;
}

/** What the visible stamp and the signature dictionary say, fixed before rendering. */
export interface Seal {
  signerName: string;
  /** Lowercase hex SHA-256 of the signing certificate; the signer must hold this certificate. */
  certificateFingerprint: string;
  signedAt: Date;
  reason?: string;
  location?: string;
}

/** A rendered voucher waiting for its signature. */
export interface SealedVoucher {
  pdf: Buffer;
  /** Offset of the `<` of the signature's /Contents, and just after its `>`: the one gap in the
   *  /ByteRange already written. */
  contentsStart: number;
  contentsEnd: number;
  seal: Seal;
}

/** The voucher without a signature (an empty signature field where the stamp would go). */
export async function renderVoucher(input: VoucherInput, opts: RenderOptions = {}): Promise<Uint8Array> {
  return build(input, opts.subsetFonts ?? true, undefined).pdf;
}

/** The voucher with its stamp and signature placeholder in place; sign.ts fills it. */
export function renderSealedVoucher(input: VoucherInput, seal: Seal): SealedVoucher {
  if (Number.isNaN(seal.signedAt.getTime())) throw new Error('assertion: signedAt must be a valid Date');
  if (!/^[0-9a-f]{64}$/.test(seal.certificateFingerprint)) throw new Error('assertion: certificateFingerprint must be 64 lowercase hex characters');
  const { pdf, contents } = build(input, true, seal);
  return { pdf, contentsStart: contents!.start, contentsEnd: contents!.end, seal };
}

/** Fixed-width /ByteRange placeholder, overwritten (padded with spaces) once offsets are known. */
const byteRangePlaceholder = `[0 ${'0'.repeat(10)} ${'0'.repeat(10)} ${'0'.repeat(10)}]`;

function build(input: VoucherInput, subset: boolean, seal: Seal | undefined): { pdf: Buffer; contents?: { start: number; end: number } } {
  if (!voucherIdPattern.test(input.voucherId)) throw new Error(`assertion: voucher id ${JSON.stringify(input.voucherId)} is not ${voucherIdPattern}`);
  if (!/^[0-9a-f]{64}$/.test(input.recordSha256)) throw new Error('assertion: recordSha256 must be 64 lowercase hex characters');
  const issuedAt = new Date(input.issuedAt);
  if (Number.isNaN(issuedAt.getTime())) throw new Error(`assertion: issuedAt ${JSON.stringify(input.issuedAt)} is not an ISO time`);

  const w = new PdfWriter();
  // The Info dictionary first: verify.ts takes the voucher id from the signed bytes before the
  // signature, and tests re-label a voucher there to prove tampering is caught.
  const info = w.alloc();
  const catalog = w.alloc();
  const pagesRef = w.alloc();
  const fonts: VoucherFonts = {
    regular: new DocumentFont(fontProgram('regular'), 'F1', subset),
    bold: new DocumentFont(fontProgram('bold'), 'F2', subset),
  };
  const fontRefs = { regular: w.alloc(), bold: w.alloc() };

  const title = titleOf(input.kind);
  const writer = new PageWriter(fonts, title);
  layoutVoucherBody(writer, input);
  const slot = writer.signatureSlot();
  writer.footers(input.voucherId);

  const widget = w.alloc();
  let sealEntries = '';
  let sigRef: number | undefined;
  if (seal) {
    const [x1, y1, x2, y2] = slot.rect;
    const width = Math.abs(x2 - x1);
    const height = Math.abs(y2 - y1);
    const appearance = w.addStream(
      ` /Type /XObject /Subtype /Form /BBox [0 0 ${num(width)} ${num(height)}] /Resources << /Font << /${fonts.regular.resourceName} ${fontRefs.regular} 0 R >> >>`,
      Buffer.from(stampOps(fonts.regular, seal, width, height), 'latin1'),
    );
    sigRef = w.alloc();
    sealEntries = ` /V ${sigRef} 0 R /AP << /N ${appearance} 0 R >>`;
  }
  const pageRefs = writer.pages.map(() => w.alloc());
  w.set(widget, `<< /Type /Annot /Subtype /Widget /FT /Sig /T ${pdfText(signatureFieldName)} /Rect [${slot.rect.map(num).join(' ')}] /F 4 /P ${pageRefs[slot.pageIndex]} 0 R${sealEntries} >>`);
  // SigFlags 3, SignaturesExist | AppendOnly: viewers must not rewrite a signed file in a way
  // that breaks the signature.
  const acroForm = w.add(`<< /Fields [${widget} 0 R]${seal ? ' /SigFlags 3' : ''} >>`);

  const resources = `<< /Font << /F1 ${fontRefs.regular} 0 R /F2 ${fontRefs.bold} 0 R >> >>`;
  writer.pages.forEach((page, i) => {
    const contents = w.addStream('', Buffer.from(page.ops.join('\n'), 'latin1'), { compress: subset });
    const annots = i === slot.pageIndex ? ` /Annots [${widget} 0 R]` : '';
    w.set(pageRefs[i], `<< /Type /Page /Parent ${pagesRef} 0 R /MediaBox [0 0 ${num(a4.width)} ${num(a4.height)}] /Resources ${resources} /Contents ${contents} 0 R${annots} >>`);
  });
  w.set(pagesRef, `<< /Type /Pages /Kids [${pageRefs.map((r) => `${r} 0 R`).join(' ')}] /Count ${pageRefs.length} >>`);
  // Fonts last: their subsets hold every glyph drawn above, the stamp's included.
  embedFont(w, fontRefs.regular, fonts.regular, subset);
  embedFont(w, fontRefs.bold, fonts.bold, subset);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesRef} 0 R /AcroForm ${acroForm} 0 R /Lang (zh-CN) >>`);

  // Dates fixed from the input rather than the clock: the same record renders to the same bytes.
  const date = pdfDate(issuedAt);
  w.set(
    info,
    `<< /Title ${pdfText(`${title.zh} ${title.en} ${input.voucherId}`)} /Subject ${pdfText(input.voucherId)} ` +
      `/Keywords ${pdfText(['bidbond', 'voucher', input.kind, input.voucherId, `record-sha256:${input.recordSha256}`].join(' '))} ` +
      `/Author ${pdfText(input.centre.name)} /Creator (bidbond) /Producer (bidbond) /CreationDate ${date} /ModDate ${date} ` +
      `/${voucherIdInfoKey} (${input.voucherId}) >>`,
  );

  let contentsAt = 0;
  if (seal && sigRef !== undefined) {
    const head = `<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange ${byteRangePlaceholder} /Contents `;
    contentsAt = head.length;
    w.set(
      sigRef,
      `${head}<${'0'.repeat(signatureBytesMax * 2)}> /M ${pdfDate(seal.signedAt)} /Name ${pdfText(seal.signerName)}` +
        `${seal.reason ? ` /Reason ${pdfText(seal.reason)}` : ''}${seal.location ? ` /Location ${pdfText(seal.location)}` : ''} >>`,
    );
  }
  const { pdf, bodyAt } = w.finish(catalog, info);
  if (!seal || sigRef === undefined) return { pdf };

  const start = bodyAt[sigRef] + contentsAt;
  const end = start + signatureBytesMax * 2 + 2;
  const byteRange = `[0 ${start} ${end} ${pdf.length - end}]`.padEnd(byteRangePlaceholder.length, ' ');
  const byteRangeAt = start - ' /Contents '.length - byteRangePlaceholder.length;
  if (byteRange.length !== byteRangePlaceholder.length || pdf.toString('latin1', byteRangeAt, byteRangeAt + byteRangePlaceholder.length) !== byteRangePlaceholder) {
    throw new Error('assertion: /ByteRange placeholder not where it was written');
  }
  pdf.write(byteRange, byteRangeAt, 'latin1');
  if (pdf[start] !== 0x3c || pdf[end - 1] !== 0x3e) throw new Error('assertion: /Contents placeholder not where it was written');
  return { pdf, contents: { start, end } };
}

/** The visible stamp: a red box with the signer and time. */
function stampOps(font: DocumentFont, seal: Seal, width: number, height: number): string {
  const red = '0.75 0.1 0.1';
  const lines = [
    { text: '电子签章 Electronic signature', size: 9.5 },
    { text: `签署人 Signed by: ${seal.signerName}`, size: 7 },
    { text: `时间 At: ${displayTime(seal.signedAt.toISOString())}`, size: 7 },
    { text: `证书 Certificate SHA-256: ${seal.certificateFingerprint.slice(0, 32)}…`, size: 6 },
  ];
  const ops = ['q', `1.2 w ${red} RG 1 1 ${num(width - 2)} ${num(height - 2)} re S`];
  let y = height - 6;
  for (const line of lines) {
    for (const text of fitLines(line.text, font, line.size, width - 12)) {
      y -= line.size * 1.25;
      if (y < 2) break;
      ops.push(textOp(text, 6, y, font, line.size, red));
    }
  }
  ops.push('Q');
  return ops.join('\n');
}

function embedFont(w: PdfWriter, ref: number, font: DocumentFont, compress: boolean): void {
  const f = font.finish();
  const m = font.program.metrics;
  // Length1: the font program's length before compression, required for TrueType (9.9).
  const file = w.addStream(` /Length1 ${f.program.length}`, f.program, { compress });
  const descriptor = w.add(
    `<< /Type /FontDescriptor /FontName /${f.baseFont} /Flags 4 /FontBBox [${m.bbox.map(num).join(' ')}] /ItalicAngle ${num(m.italicAngle)} ` +
      `/Ascent ${num(m.ascent)} /Descent ${num(m.descent)} /CapHeight ${num(m.capHeight)} /XHeight ${num(m.xHeight)} /StemV 0 /FontFile2 ${file} 0 R >>`,
  );
  const cidFont = w.add(
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${f.baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> ` +
      `/FontDescriptor ${descriptor} 0 R /W ${f.widths} /CIDToGIDMap /Identity >>`,
  );
  const toUnicode = w.addStream('', Buffer.from(f.toUnicode, 'latin1'), { compress });
  w.set(ref, `<< /Type /Font /Subtype /Type0 /BaseFont /${f.baseFont} /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`);
}
