// Page primitives for vouchers: an A4 cursor that wraps text by measuring it with the embedded
// font, breaks pages before a block would cross the bottom margin, and repeats table headers.
// Every string drawn goes through `fitLines`, so nothing can run past the right margin however
// long a company name or amount is.
import type { DocumentFont } from './fonts';
import { num } from './pdfWriter';
import { qrSymbol } from './qr';

export const a4 = { width: 595.28, height: 841.89 } as const;
export const margin = { left: 48, right: 48, top: 48, bottom: 64 } as const;
export const contentWidth = a4.width - margin.left - margin.right;

/** A bounded page count keeps a hostile input from exhausting memory (a page is a few KB). The
 *  largest vouchers are the opening roster of a section's bidders, at most 20,000
 *  (`rosterBiddersMax`): about 1,250 pages with real company names (10,000 made 626), about
 *  6,800 when every name is as long as the registry allows (200 characters); and the statistics
 *  of a period, at most 3,000 groups (`statisticsVoucherGroupsMax`): about 830 pages, 1,450 with
 *  the longest names. */
export const voucherPagesMax = 8000;

export interface VoucherFonts {
  regular: DocumentFont;
  bold: DocumentFont;
}

/** What text is measured with: a document's font, or the font program behind it. */
export interface MeasuredFont {
  widthOfTextAtSize(text: string, size: number): number;
}

/** A page's content stream, in parts joined when the document is written. */
export interface Page {
  ops: string[];
}

/** RGB operands of `rg`/`RG`. */
type Colour = string;
const ink: Colour = '0 0 0';
const grey: Colour = '0.38 0.38 0.38';
const rule: Colour = '0.7 0.7 0.7';
const shade: Colour = '0.93 0.93 0.93';

// Control characters have no glyph and would render as .notdef boxes; a newline is kept as an
// explicit line break.
function clean(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ');
}
const needsCleaning = /[\u0000-\u001f\u007f-\u009f]/;

// Glyphs are drawn by their advance widths alone (no shaping, no kerning), so the sum of
// per-character advances, cached per font program across documents (fonts.ts), is exactly what
// the page shows. Shaping every measurement with fontkit made a 60-bidder roster take 500 ms.
export function measure(font: MeasuredFont, text: string, size: number): number {
  return font.widthOfTextAtSize(text, size);
}

// Closing punctuation sticks to what precedes it, so that no line starts with "）" or "，".
const tokenPattern = /\s+|[\p{Script=Han}\u3000-\u303f\uff00-\uffef][）」』】〕》〉，。、；：！？]*|[^\s\p{Script=Han}\u3000-\u303f\uff00-\uffef]+[）」』】〕》〉，。、；：！？]*/gu;

/** Greedy line breaking: between any two Han characters, at spaces between Latin words, and
 *  inside a Latin run only when the run alone is wider than the line (account numbers, hashes). */
