// The CJK font for vouchers, prepared once per process, and the per-document subsets embedded
// from it.
//
// Why not pdf-lib's font embedding: it subsets through fontkit, which decodes every glyph's
// outline to copy it (and @pdf-lib/fontkit 1.1.1 corrupts CJK subsets outright), then deflates
// the result in JavaScript; together about half of a voucher's rendering time. A TrueType
// subset for a PDF needs no outline decoding: each glyph is a byte range of `glyf` found through
// `loca`, copied as is. So the font file is
// read and its tables located once per process, each character's glyph id and advance are
// cached, and a document's subset is a few memory copies. fontkit is only asked for the
// character map (which glyph a code point uses), once per character.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Noto Sans SC from @expo-google-fonts (plain TTF, OFL-1.1). */
const fontPackageDir = path.dirname(require.resolve('@expo-google-fonts/noto-sans-sc/package.json'));
export const fontPaths = {
  regular: path.join(fontPackageDir, '400Regular', 'NotoSansSC_400Regular.ttf'),
  bold: path.join(fontPackageDir, '700Bold', 'NotoSansSC_700Bold.ttf'),
} as const;
export type FontWeight = keyof typeof fontPaths;

// fontkit ships no type declarations; this is the part of its API used here.
interface FontkitFont {
  unitsPerEm: number;
  numGlyphs: number;
  postscriptName: string;
  ascent: number;
  descent: number;
  capHeight: number;
  xHeight: number;
  italicAngle: number;
  bbox: { minX: number; minY: number; maxX: number; maxY: number };
  glyphForCodePoint(codePoint: number): { id: number };
  directory: { tables: Record<string, { offset: number; length: number } | undefined> };
}
/** fontkit, required when the first font is read: with its brotli dictionary and Unicode tables
 *  it is a quarter of a second of start-up that a process which never renders a voucher (the
 *  API, every operator command) should not pay. Its package.json routes `require` under node to
 *  its CJS build. */
function fontkit(): { create(buffer: Uint8Array): FontkitFont } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('fontkit');
}

/** Characters whose glyph and advance are remembered per font: every character vouchers print
 *  is among the first few thousand seen, and a hostile name cannot grow the cache without bound. */
export const glyphCacheCharsMax = 20_000;

interface GlyphOf {
  gid: number;
  /** Advance in thousandths of the em: the unit of PDF glyph widths and of `measure`. */
  advance: number;
}

/** Tables a TrueType font program embedded in a PDF needs (PDF 32000-1 9.9); cmap, layout and
 *  naming tables are not used by PDF viewers for a CIDFontType2 with Identity CIDToGIDMap. */
const copiedTables = ['cvt ', 'fpgm', 'prep'] as const;

/** A TrueType font read once per process: the file, its tables located, glyphs cached by character. */
export class FontProgram {
  readonly postscriptName: string;
  readonly numGlyphs: number;
  /** Font units to thousandths of the em. */
  readonly scale: number;
  readonly metrics: { ascent: number; descent: number; capHeight: number; xHeight: number; italicAngle: number; bbox: [number, number, number, number] };
  private readonly font: FontkitFont;
  private readonly table = new Map<string, Buffer>();
  private readonly locaLong: boolean;
  private readonly numberOfHMetrics: number;
  private readonly glyphs = new Map<string, GlyphOf>();
  /** Composite glyphs of the font, found once when it is loaded. */
  readonly compositeGlyphs: ReadonlySet<number>;

