// Voucher rendering and signing, beside references measured in the same run on the same bytes
// with the same key: `openssl cms -sign` and `openssl dgst -sha256 -sign` (each a process, so
// `openssl version` is timed too, to show what the process start alone costs), and Node's raw
// crypto.sign (SHA-256 + RSA over the whole file, the floor for any signer in this process).
//
//   npx tsx bench/voucher-sign.ts [vouchers=120] [opensslRuns=30]
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign as rsaSign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { devP12Password, ensureDevPki } from '../src/pki/devPki';
import { renderVoucher, voucherKinds } from '../src/vouchers/render';
import { signPdf } from '../src/vouchers/sign';
import { loadSigner } from '../src/vouchers/signer';
import { verifyPdf } from '../src/vouchers/verify';
import { sampleVoucher } from '../test/integration/vouchers/fixtures';

const vouchers = Number(process.argv[2] ?? 120);
const opensslRuns = Number(process.argv[3] ?? 30);
const warmup = 6;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function row(name: string, samples: number[]): string {
  const f = (n: number) => n.toFixed(2).padStart(8);
  return `${name.padEnd(46)} ${f(percentile(samples, 50))} ${f(percentile(samples, 95))} ${String(samples.length).padStart(6)}`;
}

function timeMs(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bidbond-bench-vouchers-'));
  try {
    const pki = ensureDevPki(path.join(dir, 'pki'));
    const signer = loadSigner({ p12Path: pki.serviceP12, password: devP12Password });
    const key = createPrivateKey(signer.keyPem);
    const rootPem = signer.chainPems[signer.chainPems.length - 1];

    const render: number[] = [];
    const sign: number[] = [];
    const verify: number[] = [];
    const nodeRaw: number[] = [];
    const unsignedSamples: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < vouchers + warmup; i++) {
      const kind = voucherKinds[i % voucherKinds.length];
      const input = sampleVoucher(kind, { seq: i, extreme: false });
      let t = performance.now();
      const unsigned = await renderVoucher(input);
      const renderMs = performance.now() - t;
      t = performance.now();
      const signed = await signPdf(unsigned, signer, { signedAt: new Date(), reason: 'bench' });
      const signMs = performance.now() - t;
      const verifyMs = timeMs(() => {
        if (!verifyPdf(signed, [rootPem]).valid) throw new Error('bench produced an invalid voucher');
      });
      const rawMs = timeMs(() => rsaSign('sha256', unsigned, key));
      if (i < warmup) continue;
      render.push(renderMs);
      sign.push(signMs);
      verify.push(verifyMs);
      nodeRaw.push(rawMs);
      bytes += signed.length;
      if (unsignedSamples.length < opensslRuns) unsignedSamples.push(unsigned);
    }

    const cms: number[] = [];
    const dgst: number[] = [];
    const start: number[] = [];
    const chain = path.join(dir, 'chain.pem');
    writeFileSync(chain, signer.chainPems.join(''));
    for (const [i, unsigned] of unsignedSamples.entries()) {
      const file = path.join(dir, `v${i}.pdf`);
      writeFileSync(file, unsigned);
      start.push(timeMs(() => execFileSync('openssl', ['version'])));
      cms.push(
        timeMs(() =>
          execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', file, '-signer', pki.serviceCert, '-inkey', pki.serviceKey, '-certfile', chain, '-outform', 'DER', '-out', `${file}.p7s`]),
        ),
      );
      dgst.push(timeMs(() => execFileSync('openssl', ['dgst', '-sha256', '-sign', pki.serviceKey, '-out', `${file}.sig`, file])));
    }

    console.log(`bidbond voucher bench: ${vouchers} vouchers (kinds in rotation, ${warmup} warm-up not counted), mean signed size ${Math.round(bytes / vouchers / 1024)} KB, RSA-2048, node ${process.version}`);
    console.log(`${'per voucher, ms'.padEnd(46)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'n'.padStart(6)}`);
    console.log(row('renderVoucher (pdf-lib + Noto Sans SC subset)', render));
    console.log(row('signPdf (placeholder, appearance, CMS, RSA)', sign));
    console.log(row('verifyPdf', verify));
    console.log('reference, same bytes and key:');
    console.log(row('  node crypto.sign sha256 over the whole file', nodeRaw));
    console.log(row('  openssl cms -sign (process)', cms));
    console.log(row('  openssl dgst -sha256 -sign (process)', dgst));
    console.log(row('  openssl version (process start only)', start));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
