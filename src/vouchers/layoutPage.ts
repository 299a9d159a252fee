// Page primitives for vouchers: an A4 cursor that wraps text by measuring it with the embedded
// font, breaks pages before a block would cross the bottom margin, and repeats table headers.
// Every string drawn goes through `fitLines`, so nothing can run past the right margin however
// long a company name or amount is.
import { fill, PDFDocument, PDFFont, PDFOperator, PDFPage, popGraphicsState, pushGraphicsState, rectangle, rgb, setFillingRgbColor } from 'pdf-lib';
import QRCode from 'qrcode';
import type { VoucherFonts } from './fonts';

export const a4 = { width: 595.28, height: 841.89 } as const;
export const margin = { left: 48, right: 48, top: 48, bottom: 64 } as const;
export const contentWidth = a4.width - margin.left - margin.right;

/** A voucher is a record, not a report generator: a roster with thousands of bidders is a bug
 *  upstream, and a bounded page count keeps a hostile input from exhausting memory. */
export const voucherPagesMax = 200;

const ink = rgb(0, 0, 0);
const grey = rgb(0.38, 0.38, 0.38);
const rule = rgb(0.7, 0.7, 0.7);
const shade = rgb(0.93, 0.93, 0.93);

// Control characters have no glyph and would render as .notdef boxes; a newline is kept as an
// explicit line break.
function clean(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ');
}

// pdf-lib measures by shaping the whole string with fontkit (GSUB/GPOS lookups), and line
// breaking measures growing prefixes, which made a roster take seconds. pdf-lib draws glyphs by
// their advance widths alone (no kerning), so the sum of per-character advances is what the page
// shows (or a hair more where a ligature would merge two glyphs, which only errs on the safe
// side). Cached per font across documents: the set of characters on vouchers is small.
const advanceCache = new Map<string, Map<string, number>>();
const advanceCacheCharsMax = 20_000;

export function measure(font: PDFFont, text: string, size: number): number {
  let advances = advanceCache.get(font.name);
  if (!advances) {
    advances = new Map();
    advanceCache.set(font.name, advances);
  }
  let total = 0;
  for (const ch of text) {
    let w = advances.get(ch);
    if (w === undefined) {
      w = font.widthOfTextAtSize(ch, 1000);
      if (advances.size < advanceCacheCharsMax) advances.set(ch, w);
    }
    total += w;
  }
  return (total * size) / 1000;
}

// Closing punctuation sticks to what precedes it, so that no line starts with "）" or "，".
const tokenPattern = /\s+|[\p{Script=Han}\u3000-\u303f\uff00-\uffef][）」』】〕》〉，。、；：！？]*|[^\s\p{Script=Han}\u3000-\u303f\uff00-\uffef]+[）」』】〕》〉，。、；：！？]*/gu;

/** Greedy line breaking: between any two Han characters, at spaces between Latin words, and
 *  inside a Latin run only when the run alone is wider than the line (account numbers, hashes). */
