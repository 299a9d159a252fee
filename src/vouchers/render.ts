// Renders a voucher (凭证) as an unsigned A4 PDF. Signing is a separate step (sign.ts) that fills
// the empty signature field created here, so a renderer never needs a private key and a signer
// never needs to know the layout.
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { embedVoucherFonts } from './fonts';
import { PageWriter } from './layoutPage';
import type { VoucherInput } from './input';
import { layoutVoucherBody, titleOf } from './layouts';

// Callers of renderVoucher find its input types beside it.
export * from './input';

/** Info-dictionary key holding the voucher id; verify.ts reads it back from the signed bytes. */
export const voucherIdInfoKey = 'BidbondVoucherId';
/** Voucher ids are ASCII (`vch_…`), which keeps them literal in the Info dictionary and
 *  findable by verify.ts without a PDF parser. */
export const voucherIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** Name of the signature field render.ts reserves and sign.ts fills. */
export const signatureFieldName = 'BidbondSignature';

export interface RenderOptions {
  /** Tests only: embed the whole 10 MB fonts, to prove the subset keeps every glyph. */
  subsetFonts?: boolean;
}

export async function renderVoucher(input: VoucherInput, opts: RenderOptions = {}): Promise<Uint8Array> {
  if (!voucherIdPattern.test(input.voucherId)) throw new Error(`assertion: voucher id ${JSON.stringify(input.voucherId)} is not ${voucherIdPattern}`);
  if (!/^[0-9a-f]{64}$/.test(input.recordSha256)) throw new Error('assertion: recordSha256 must be 64 lowercase hex characters');
  const issuedAt = new Date(input.issuedAt);
  if (Number.isNaN(issuedAt.getTime())) throw new Error(`assertion: issuedAt ${JSON.stringify(input.issuedAt)} is not an ISO time`);

  // Dates fixed from the input rather than the clock: the same record renders to the same bytes.
  const doc = await PDFDocument.create({ updateMetadata: false });
  const title = titleOf(input.kind);
  doc.setTitle(`${title.zh} ${title.en} ${input.voucherId}`);
  doc.setSubject(input.voucherId);
  doc.setKeywords(['bidbond', 'voucher', input.kind, input.voucherId, `record-sha256:${input.recordSha256}`]);
  doc.setAuthor(input.centre.name);
  doc.setCreator('bidbond');
  doc.setProducer('bidbond (pdf-lib)');
  doc.setLanguage('zh-CN');
  doc.setCreationDate(issuedAt);
  doc.setModificationDate(issuedAt);
  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  info.set(PDFName.of(voucherIdInfoKey), PDFString.of(input.voucherId));

  const subset = opts.subsetFonts ?? true;
  // Deflating two 10 MB fonts costs seconds and the comparison needs no compression.
  if (!subset) doc.context.flateStream = (contents, dict) => doc.context.stream(contents, dict);
  const fonts = await embedVoucherFonts(doc, { subset });
  const writer = new PageWriter(doc, fonts, title);
  await layoutVoucherBody(writer, input);
  const slot = writer.signatureSlot();
  writer.footers(input.voucherId);
  addEmptySignatureField(doc, slot.pageIndex, slot.rect);
  // objectsPerTick: pdf-lib otherwise sleeps a timer tick every 50 objects while writing.
  return doc.save({ useObjectStreams: false, objectsPerTick: Number.MAX_SAFE_INTEGER });
}

/** An unsigned signature field at the reserved box: viewers show "click to sign" there until
 *  sign.ts fills it. */
function addEmptySignatureField(doc: PDFDocument, pageIndex: number, rect: [number, number, number, number]): void {
  const page = doc.getPage(pageIndex);
  const widget = doc.context.obj({
    Type: 'Annot',
    Subtype: 'Widget',
    FT: 'Sig',
    T: PDFString.of(signatureFieldName),
    Rect: rect,
    F: 4, // Print
    P: page.ref,
  });
  const widgetRef = doc.context.register(widget);
  let annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) {
    annots = doc.context.obj([]);
    page.node.set(PDFName.of('Annots'), annots);
  }
  annots.push(widgetRef);
  const acroForm = doc.context.obj({ Fields: [widgetRef] });
  doc.catalog.set(PDFName.of('AcroForm'), doc.context.register(acroForm));
}