export function fitLines(text: string, font: MeasuredFont, size: number, maxWidth: number): string[] {
  // Most cells and values fit on one line as they are: the tokens below would only put them back
  // together.
  if (!needsCleaning.test(text) && font.widthOfTextAtSize(text, size) <= maxWidth) return [text.trimEnd()];
  const lines: string[] = [];
  for (const paragraph of clean(text).split(/\r?\n/)) {
    // Widths add up (no kerning), so a line's width is kept as a running sum rather than
    // measuring the growing line again for every token: a roster has tens of thousands of cells.
    let line = '';
    let lineWidth = 0;
    for (const token of paragraph.match(tokenPattern) ?? []) {
      const tokenWidth = font.widthOfTextAtSize(token, size);
      if (lineWidth + tokenWidth <= maxWidth) {
        line += token;
        lineWidth += tokenWidth;
        continue;
      }
      if (line.trim() !== '') lines.push(line.trimEnd());
      line = /^\s+$/.test(token) ? '' : token;
      lineWidth = line === '' ? 0 : tokenWidth;
      while (lineWidth > maxWidth) {
        // At least one character a line; code points, so surrogate pairs stay together.
        let fit = 0;
        let fitWidth = 0;
        for (const ch of line) {
          const w = font.widthOfTextAtSize(ch, size);
          if (fit > 0 && fitWidth + w > maxWidth) break;
          fit += ch.length;
          fitWidth += w;
        }
        lines.push(line.slice(0, fit));
        line = line.slice(fit);
        lineWidth = font.widthOfTextAtSize(line, size);
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
  zhFont: DocumentFont;
  /** Sub-label on the same line as the label, when both fit. */
  inline: boolean;
  height: number;
}

export class PageWriter {
  readonly pages: Page[] = [];
  private page!: Page;
  private y = 0;

  constructor(
    private readonly fonts: VoucherFonts,
    private readonly continuationTitle: Label,
  ) {
    this.newPage();
  }

  private newPage(): void {
    if (this.pages.length >= voucherPagesMax) throw new Error(`assertion: voucher exceeds ${voucherPagesMax} pages`);
    this.page = { ops: [] };
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

  private text(s: string, x: number, y: number, font: DocumentFont, size: number, color = ink): void {
    if (s !== '') this.page.ops.push(textOp(s, x, y, font, size, color));
  }

  private hline(y: number, color = rule, thickness = 0.6, page = this.page): void {
    page.ops.push(lineOp(margin.left, y, a4.width - margin.right, y, thickness, color));
  }

  /** Title block of the first page, with the QR code at the top right. */
  titleBlock(title: Label, meta: { label: Label; value: string }[], qrText: string): void {
    const qrSize = 86;
    const top = this.y;
    const qrX = a4.width - margin.right - qrSize;
    this.page.ops.push(qrOps(qrText, qrX, top - qrSize, qrSize));
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

  private labelLines(label: Label, zhFont: DocumentFont, width: number, allowInline = false): LabelLines {
    const inlineWidth = measure(zhFont, label.zh, sizes.label) + inlineGap + measure(this.fonts.regular, label.en, sizes.labelEn);
    if (allowInline && inlineWidth <= width) return { zh: [label.zh], en: [label.en], zhFont, inline: true, height: sizes.label + descent };
    const zh = fitLines(label.zh, zhFont, sizes.label, width);
    const en = fitLines(label.en, this.fonts.regular, sizes.labelEn, width);
    const height = sizes.label + (zh.length - 1) * sizes.label * lineGap + subLabelGap + sizes.labelEn + (en.length - 1) * sizes.labelEn * lineGap + descent;
    return { zh, en, zhFont, inline: false, height };
  }

  /** Chinese label with its English sub-label right under it, from `top` down. */
  private drawLabel(lines: LabelLines, x: number, top: number, width: number, align: 'left' | 'right'): void {
    const at = (s: string, font: DocumentFont, size: number) => (align === 'right' ? x + width - measure(font, s, size) : x);
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
      this.page.ops.push(`${shade} rg ${num(margin.left)} ${num(this.y - height)} ${num(contentWidth)} ${num(height)} re f`);
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
    // Plain loops below: a roster runs them for thousands of rows, and a closure per row costs
    // more than the work (tsx also wraps each closure it creates to keep its name).
    const font = this.fonts.regular;
    const cellLines: string[][] = [];
    const cellSizes: number[] = [];
    for (const row of rows) {
      if (row.length !== columns.length) throw new Error('assertion: table row width differs from its columns');
      let mostLines = 1;
      for (let i = 0; i < row.length; i++) {
        const room = widths[i] - 2 * pad;
        if (!columns[i].shrinkToFit) {
          cellLines[i] = fitLines(row[i], font, size, room);
          cellSizes[i] = size;
        } else {
          // An amount split over two lines invites misreading; a smaller size keeps it whole.
          const natural = measure(font, row[i], size);
          cellLines[i] = [row[i]];
          cellSizes[i] = natural > room ? (size * room) / natural : size;
        }
        mostLines = Math.max(mostLines, cellLines[i].length);
      }
      const height = mostLines * size * lineGap + 2 * pad;
      if (this.y - height < margin.bottom) {
        this.newPage();
        drawHeader();
      }
      let x = margin.left;
      for (let i = 0; i < row.length; i++) {
        let y = this.y - pad - size;
        for (const l of cellLines[i]) {
          this.text(l, this.alignX(l, font, cellSizes[i], x, widths[i], pad, columns[i].align), y, font, cellSizes[i]);
          y -= size * lineGap;
        }
        x += widths[i];
      }
      this.y -= height;
      this.hline(this.y);
    }
    this.y -= 10;
  }

  private alignX(s: string, font: DocumentFont, size: number, x: number, width: number, pad: number, align: Column['align']): number {
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
      this.hline(y + 12, rule, 0.5, page);
      const rightWidth = measure(this.fonts.regular, right, sizes.footer);
      const leftLines = fitLines(left, this.fonts.regular, sizes.footer, contentWidth - rightWidth - 16);
      leftLines.forEach((l, k) => page.ops.push(textOp(l, margin.left, y - k * sizes.footer * lineGap, this.fonts.regular, sizes.footer, grey)));
      page.ops.push(textOp(right, a4.width - margin.right - rightWidth, y, this.fonts.regular, sizes.footer, grey));
    });
  }
}

/** One line of text in one font; the fill colour is set each time, so operators can be emitted
 *  in any order. */
export function textOp(s: string, x: number, y: number, font: DocumentFont, size: number, color: Colour = ink): string {
  return `BT /${font.resourceName} ${num(size)} Tf ${color} rg ${num(x)} ${num(y)} Td <${font.encode(s)}> Tj ET`;
}

function lineOp(x1: number, y1: number, x2: number, y2: number, thickness: number, color: Colour): string {
  return `q ${num(thickness)} w ${color} RG ${num(x1)} ${num(y1)} m ${num(x2)} ${num(y2)} l S Q`;
}

/** QR modules as filled rectangles (one per horizontal run), one path filled once, so the code
 *  is vector and needs no image decoder in any viewer. */
function qrOps(text: string, x: number, y: number, size: number): string {
  const qr = qrSymbol(text);
  const n = qr.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  const ops: string[] = ['q 0 0 0 rg'];
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!qr.modules[r * n + c]) {
        c += 1;
        continue;
      }
      const start = c;
      while (c < n && qr.modules[r * n + c]) c += 1;
      ops.push(`${num(x + (quiet + start) * cell)} ${num(y + size - (quiet + r + 1) * cell)} ${num((c - start) * cell)} ${num(cell)} re`);
    }
  }
  ops.push('f Q');
  return ops.join('\n');
}