  constructor(readonly bytes: Buffer) {
    this.font = fontkit().create(bytes);
    for (const [tag, entry] of Object.entries(this.font.directory.tables)) {
      if (entry) this.table.set(tag, bytes.subarray(entry.offset, entry.offset + entry.length));
    }
    for (const tag of ['head', 'hhea', 'maxp', 'loca', 'glyf', 'hmtx']) {
      if (!this.table.has(tag)) throw new Error(`assertion: the voucher font has no ${tag} table (not a TrueType font)`);
    }
    this.postscriptName = this.font.postscriptName.replace(/[^A-Za-z0-9-]/g, '');
    this.numGlyphs = this.tableOf('maxp').readUInt16BE(4);
    this.locaLong = this.tableOf('head').readInt16BE(50) === 1;
    this.numberOfHMetrics = this.tableOf('hhea').readUInt16BE(34);
    this.scale = 1000 / this.font.unitsPerEm;
    const composites = new Set<number>();
    for (let gid = 0; gid < this.numGlyphs; gid++) if (this.isComposite(gid)) composites.add(gid);
    this.compositeGlyphs = composites;
    const f = this.font;
    const s = this.scale;
    this.metrics = {
      ascent: f.ascent * s,
      descent: f.descent * s,
      capHeight: (f.capHeight || f.ascent) * s,
      xHeight: (f.xHeight || 0) * s,
      italicAngle: f.italicAngle,
      bbox: [f.bbox.minX * s, f.bbox.minY * s, f.bbox.maxX * s, f.bbox.maxY * s],
    };
  }

  private tableOf(tag: string): Buffer {
    return this.table.get(tag)!;
  }

  /** The glyph a character is drawn with (.notdef, id 0, when the font has none). */
  glyphOf(ch: string): GlyphOf {
    const hit = this.glyphs.get(ch);
    if (hit) return hit;
    const gid = this.font.glyphForCodePoint(ch.codePointAt(0)!).id;
    const glyph = { gid, advance: this.advanceOf(gid) * this.scale };
    if (this.glyphs.size < glyphCacheCharsMax) this.glyphs.set(ch, glyph);
    return glyph;
  }

  /** Width of `text` at `size` points. Glyphs are drawn by their advances alone (no shaping or
   *  kerning: Chinese and Latin on a voucher need none), so this is what the page shows. */
  widthOfTextAtSize(text: string, size: number): number {
    let total = 0;
    for (const ch of text) total += this.glyphOf(ch).advance;
    return (total * size) / 1000;
  }

  /** Advance of a glyph in font units, from hmtx. */
  advanceOf(gid: number): number {
    const hmtx = this.tableOf('hmtx');
    return hmtx.readUInt16BE(4 * Math.min(gid, this.numberOfHMetrics - 1));
  }

  private leftSideBearingOf(gid: number): number {
    const hmtx = this.tableOf('hmtx');
    if (gid < this.numberOfHMetrics) return hmtx.readInt16BE(4 * gid + 2);
    return hmtx.readInt16BE(4 * this.numberOfHMetrics + 2 * (gid - this.numberOfHMetrics));
  }

  private glyphBytes(gid: number): Buffer {
    const loca = this.tableOf('loca');
    const start = this.locaLong ? loca.readUInt32BE(4 * gid) : 2 * loca.readUInt16BE(2 * gid);
    const end = this.locaLong ? loca.readUInt32BE(4 * gid + 4) : 2 * loca.readUInt16BE(2 * gid + 2);
    return this.tableOf('glyf').subarray(start, end);
  }

  /** Whether a glyph is composite (built from other glyphs by id: ids a subset renumbers). */
  private isComposite(gid: number): boolean {
    const glyph = this.glyphBytes(gid);
    return glyph.length >= 10 && glyph.readInt16BE(0) < 0;
  }

