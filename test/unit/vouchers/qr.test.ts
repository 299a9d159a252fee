// The voucher's QR code: the mask chosen by our penalty evaluation must be the one the qrcode
// package chooses itself, module for module, and the symbol must carry the text.
import { createHash } from 'node:crypto';
import QRCode from 'qrcode';
import { qrSymbol } from '../../../src/vouchers/qr';

const url = (voucherId: string, sha: string, base = 'https://bidbond.example.cn') => `${base}/v1/vouchers/verify?voucher=${voucherId}&sha256=${sha}`;

test('the symbol and its mask equal what qrcode builds when it chooses the mask itself, across lengths and versions', () => {
  let n = 0;
  const hex = () => createHash('sha256').update(String(n++)).digest('hex');
  const seen = new Set<number>();
  const versions = new Set<number>();
  for (let i = 0; i < 300; i++) {
    const text =
      i % 2 === 0
        ? url(`vch_${hex().slice(0, 4 + (i % 40))}`, hex(), `https://${'b'.repeat(i % 90)}.example.cn`)
        : Buffer.from(hex() + hex() + hex(), 'hex').toString('base64url').slice(0, 10 + (i % 120));
    const ours = qrSymbol(text);
    const theirs = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], { errorCorrectionLevel: 'M' });
    expect(ours.maskPattern).toBe(theirs.maskPattern);
    expect(ours.size).toBe(theirs.modules.size);
    expect(Buffer.from(ours.modules).equals(Buffer.from(theirs.modules.data))).toBe(true);
    seen.add(ours.maskPattern);
    versions.add(theirs.version);
  }
  // The comparison means something only if it covered several masks and versions.
  expect(seen.size).toBeGreaterThanOrEqual(6);
  expect(versions.size).toBeGreaterThanOrEqual(3);
});
