// The CJK font for vouchers and the bridge between pdf-lib and upstream fontkit 2.x.
//
// Why upstream fontkit and not @pdf-lib/fontkit: the latter (1.1.1) corrupts CJK subsets
// (TrueType fonts lose glyphs; only a rendering shows it, pdftotext still "works"). fontkit 2.x
// subsets correctly but renamed the subset's `encodeStream()` (a stream) to `encode()` (bytes),
// and pdf-lib 1.17 still calls the former. The adapter below restores it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PDFDocument, PDFFont } from 'pdf-lib';

/** Noto Sans SC from @expo-google-fonts (plain TTF, OFL-1.1). A .ttc would not do: pdf-lib calls
 *  `fontkit.create(bytes)` without a face name. */
const fontPackageDir = path.dirname(require.resolve('@expo-google-fonts/noto-sans-sc/package.json'));
export const fontPaths = {
  regular: path.join(fontPackageDir, '400Regular', 'NotoSansSC_400Regular.ttf'),
  bold: path.join(fontPackageDir, '700Bold', 'NotoSansSC_700Bold.ttf'),
} as const;
export type FontWeight = keyof typeof fontPaths;

// The parts of fontkit 2.x that this module touches; fontkit ships no type declarations.
interface FontkitSubset {
  encode(): Uint8Array;
  encodeStream?: () => MiniStream;
  includeGlyph(glyph: unknown): number;
}
interface FontkitFont {
  createSubset(): FontkitSubset;
  glyphForCodePoint(codePoint: number): unknown;
  layout(text: string, features?: unknown): { glyphs: unknown[] };
  postscriptName: string;
}
interface FontkitModule {
  create(buffer: Uint8Array, postscriptName?: string): FontkitFont;
}

// fontkit's package.json routes `require` under node to its CJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as FontkitModule;

/** Just enough of a Node stream for pdf-lib's `serializeFont()`: it subscribes to data, end and
 *  error synchronously and then waits; the events fire on a later tick so that all three
 *  listeners are attached first. */
interface MiniStream {
  on(event: 'data' | 'end' | 'error', listener: (arg?: unknown) => void): MiniStream;
}
function bytesAsStream(produce: () => Uint8Array): MiniStream {
  const listeners: Record<string, ((arg?: unknown) => void)[]> = { data: [], end: [], error: [] };
  queueMicrotask(() => {
    try {
      const bytes = produce();
      for (const l of listeners.data) l(bytes);
      for (const l of listeners.end) l();
    } catch (e) {
      for (const l of listeners.error) l(e);
    }
  });
  const stream: MiniStream = {
    on(event, listener) {
      listeners[event].push(listener);
      return stream;
    },
  };
  return stream;
}

// Parsed fonts shared across documents: fontkit parses lazily and caches glyphs on the font
// object, so reusing it makes the second and later vouchers much cheaper. Safe to share because
// per-document state lives in the subset object, which is created fresh for each embedding.
const parsedFonts = new WeakMap<Uint8Array, FontkitFont>();

/** What `PDFDocument.registerFontkit` expects: fontkit 2.x with `encodeStream` on subsets. */
export const fontkitForPdfLib = {
  create(buffer: Uint8Array, postscriptName?: string): FontkitFont {
    let font = parsedFonts.get(buffer);
    if (!font) {
      font = fontkit.create(buffer, postscriptName);
      const createSubset = font.createSubset.bind(font);
      font.createSubset = () => {
        const subset = createSubset();
        subset.encodeStream = () => bytesAsStream(() => subset.encode());
        return subset;
      };
      const f = font;
      // Chinese and Latin need no shaping (no ligatures or contextual forms on a voucher), and
      // fontkit's OpenType shaper costs far more than the rest of rendering. pdf-lib reads only
      // `glyphs` from a layout, so a plain cmap lookup draws and measures the same text.
      f.layout = (text: string) => ({ glyphs: Array.from(text, (ch) => f.glyphForCodePoint(ch.codePointAt(0)!)) });
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
  doc.registerFontkit(fontkitForPdfLib as never);
  const [regular, bold] = await Promise.all([
    doc.embedFont(loadFontBytes('regular'), { subset }),
    doc.embedFont(loadFontBytes('bold'), { subset }),
  ]);
  return { regular, bold };
}