  /** A TrueType font program holding `gids` (the first must be .notdef, 0) as glyphs 0..n-1, in
   *  that order. Noto Sans SC has no composite glyphs (a unit test checks); a font that has them
   *  would need their component ids renumbered, so they are refused here rather than drawn wrong. */
  subsetProgram(gids: readonly number[]): Buffer {
    if (gids[0] !== 0) throw new Error('assertion: a subset starts with .notdef');
    const composite = this.compositeGlyphs.size === 0 ? undefined : gids.find((gid) => this.compositeGlyphs.has(gid));
    if (composite !== undefined) throw new Error(`assertion: glyph ${composite} of ${this.postscriptName} is composite, which the subsetter does not renumber`);
    const n = gids.length;
    const glyphs = gids.map((gid) => this.glyphBytes(gid));
    // Long loca offsets need no alignment, but glyph data is conventionally 4-byte aligned.
    const glyphAt = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) glyphAt[i + 1] = glyphAt[i] + align4(glyphs[i].length);
    const head = this.tableOf('head');
    const hhea = this.tableOf('hhea');
    const maxp = this.tableOf('maxp');
    const tables: SfntTable[] = [
      {
        tag: 'glyf',
        length: glyphAt[n],
        fill: (out) => glyphs.forEach((glyph, i) => glyph.copy(out, glyphAt[i])),
      },
      {
        tag: 'head',
        length: head.length,
        fill: (out) => {
          head.copy(out);
          out.writeUInt32BE(0, 8); // checkSumAdjustment, set by sfnt()
          out.writeInt16BE(1, 50); // indexToLocFormat: long
        },
      },
      { tag: 'hhea', length: hhea.length, fill: (out) => (hhea.copy(out), out.writeUInt16BE(n, 34)) },
      {
        tag: 'hmtx',
        length: 4 * n,
        fill: (out) =>
          gids.forEach((gid, i) => {
            out.writeUInt16BE(this.advanceOf(gid), 4 * i);
            out.writeInt16BE(this.leftSideBearingOf(gid), 4 * i + 2);
          }),
      },
      { tag: 'loca', length: 4 * (n + 1), fill: (out) => glyphAt.forEach((at, i) => out.writeUInt32BE(at, 4 * i)) },
      { tag: 'maxp', length: maxp.length, fill: (out) => (maxp.copy(out), out.writeUInt16BE(n, 4)) },
    ];
    for (const tag of copiedTables) {
      const t = this.table.get(tag);
      if (t) tables.push({ tag, length: t.length, fill: (out) => t.copy(out) });
    }
    return sfnt(tables);
  }
}

interface SfntTable {
  tag: string;
  length: number;
  /** Writes the table into `out`, a view of the file at the table's offset. */
  fill(out: Buffer): void;
}

const align4 = (n: number) => (n + 3) & ~3;

/** An sfnt file from its tables, written into one buffer: the directory, each table 4-byte
 *  aligned, the checksums and head's checkSumAdjustment. */
function sfnt(tables: SfntTable[]): Buffer {
  tables.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const numTables = tables.length;
  const entrySelector = Math.floor(Math.log2(numTables));
  const searchRange = 2 ** entrySelector * 16;
  const directoryLength = 12 + 16 * numTables;
  const file = Buffer.alloc(tables.reduce((sum, t) => sum + align4(t.length), directoryLength));
  file.writeUInt32BE(0x00010000, 0);
  file.writeUInt16BE(numTables, 4);
  file.writeUInt16BE(searchRange, 6);
  file.writeUInt16BE(entrySelector, 8);
  file.writeUInt16BE(numTables * 16 - searchRange, 10);
  let offset = directoryLength;
  let total = 0;
  let headAt = -1;
  tables.forEach((t, i) => {
    t.fill(file.subarray(offset, offset + t.length));
    const sum = checksum(file, offset, align4(t.length));
    const entry = 12 + 16 * i;
    file.write(t.tag, entry, 4, 'latin1');
    file.writeUInt32BE(sum, entry + 4);
    file.writeUInt32BE(offset, entry + 8);
    file.writeUInt32BE(t.length, entry + 12);
    if (t.tag === 'head') headAt = offset;
    total = (total + sum) >>> 0;
    offset += align4(t.length);
  });
  total = (total + checksum(file, 0, directoryLength)) >>> 0;
  file.writeUInt32BE((0xb1b0afba - total) >>> 0, headAt + 8);
  return file;
}

/** Sum of big-endian 32-bit words; `length` is a multiple of 4 (tables are zero-padded). */
function checksum(data: Buffer, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i += 4) sum = (sum + data.readUInt32BE(i)) >>> 0;
  return sum;
}

const programs = new Map<FontWeight, FontProgram>();

/** The font of a weight, read and prepared once per process (10 MB per weight). */
export function fontProgram(weight: FontWeight): FontProgram {
  let program = programs.get(weight);
  if (!program) {
    program = new FontProgram(readFileSync(fontPaths[weight]));
    programs.set(weight, program);
  }
  return program;
}

/** A font as one document uses it: the characters drawn so far, each given a CID (its glyph's
 *  index in the document's subset) in order of first use, so the same input always yields the
 *  same bytes. With `subset: false` the whole font is embedded and CIDs are the font's glyph ids. */
