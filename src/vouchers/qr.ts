// The QR code on every voucher, with the mask chosen as ISO/IEC 18004 requires (the one of the
// eight with the lowest penalty), but evaluated here on plain byte arrays. The qrcode package
// evaluates the eight masks through its BitMatrix accessors, which took as long as the rest of
// a voucher's layout; it still encodes the data (segments, error correction, placement) and we
// take its symbol built with mask 0 as the starting point.
import QRCode from 'qrcode';

const errorCorrectionLevel = 'M';
const maskPatterns = 8;

/** A QR symbol: `size`×`size` modules, row by row, 1 for dark. */
export interface QrSymbol {
  size: number;
  modules: Uint8Array;
  maskPattern: number;
}

/** Whether mask pattern `p` flips the module at row i, column j (ISO/IEC 18004 table 10). */
function masked(p: number, i: number, j: number): boolean {
  switch (p) {
    case 0: return (i + j) % 2 === 0;
    case 1: return i % 2 === 0;
    case 2: return j % 3 === 0;
    case 3: return (i + j) % 3 === 0;
    case 4: return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0;
    case 5: return ((i * j) % 2) + ((i * j) % 3) === 0;
    case 6: return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0;
    case 7: return (((i * j) % 3) + ((i + j) % 2)) % 2 === 0;
    default: throw new Error(`assertion: no mask pattern ${p}`);
  }
}

/** Where the 15 format bits go (both copies), as [row, column] pairs per bit. */
function formatPositions(size: number): [number, number][][] {
  return Array.from({ length: 15 }, (_, i) => [
    i < 6 ? [i, 8] : i < 8 ? [i + 1, 8] : [size - 15 + i, 8],
    i < 8 ? [8, size - i - 1] : i < 9 ? [8, 15 - i] : [8, 15 - i - 1],
  ]);
}

// Which modules each mask flips, per symbol size: the same few sizes recur on every voucher.
const maskTables = new Map<number, Uint8Array[]>();
const maskTableSizesMax = 40;
function maskTablesOf(size: number): Uint8Array[] {
  let tables = maskTables.get(size);
  if (!tables) {
    tables = Array.from({ length: maskPatterns }, (_, p) => {
      const t = new Uint8Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) t[i * size + j] = masked(p, i, j) ? 1 : 0;
      return t;
    });
    if (maskTables.size < maskTableSizesMax) maskTables.set(size, tables);
  }
  return tables;
}

// The format word of each mask at our error correction level, read once from symbols the
// library builds with that mask, rather than recomputing its BCH code here.
let formatWords: number[] | undefined;
function formatWordOf(p: number): number {
  if (!formatWords) {
    formatWords = Array.from({ length: maskPatterns }, (_, mask) => {
      const qr = QRCode.create('0', { errorCorrectionLevel, maskPattern: mask } as QRCode.QRCodeOptions);
      const size = qr.modules.size;
      return formatPositions(size).reduce((word, [[r, c]], i) => word | (qr.modules.get(r, c) << i), 0);
    });
  }
  return formatWords[p];
}

/** The symbol for `text` as one byte-mode segment: a URL is byte-mode data anyway, and the
 *  library's search for the best mix of modes costs more than the rest of the symbol. */
export function qrSymbol(text: string): QrSymbol {
  const qr = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], { errorCorrectionLevel, maskPattern: 0 } as QRCode.QRCodeOptions);
  const size = qr.modules.size;
  const reserved = qr.modules.reservedBit;
  const tables = maskTablesOf(size);
  // Back to the unmasked data: mask 0 flips the same modules again. Reserved modules (finder,
  // timing, format and version) are never masked.
  const flippable = new Uint8Array(size * size);
  for (let k = 0; k < flippable.length; k++) flippable[k] = reserved[k] ? 0 : 1;
  const data = new Uint8Array(size * size);
  for (let k = 0; k < data.length; k++) data[k] = qr.modules.data[k] ^ (tables[0][k] & flippable[k]);

  const positions = formatPositions(size);
  let best: Uint8Array | undefined;
  let bestPattern = 0;
  let bestPenalty = Infinity;
  for (let p = 0; p < maskPatterns; p++) {
    const candidate = new Uint8Array(size * size);
    const flips = tables[p];
    for (let k = 0; k < candidate.length; k++) candidate[k] = data[k] ^ (flips[k] & flippable[k]);
    const word = formatWordOf(p);
    positions.forEach((copies, bit) => {
      for (const [r, c] of copies) candidate[r * size + c] = (word >> bit) & 1;
    });
    const score = penalty(candidate, size);
    // Ties go to the lower pattern number, as in the library.
    if (score < bestPenalty) {
      bestPenalty = score;
      bestPattern = p;
      best = candidate;
    }
  }
  return { size, modules: best!, maskPattern: bestPattern };
}

/** The penalty score of a masked symbol (ISO/IEC 18004 7.8.3.1): runs of five or more modules
 *  of one colour, 2×2 blocks of one colour, finder-like 1:1:3:1:1 patterns with four light
 *  modules on one side, and the distance of the dark share from 50%. */
export function penalty(m: Uint8Array, size: number): number {
  let n1 = 0;
  let n3 = 0;
  for (let a = 0; a < size; a++) {
    let runRow = 0;
    let runCol = 0;
    let lastRow = -1;
    let lastCol = -1;
    let bitsRow = 0;
    let bitsCol = 0;
    for (let b = 0; b < size; b++) {
      const inRow = m[a * size + b];
      const inCol = m[b * size + a];
      if (inRow === lastRow) runRow++;
      else {
        if (runRow >= 5) n1 += 3 + (runRow - 5);
        lastRow = inRow;
        runRow = 1;
      }
      if (inCol === lastCol) runCol++;
      else {
        if (runCol >= 5) n1 += 3 + (runCol - 5);
        lastCol = inCol;
        runCol = 1;
      }
      bitsRow = ((bitsRow << 1) & 0x7ff) | inRow;
      bitsCol = ((bitsCol << 1) & 0x7ff) | inCol;
      if (b >= 10) {
        if (bitsRow === 0x5d0 || bitsRow === 0x05d) n3++;
        if (bitsCol === 0x5d0 || bitsCol === 0x05d) n3++;
      }
    }
    if (runRow >= 5) n1 += 3 + (runRow - 5);
    if (runCol >= 5) n1 += 3 + (runCol - 5);
  }
  let n2 = 0;
  for (let r = 0; r < size - 1; r++) {
    for (let c = 0; c < size - 1; c++) {
      const i = r * size + c;
      const sum = m[i] + m[i + 1] + m[i + size] + m[i + size + 1];
      if (sum === 0 || sum === 4) n2++;
    }
  }
  let dark = 0;
  for (let i = 0; i < m.length; i++) dark += m[i];
  const n4 = Math.abs(Math.ceil((dark * 100) / m.length / 5) - 10);
  return n1 + 3 * n2 + 40 * n3 + 10 * n4;
}
