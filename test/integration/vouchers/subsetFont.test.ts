// pdftotext extracts text even from a corrupted font subset (the ToUnicode map survives), so the
// only proof that subsetting kept every glyph is a rendering: each kind drawn with the subset
// must be pixel-identical to the same page drawn with the whole 10 MB font.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { renderVoucher, voucherKinds } from '../../../src/vouchers/render';
import { sampleVoucher } from './fixtures';
import { run, tempDir } from './tools';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('bidbond-vouchers-subset-');
});
afterAll(() => tmp?.remove());

/** The first two pages as PPM bytes (poppler parses the 10 MB font again for every page, so a
 *  whole roster would take seconds; the first two pages hold the title, every block and a table
 *  continued on a new page). */
async function pages(pdf: Uint8Array, name: string): Promise<Buffer[]> {
  const file = tmp.file(`${name}.pdf`, pdf);
  const prefix = tmp.file(name);
  const r = await run('pdftoppm', ['-r', '60', '-l', '2', file, prefix]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const files = readdirSync(tmp.dir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.ppm')).sort();
  expect(files.length).toBeGreaterThan(0);
  return files.map((f) => readFileSync(path.join(tmp.dir, f)));
}

test.each(voucherKinds)('%s rendered with the subset font is pixel-identical to the whole font', async (kind) => {
  // The extreme inputs carry the most distinct characters (long company and section names).
  const input = sampleVoucher(kind, { extreme: true });
  const [subset, full] = await Promise.all([renderVoucher(input), renderVoucher(input, { subsetFonts: false })]);
  expect(subset.length).toBeLessThan(200_000);
  expect(full.length).toBeGreaterThan(20_000_000);
  const [a, b] = await Promise.all([pages(subset, `${kind}-subset`), pages(full, `${kind}-full`)]);
  expect(a.length).toBe(b.length);
  a.forEach((page, i) => {
    // A blank page would compare equal too: require ink on it.
    expect(page.subarray(20).some((byte) => byte < 128)).toBe(true);
    expect(page.equals(b[i])).toBe(true);
  });
});