export function fitLines(text: string, font: PDFFont, size: number, maxWidth: number): string[] {
  const width = (s: string) => measure(font, s, size);
  const lines: string[] = [];
  for (const paragraph of clean(text).split(/\r?\n/)) {
    let line = '';
    for (const token of paragraph.match(tokenPattern) ?? []) {
      if (width(line + token) <= maxWidth) {
        line += token;
        continue;
      }
      if (line.trim() !== '') lines.push(line.trimEnd());
      line = /^\s+$/.test(token) ? '' : token;
      while (width(line) > maxWidth) {
        let fit = 1;
        while (fit < line.length && width(line.slice(0, fit + 1)) <= maxWidth) fit += 1;
        // Keep surrogate pairs together.
        if (/[\ud800-\udbff]/.test(line[fit - 1] ?? '')) fit += 1;
        lines.push(line.slice(0, fit));
        line = line.slice(fit);
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

export interface Label {
  zh: string;
  en: string;
}

export interface Column {
  label: Label;
  /** Share of the content width; the shares of a table sum to 1. */
  share: number;
  align?: 'left' | 'right';
  /** Never wrapped: set smaller when too wide (amounts). */
  shrinkToFit?: boolean;
}

export interface SignatureSlot {
  pageIndex: number;
  rect: [number, number, number, number];
}

const sizes = { title: 17, titleEn: 9, heading: 11.5, headingEn: 7.5, body: 9.5, label: 9, labelEn: 6.5, cell: 8.5, footer: 7 } as const;
const lineGap = 1.35;
/** Room below a baseline for descenders, and between a label and its sub-label. */
const descent = 2.5;
const subLabelGap = 3;
const rowGap = 5;
const inlineGap = 5;

interface LabelLines {
  zh: string[];
  en: string[];
  zhFont: PDFFont;
  /** Sub-label on the same line as the label, when both fit. */
  inline: boolean;
  height: number;
}

export class PageWriter {
  readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;

  constructor(
    private readonly doc: PDFDocument,
    private readonly fonts: VoucherFonts,
    private readonly continuationTitle: Label,
  ) {
    this.newPage();
  }

  private newPage(): void {
    if (this.pages.length >= voucherPagesMax) throw new Error(`assertion: voucher exceeds ${voucherPagesMax} pages`);
    this.page = this.doc.addPage([a4.width, a4.height]);
    this.pages.push(this.page);
    this.y = a4.height - margin.top;
    if (this.pages.length > 1) {
      const t = this.continuationTitle;
      this.text(`${t.zh}（续）`, margin.left, this.y - sizes.heading, this.fonts.bold, sizes.heading);
      const zhWidth = measure(this.fonts.bold, `${t.zh}（续）`, sizes.heading);
      this.text(`${t.en} (continued)`, margin.left + zhWidth + 8, this.y - sizes.heading, this.fonts.regular, sizes.labelEn, grey);
      this.y -= sizes.heading * 1.6;
      this.hline(this.y);
      this.y -= 10;
    }
  }

  /** Starts a new page unless `height` points still fit above the bottom margin. */
  ensureSpace(height: number): void {
    if (this.y - height < margin.bottom) this.newPage();
  }

  private text(s: string, x: number, y: number, font: PDFFont, size: number, color = ink): void {
    if (s !== '') this.page.drawText(s, { x, y, font, size, color });
  }

  private hline(y: number, color = rule, thickness = 0.6): void {
    this.page.drawLine({ start: { x: margin.left, y }, end: { x: a4.width - margin.right, y }, thickness, color });
  }

  /** Title block of the first page, with the QR code at the top right. */
  async titleBlock(title: Label, meta: { label: Label; value: string }[], qrText: string): Promise<void> {
    const qrSize = 86;
    const top = this.y;
    const qrX = a4.width - margin.right - qrSize;
    await drawQr(this.page, qrText, qrX, top - qrSize, qrSize);
    const caption = '扫码验真 Scan to verify';
    const captionWidth = measure(this.fonts.regular, caption, sizes.labelEn);
    this.text(caption, qrX + (qrSize - captionWidth) / 2, top - qrSize - 9, this.fonts.regular, sizes.labelEn, grey);

    const textWidth = contentWidth - qrSize - 16;
    let y = top;
    for (const line of fitLines(title.zh, this.fonts.bold, sizes.title, textWidth)) {
      y -= sizes.title;
      this.text(line, margin.left, y, this.fonts.bold, sizes.title);
      y -= sizes.title * (lineGap - 1);
    }
    for (const line of fitLines(title.en, this.fonts.regular, sizes.titleEn, textWidth)) {
      y -= sizes.titleEn;
      this.text(line, margin.left, y, this.fonts.regular, sizes.titleEn, grey);
      y -= sizes.titleEn * (lineGap - 1);
    }
    this.y = y - 10;
    this.keyValues(meta, { width: textWidth, labelWidth: 104, size: 8 });
    this.y = Math.min(this.y, top - qrSize - 16);
    this.hline(this.y, ink, 1);
    this.y -= 12;
  }

  heading(label: Label): void {
    this.ensureSpace(sizes.heading * 2 + 30);
    this.y -= sizes.heading;
    this.text(label.zh, margin.left, this.y, this.fonts.bold, sizes.heading);
    const w = measure(this.fonts.bold, label.zh, sizes.heading);
    this.text(label.en, margin.left + w + 8, this.y, this.fonts.regular, sizes.headingEn, grey);
    this.y -= 6;
    this.hline(this.y);
    this.y -= 8;
  }

  /** Label/value rows: the Chinese label with its English sub-label on the left, the value wrapped
   *  to the rest of the width. */
  keyValues(rows: { label: Label; value: string; bold?: boolean }[], opts: { width?: number; labelWidth?: number; size?: number } = {}): void {
    const width = opts.width ?? contentWidth;
    const labelWidth = opts.labelWidth ?? 132;
    const size = opts.size ?? sizes.body;
    const valueWidth = width - labelWidth - 8;
    for (const row of rows) {
      const font = row.bold ? this.fonts.bold : this.fonts.regular;
      const labelLines = this.labelLines(row.label, this.fonts.regular, labelWidth, true);
      const value = fitLines(row.value, font, size, valueWidth);
      const valueHeight = size + (value.length - 1) * size * lineGap + descent;
      const height = Math.max(labelLines.height, valueHeight) + rowGap;
      this.ensureSpace(height);
      this.drawLabel(labelLines, margin.left, this.y, labelWidth, 'left');
      let vy = this.y - size;
      for (const l of value) {
        this.text(l, margin.left + labelWidth + 8, vy, font, size);
        vy -= size * lineGap;
      }
      this.y -= height;
    }
    this.y -= 4;
  }

  private labelLines(label: Label, zhFont: PDFFont, width: number, allowInline = false): LabelLines {
    const inlineWidth = measure(zhFont, label.zh, sizes.label) + inlineGap + measure(this.fonts.regular, label.en, sizes.labelEn);
    if (allowInline && inlineWidth <= width) return { zh: [label.zh], en: [label.en], zhFont, inline: true, height: sizes.label + descent };
    const zh = fitLines(label.zh, zhFont, sizes.label, width);
    const en = fitLines(label.en, this.fonts.regular, sizes.labelEn, width);
    const height = sizes.label + (zh.length - 1) * sizes.label * lineGap + subLabelGap + sizes.labelEn + (en.length - 1) * sizes.labelEn * lineGap + descent;
    return { zh, en, zhFont, inline: false, height };
  }

  /** Chinese label with its English sub-label right under it, from `top` down. */
  private drawLabel(lines: LabelLines, x: number, top: number, width: number, align: 'left' | 'right'): void {
    const at = (s: string, font: PDFFont, size: number) => (align === 'right' ? x + width - measure(font, s, size) : x);
    let baseline = top - sizes.label;
    if (lines.inline) {
      this.text(lines.zh[0], x, baseline, lines.zhFont, sizes.label);
      this.text(lines.en[0], x + measure(lines.zhFont, lines.zh[0], sizes.label) + inlineGap, baseline, this.fonts.regular, sizes.labelEn, grey);
      return;
    }
    lines.zh.forEach((l, i) => {
      if (i > 0) baseline -= sizes.label * lineGap;
      this.text(l, at(l, lines.zhFont, sizes.label), baseline, lines.zhFont, sizes.label);
    });
    baseline -= subLabelGap + sizes.labelEn;
    lines.en.forEach((l, i) => {
      if (i > 0) baseline -= sizes.labelEn * lineGap;
      this.text(l, at(l, this.fonts.regular, sizes.labelEn), baseline, this.fonts.regular, sizes.labelEn, grey);
    });
  }

  paragraph(text: string, opts: { size?: number; color?: 'ink' | 'grey' } = {}): void {
    const size = opts.size ?? sizes.body;
    for (const line of fitLines(text, this.fonts.regular, size, contentWidth)) {
      this.ensureSpace(size * lineGap);
      this.y -= size;
      this.text(line, margin.left, this.y, this.fonts.regular, size, opts.color === 'grey' ? grey : ink);
      this.y -= size * (lineGap - 1);
    }
    this.y -= 6;
  }

  /** A table whose header row repeats on every page it spans; cells wrap, rows never split. */
  table(columns: Column[], rows: string[][]): void {
    const totalShare = columns.reduce((s, c) => s + c.share, 0);
    if (Math.abs(totalShare - 1) > 1e-6) throw new Error('assertion: table column shares must sum to 1');
    const pad = 3;
    const widths = columns.map((c) => c.share * contentWidth);
    const size = sizes.cell;
    const drawHeader = () => {
      const labels = columns.map((c, i) => this.labelLines(c.label, this.fonts.bold, widths[i] - 2 * pad));
      const height = Math.max(...labels.map((lb) => lb.height)) + 2 * pad;
      this.page.drawRectangle({ x: margin.left, y: this.y - height, width: contentWidth, height, color: shade });
      let x = margin.left;
      columns.forEach((c, i) => {
        this.drawLabel(labels[i], x + pad, this.y - pad, widths[i] - 2 * pad, c.align ?? 'left');
        x += widths[i];
      });
      this.y -= height;
      this.hline(this.y, ink, 0.8);
    };
    this.ensureSpace(60);
    drawHeader();
    for (const row of rows) {
      if (row.length !== columns.length) throw new Error('assertion: table row width differs from its columns');
      const cells = row.map((cell, i) => {
        const room = widths[i] - 2 * pad;
        if (!columns[i].shrinkToFit) return { lines: fitLines(cell, this.fonts.regular, size, room), size };
        // An amount split over two lines invites misreading; a smaller size keeps it whole.
        const natural = measure(this.fonts.regular, cell, size);
        return { lines: [cell], size: natural > room ? (size * room) / natural : size };
      });
      const height = Math.max(...cells.map((c) => c.lines.length)) * size * lineGap + 2 * pad;
      if (this.y - height < margin.bottom) {
        this.newPage();
        drawHeader();
      }
      let x = margin.left;
      cells.forEach((cell, i) => {
        let y = this.y - pad - size;
        for (const l of cell.lines) {
          this.text(l, this.alignX(l, this.fonts.regular, cell.size, x, widths[i], pad, columns[i].align), y, this.fonts.regular, cell.size);
          y -= size * lineGap;
        }
        x += widths[i];
      });
      this.y -= height;
      this.hline(this.y);
    }
    this.y -= 10;
  }

  private alignX(s: string, font: PDFFont, size: number, x: number, width: number, pad: number, align: Column['align']): number {
    return align === 'right' ? x + width - pad - measure(font, s, size) : x + pad;
  }

  /** Reserves the box the signature's visible appearance goes into, on the last page. */
  signatureSlot(): SignatureSlot {
    const height = 62;
    const width = 250;
    this.ensureSpace(height + 16);
    this.y -= 12;
    const rect: SignatureSlot['rect'] = [a4.width - margin.right - width, this.y - height, a4.width - margin.right, this.y];
    this.y -= height;
    return { pageIndex: this.pages.length - 1, rect };
  }

  /** Footer on every page, drawn last because it names the page count. */
  footers(voucherId: string): void {
    const n = this.pages.length;
    this.pages.forEach((page, i) => {
      const left = `凭证编号 Voucher ${voucherId}`;
      const right = `第 ${i + 1} / ${n} 页 Page ${i + 1} of ${n}`;
      const y = margin.bottom - 30;
      page.drawLine({ start: { x: margin.left, y: y + 12 }, end: { x: a4.width - margin.right, y: y + 12 }, thickness: 0.5, color: rule });
      const rightWidth = measure(this.fonts.regular, right, sizes.footer);
      const leftLines = fitLines(left, this.fonts.regular, sizes.footer, contentWidth - rightWidth - 16);
      leftLines.forEach((l, k) => page.drawText(l, { x: margin.left, y: y - k * sizes.footer * lineGap, font: this.fonts.regular, size: sizes.footer, color: grey }));
      page.drawText(right, { x: a4.width - margin.right - rightWidth, y, font: this.fonts.regular, size: sizes.footer, color: grey });
    });
  }
}

/** QR modules as filled rectangles (one per horizontal run), so the code is vector and needs no
 *  image decoder in any viewer. */
async function drawQr(page: PDFPage, text: string, x: number, y: number, size: number): Promise<void> {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  // One path filled once: pdf-lib's drawRectangle would wrap each of the hundreds of runs in its
  // own graphics state.
  const ops: PDFOperator[] = [pushGraphicsState(), setFillingRgbColor(0, 0, 0)];
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) {
        c += 1;
        continue;
      }
      const start = c;
      while (c < n && qr.modules.get(r, c)) c += 1;
      ops.push(rectangle(x + (quiet + start) * cell, y + size - (quiet + r + 1) * cell, (c - start) * cell, cell));
    }
  }
  ops.push(fill(), popGraphicsState());
  page.pushOperators(...ops);
}