export class DocumentFont {
  private readonly cids = new Map<string, string>();
  /** Original glyph id of each CID of the subset; CID 0 is .notdef. */
  private readonly subsetGids: number[] = [0];
  private readonly subsetCidOf = new Map<number, number>([[0, 0]]);
  /** Characters behind each CID, for the ToUnicode map. */
  private readonly unicodeOf = new Map<number, string>();

  constructor(
    readonly program: FontProgram,
    /** Name of the font in page resources (`/F1`). */
    readonly resourceName: string,
    readonly subset: boolean,
  ) {}

  get name(): string {
    return this.program.postscriptName;
  }

  widthOfTextAtSize(text: string, size: number): number {
    return this.program.widthOfTextAtSize(text, size);
  }

  /** The text as a hex string of 2-byte CIDs (Identity-H), for `Tj`. */
  encode(text: string): string {
    let hex = '';
    for (const ch of text) {
      let cid = this.cids.get(ch);
      if (cid === undefined) {
        const { gid } = this.program.glyphOf(ch);
        let n: number;
        if (!this.subset) n = gid;
        else {
          n = this.subsetCidOf.get(gid) ?? this.subsetGids.length;
          if (n === this.subsetGids.length) {
            this.subsetGids.push(gid);
            this.subsetCidOf.set(gid, n);
          }
        }
        if (n !== 0 && !this.unicodeOf.has(n)) this.unicodeOf.set(n, ch);
        cid = n.toString(16).padStart(4, '0');
        this.cids.set(ch, cid);
      }
      hex += cid;
    }
    return hex;
  }

  /** What the PDF's font objects need once every page is drawn. */
  finish(): { program: Buffer; widths: string; toUnicode: string; baseFont: string } {
    // .notdef gets its width too: a character the font lacks is drawn as it was measured.
    const used = [0, ...this.unicodeOf.keys()].sort((a, b) => a - b);
    const program = this.subset ? this.program.subsetProgram(this.subsetGids) : this.program.bytes;
    const gidOf = (cid: number) => (this.subset ? this.subsetGids[cid] : cid);
    const width = (cid: number) => formatWidth(this.program.advanceOf(gidOf(cid)) * this.program.scale);
    // One run of consecutive CIDs per entry: `c [w1 w2 …]`.
    const runs: string[] = [];
    for (let i = 0; i < used.length; ) {
      let j = i;
      while (j + 1 < used.length && used[j + 1] === used[j] + 1) j++;
      runs.push(`${used[i]} [${used.slice(i, j + 1).map(width).join(' ')}]`);
      i = j + 1;
    }
    // A subset's name carries a tag naming its glyphs (PDF 32000-1 9.6.4); derived from them
    // rather than random, so that rendering stays deterministic.
    const tag = this.subset ? `${subsetTag(this.subsetGids)}+` : '';
    return { program, widths: `[${runs.join(' ')}]`, toUnicode: toUnicodeCMap(used.filter((cid) => cid !== 0).map((cid) => [cid, this.unicodeOf.get(cid)!])), baseFont: `${tag}${this.program.postscriptName}` };
  }
}

function formatWidth(w: number): string {
  return String(Math.round(w * 1000) / 1000);
}

function subsetTag(gids: number[]): string {
  const digest = createHash('sha256').update(Uint32Array.from(gids)).digest();
  return Array.from(digest.subarray(0, 6), (b) => String.fromCharCode(65 + (b % 26))).join('');
}

/** bfchar ranges of at most 100 entries each, as the CMap syntax requires. */
const bfcharEntriesMax = 100;

function toUnicodeCMap(entries: [number, string][]): string {
  const utf16 = (s: string) => {
    let hex = '';
    for (let i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16).padStart(4, '0');
    return hex;
  };
  const blocks: string[] = [];
  for (let i = 0; i < entries.length; i += bfcharEntriesMax) {
    const chunk = entries.slice(i, i + bfcharEntriesMax);
    blocks.push(`${chunk.length} beginbfchar\n${chunk.map(([cid, ch]) => `<${cid.toString(16).padStart(4, '0')}> <${utf16(ch)}>`).join('\n')}\nendbfchar`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <ffff>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}
