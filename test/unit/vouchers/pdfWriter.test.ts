// The PDF writer and the layout primitives under the vouchers, checked against an independent
// parser (pdf-lib) and by the widths they promise.
import { PDFDict, PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { fontProgram } from '../../../src/vouchers/fonts';
import { fitLines, measure } from '../../../src/vouchers/layoutPage';
import { num, PdfWriter, pdfDate, pdfText } from '../../../src/vouchers/pdfWriter';
import { renderSealedVoucher, renderVoucher, signatureBytesMax } from '../../../src/vouchers/render';
import { sampleVoucher } from '../../integration/vouchers/fixtures';

test('every cross-reference entry points at its object, and pdf-lib reads the file back', async () => {
  const w = new PdfWriter();
  const info = w.add(`<< /Title ${pdfText('凭证 (1)')} /CreationDate ${pdfDate(new Date('2025-03-14T06:30:00Z'))} >>`);
  const catalog = w.alloc();
  const pages = w.alloc();
  const content = w.addStream('', Buffer.from('0 0 1 rg 10 10 100 100 re f'));
  const page = w.add(`<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 200 200] /Contents ${content} 0 R >>`);
  w.set(pages, `<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pages} 0 R >>`);
  const { pdf, bodyAt } = w.finish(catalog, info);

  const text = pdf.toString('latin1');
  const xrefAt = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  expect(text.slice(xrefAt, xrefAt + 5)).toBe('xref\n');
  const entries = text.slice(xrefAt).split('\n').slice(3, 3 + 5);
  entries.forEach((entry, i) => {
    const offset = Number(entry.slice(0, 10));
    expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    expect(bodyAt[i + 1]).toBe(offset + `${i + 1} 0 obj\n`.length);
  });

  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  expect(doc.getPageCount()).toBe(1);
  expect(doc.getTitle()).toBe('凭证 (1)');
  expect(doc.getCreationDate()?.toISOString()).toBe('2025-03-14T06:30:00.000Z');
});

test('a rendered voucher parses with pdf-lib: pages, metadata, the empty signature field', async () => {
  const input = sampleVoucher('opening_roster', { extreme: true });
  const doc = await PDFDocument.load(await renderVoucher(input), { updateMetadata: false });
  expect(doc.getPageCount()).toBeGreaterThan(2);
  expect(doc.getSubject()).toBe(input.voucherId);
  const field = doc.getForm().getFields()[0];
  expect(field.getName()).toBe('BidbondSignature');
  expect(field.acroField.dict.get(PDFName.of('V'))).toBeUndefined();
});

test('a sealed voucher has /ByteRange filled around its empty /Contents, which ends the signed gap exactly', async () => {
  const sealed = renderSealedVoucher(sampleVoucher('deposit_receipt'), { signerName: 'bidbond', certificateFingerprint: 'a'.repeat(64), signedAt: new Date('2026-01-01T00:00:00Z'), reason: '凭证签章' });
  const { pdf, contentsStart, contentsEnd } = sealed;
  expect(contentsEnd - contentsStart).toBe(signatureBytesMax * 2 + 2);
  expect(pdf.toString('latin1', contentsStart, contentsEnd)).toBe(`<${'0'.repeat(signatureBytesMax * 2)}>`);
  const byteRange = /\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\s*\]/.exec(pdf.toString('latin1'))!.slice(1).map(Number);
  expect(byteRange).toEqual([0, contentsStart, contentsEnd, pdf.length - contentsEnd]);
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const v = doc.getForm().getFields()[0].acroField.dict.lookup(PDFName.of('V'));
  expect(v).toBeDefined();
  expect(doc.getForm().acroForm.dict.get(PDFName.of('SigFlags'))?.toString()).toBe('3');
  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  expect(info.get(PDFName.of('BidbondVoucherId'))).toEqual(PDFString.of(sampleVoucher('deposit_receipt').voucherId));
});

describe('fitLines', () => {
  const font = fontProgram('regular');

  test('never returns a line wider than asked, whatever the text', () => {
    const samples = [
      '中铁建设集团华东第七工程局有限公司暨长三角一体化示范区基础设施投资建设发展联合体牵头单位（上海）国际工程咨询管理股份有限公司',
      'a3f1c2e4b5d6978812345678901234567890abcdefabcdefabcdefabcdef0123a3f1c2e4b5d697881234567890',
      'China Railway Construction East China No.7 Engineering Bureau Co., Ltd. Consortium Lead 投标单位',
      '𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋'.repeat(3),
    ];
    for (const text of samples) {
      for (const maxWidth of [20, 60, 140, 400]) {
        const lines = fitLines(text, font, 8.5, maxWidth);
        for (const l of lines) if (Array.from(l).length > 1) expect(measure(font, l, 8.5)).toBeLessThanOrEqual(maxWidth + 1e-9);
        expect(lines.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
      }
    }
  });

  test('keeps surrogate pairs whole and closing punctuation with what precedes it', () => {
    for (const l of fitLines('𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇', font, 10, 25)) expect(l).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    for (const l of fitLines('公司（上海）有限公司，第三标段。', font, 10, 30)) expect(l).not.toMatch(/^[）」』】〕》〉，。、；：！？]/);
  });
});

test('numbers are written with at most three decimals and never in exponent form', () => {
  expect([num(595.28), num(0.1 + 0.2), num(-0), num(1e-9), num(-12.3456), num(1234567.891)]).toEqual(['595.28', '0.3', '0', '0', '-12.346', '1234567.891']);
});
