// The CJK font for vouchers and the bridge between pdf-lib and upstream fontkit 2.x.
//
// Why upstream fontkit and not @pdf-lib/fontkit: the latter (1.1.1) corrupts CJK subsets
// (TrueType fonts lose glyphs; only a rendering shows it, pdftotext still "works"). fontkit 2.x
// subsets correctly but renamed the subset's `encodeStream()` (a stream) to `encode()` (bytes),
// and pdf-lib 1.17 still calls the former. The adapter below restores it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { PDFDocument, PDFFont } from 'pdf-lib';
// Type-only: pdf-lib declares the fontkit interface it calls but does not export it from its index.
import type { Font, Fontkit, GlyphPosition, GlyphRun, Subset } from 'pdf-lib/cjs/types/fontkit';

/** Noto Sans SC from @expo-google-fonts (plain TTF, OFL-1.1). A .ttc would not do: pdf-lib calls
 *  `fontkit.create(bytes)` without a face name. */
const fontPackageDir = path.dirname(require.resolve('@expo-google-fonts/noto-sans-sc/package.json'));
export const fontPaths = {
  regular: path.join(fontPackageDir, '400Regular', 'NotoSansSC_400Regular.ttf'),
  bold: path.join(fontPackageDir, '700Bold', 'NotoSansSC_700Bold.ttf'),
} as const;
export type FontWeight = keyof typeof fontPaths;

// fontkit ships no type declarations; pdf-lib declares the fontkit API it calls. fontkit 2.x has
// that API except for the subset, which encodes to bytes instead of a stream.
type UpstreamSubset = Omit<Subset, 'encodeStream'> & { encode(): Uint8Array };
type UpstreamFont = Omit<Font, 'createSubset'> & { createSubset(): UpstreamSubset };
interface UpstreamFontkit {
  create(buffer: Uint8Array, postscriptName?: string): UpstreamFont;
}

// fontkit's package.json routes `require` under node to its CJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as UpstreamFontkit;

/** pdf-lib's `serializeFont()` reads a subset as a Node stream (data, end, error). */
function bytesAsStream(produce: () => Uint8Array): Readable {
  return new Readable({
    read() {
      try {
        this.push(produce());
        this.push(null);
      } catch (e) {
        this.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    },
  });
}

/** What fontkit's layout returns for text that needs no shaping: a glyph per code point, each
 *  advanced by its own width. The derived fields are computed only when read; pdf-lib reads
 *  only `glyphs`. */
function unshapedRun(font: UpstreamFont, text: string): GlyphRun {
  const glyphs = Array.from(text, (ch) => font.glyphForCodePoint(ch.codePointAt(0)!));
  return {
    glyphs,
    script: 'DFLT',
    language: null,
    direction: 'ltr',
    features: {},
    advanceHeight: 0,
    get positions(): GlyphPosition[] {
      return glyphs.map((g) => ({ xAdvance: g.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 }));
    },
    get advanceWidth() {
      return glyphs.reduce((x, g) => x + g.advanceWidth, 0);
    },
    get bbox() {
      let x = 0;
      const box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
      for (const g of glyphs) {
        box.minX = Math.min(box.minX, x + g.bbox.minX);
        box.minY = Math.min(box.minY, g.bbox.minY);
        box.maxX = Math.max(box.maxX, x + g.bbox.maxX);
        box.maxY = Math.max(box.maxY, g.bbox.maxY);
        x += g.advanceWidth;
      }
      return { ...box, width: box.maxX - box.minX, height: box.maxY - box.minY };
    },
  };
}

/** fontkit 2.x as pdf-lib expects it: subsets that encode to a stream, and layout without
 *  shaping. Chinese and Latin need none (no ligatures or contextual forms on a voucher), and
 *  fontkit's OpenType shaper costs far more than the rest of rendering. */
function adaptForPdfLib(font: UpstreamFont): Font {
  const createSubset = font.createSubset.bind(font);
  return Object.assign(font, {
    createSubset: (): Subset => {
      const subset = createSubset();
      return Object.assign(subset, { encodeStream: () => bytesAsStream(() => subset.encode()) });
    },
    layout: (text: string): GlyphRun => unshapedRun(font, text),
  });
}

// Parsed fonts shared across documents: fontkit parses lazily and caches glyphs on the font
// object, so reusing it makes the second and later vouchers much cheaper. Safe to share because
// per-document state lives in the subset object, which is created fresh for each embedding.
const parsedFonts = new WeakMap<Uint8Array, Font>();

/** What `PDFDocument.registerFontkit` expects. */
export const fontkitForPdfLib: Fontkit = {
  create(buffer: Uint8Array, postscriptName?: string): Font {
    let font = parsedFonts.get(buffer);
    if (!font) {
      font = adaptForPdfLib(fontkit.create(buffer, postscriptName));
      parsedFonts.set(buffer, font);
    }
    return font;
  },
};

const fontBytes = new Map<FontWeight, Uint8Array>();

/** The font file, read once per process (10 MB per weight). */
export function loadFontBytes(weight: FontWeight): Uint8Array {
  let bytes = fontBytes.get(weight);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(fontPaths[weight]));
    fontBytes.set(weight, bytes);
  }
  return bytes;
}

export interface VoucherFonts {
  regular: PDFFont;
  bold: PDFFont;
}

/** Embeds both weights. `subset: false` exists only so tests can prove that the subset keeps
 *  every glyph (a rendering with the subset equals one with the whole font). */
export async function embedVoucherFonts(doc: PDFDocument, opts: { subset?: boolean } = {}): Promise<VoucherFonts> {
  const subset = opts.subset ?? true;
  doc.registerFontkit(fontkitForPdfLib);
  const [regular, bold] = await Promise.all([
    doc.embedFont(loadFontBytes('regular'), { subset }),
    doc.embedFont(loadFontBytes('bold'), { subset }),
  ]);
  return { regular, bold };
}
