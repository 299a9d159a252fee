// The font subsets vouchers embed are built by copying glyph bytes (src/vouchers/fonts.ts). An
// independent reader, fontkit, must find in a subset exactly the outlines and advances of the
// whole font, and the file must be a well-formed sfnt.
import { DocumentFont, fontProgram, type FontWeight } from '../../../src/vouchers/fonts';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as {
  create(b: Uint8Array): { numGlyphs: number; getGlyph(id: number): { advanceWidth: number; path: { toSVG(): string } }; glyphForCodePoint(cp: number): { id: number } };
};

const text = '投标保证金收据 Bid deposit receipt ¥800,000.00（人民币捌拾万元整）苏州市吴江区交通运输局 — 第 1 / 2 页';

describe.each<FontWeight>(['regular', 'bold'])('the %s subset', (weight) => {
  const program = fontProgram(weight);
  const font = new DocumentFont(program, 'F1', true);
  const hex = font.encode(text);
  const { program: subset, widths, toUnicode, baseFont } = font.finish();
  const parsed = fontkit.create(subset);
  const whole = fontkit.create(program.bytes);
  const chars = [...new Set(Array.from(text))];

  test('holds .notdef and one glyph per distinct character, each drawn and advanced as in the whole font', () => {
    const gids = new Set(chars.map((ch) => program.glyphOf(ch).gid));
    expect(parsed.numGlyphs).toBe(gids.size + 1);
    // CIDs are given in order of first use, and the text is encoded with them.
    const cids = hex.match(/.{4}/g)!.map((h) => parseInt(h, 16));
    expect(cids).toHaveLength(Array.from(text).length);
    Array.from(text).forEach((ch, i) => {
      const original = whole.getGlyph(whole.glyphForCodePoint(ch.codePointAt(0)!).id);
      const copy = parsed.getGlyph(cids[i]);
      expect(copy.advanceWidth).toBe(original.advanceWidth);
      expect(copy.path.toSVG()).toBe(original.path.toSVG());
    });
  });

  test('is a well-formed sfnt: every table checksum and the whole-file checksum adjustment hold', () => {
    const numTables = subset.readUInt16BE(4);
    const sum = (from: number, length: number) => {
      let s = 0;
      for (let i = from; i < from + length; i += 4) s = (s + subset.readUInt32BE(i)) >>> 0;
      return s;
    };
    const tags: string[] = [];
    for (let i = 0; i < numTables; i++) {
      const entry = 12 + 16 * i;
      const tag = subset.toString('latin1', entry, entry + 4);
      tags.push(tag);
      const offset = subset.readUInt32BE(entry + 8);
      const length = subset.readUInt32BE(entry + 12);
      expect(offset % 4).toBe(0);
      if (tag !== 'head') expect(sum(offset, (length + 3) & ~3)).toBe(subset.readUInt32BE(entry + 4));
    }
    expect(tags).toEqual([...tags].sort());
    expect(tags).toEqual(expect.arrayContaining(['glyf', 'head', 'hhea', 'hmtx', 'loca', 'maxp']));
    expect(sum(0, subset.length)).toBe(0xb1b0afba);
  });

  test('names its subset with a tag derived from its glyphs, and maps every CID back to its character', () => {
    expect(baseFont).toMatch(/^[A-Z]{6}\+NotoSansSC-/);
    expect(new DocumentFont(program, 'F1', true).finish().baseFont).not.toBe(baseFont);
    for (const ch of chars) {
      if (ch === ' ') continue;
      const utf16 = Buffer.from(ch, 'utf16le').swap16().toString('hex');
      expect(toUnicode).toContain(`<${utf16}>`);
    }
    expect(widths).toMatch(/^\[0 \[\d+ /);
  });
});

test('the voucher fonts have no composite glyphs, which the subsetter would refuse', () => {
  for (const weight of ['regular', 'bold'] as const) expect(fontProgram(weight).compositeGlyphs.size).toBe(0);
});

test('a character the font lacks is drawn as .notdef at the width it was measured with', () => {
  const program = fontProgram('regular');
  const font = new DocumentFont(program, 'F1', true);
  const missing = '\u{e000}';
  expect(program.glyphOf(missing).gid).toBe(0);
  expect(font.encode(missing)).toBe('0000');
  const { widths } = font.finish();
  expect(widths).toBe(`[0 [${program.advanceOf(0)}]]`);
  expect(program.widthOfTextAtSize(missing, 1000)).toBe(program.advanceOf(0));
});
