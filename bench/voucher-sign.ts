// Voucher rendering and signing, beside a reference measured in the same run on the same vouchers
// with the same key: @signpdf (signpdf, signer-p12, placeholder-pdf-lib), the usual way to sign a
// PDF in Node, signing the same voucher rendered without a signature, with a PKCS#12 of the same
// key and chain built here with node-forge. Node's raw crypto.sign over the whole file is printed
// too: the floor for any signer in this process. Then the largest voucher, the opening roster of
// a section with N bidders, rendered and signed as its job does.
//
//   npx tsx bench/voucher-sign.ts [vouchers=120] [rosterBidders=5000]
import { createPrivateKey, sign as rsaSign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';
import forge from 'node-forge';
import { PDFDocument } from 'pdf-lib';
import { devP12Password, ensureDevPki } from '../src/pki/devPki';
import { renderSealedVoucher, renderVoucher, voucherKinds } from '../src/vouchers/render';
import { sealFor, signSealedVoucher } from '../src/vouchers/sign';
import { loadSigner, type Signer } from '../src/vouchers/signer';
import { verifyPdf } from '../src/vouchers/verify';
import { rosterVoucher, sampleVoucher } from '../test/integration/vouchers/fixtures';
import { reportRows, type BenchRow } from './table';

const vouchers = Number(process.argv[2] ?? 120);
const rosterBidders = Number(process.argv[3] ?? 5000);
const warmup = 8;
const renderSignGoalMs = 12;
const speedupGoal = 2.5;
const rosterGoalSeconds = 5;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function line(name: string, samples: number[]): string {
  const f = (n: number) => n.toFixed(2).padStart(8);
  return `${name.padEnd(58)} ${f(percentile(samples, 50))} ${f(percentile(samples, 95))} ${String(samples.length).padStart(6)}`;
}

/** The same key and chain as a PKCS#12 (legacy 3DES, which node-forge reads), for @signpdf. */
function p12Of(signer: Signer, password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(signer.keyPem);
  const certs = [signer.certPem, ...signer.chainPems].map((pem) => forge.pki.certificateFromPem(pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** What signing the voucher takes with @signpdf: load it, add its placeholder, save, sign. */
async function signWithSignpdf(unsigned: Uint8Array, p12: Buffer, signedAt: Date): Promise<Buffer> {
  const doc = await PDFDocument.load(unsigned, { updateMetadata: false });
  pdflibAddPlaceholder({ pdfDoc: doc, reason: 'bench', contactInfo: '', name: 'bidbond', location: '', signingTime: signedAt });
  const prepared = await doc.save({ useObjectStreams: false });
  // A P12Signer reads its key from a buffer it consumes: one per signature.
  return new SignPdf().sign(Buffer.from(prepared), new P12Signer(p12, { passphrase: 'bench' }), signedAt);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bidbond-bench-vouchers-'));
  try {
    const pki = ensureDevPki(path.join(dir, 'pki'));
    const signer = loadSigner({ p12Path: pki.serviceP12, password: devP12Password });
    const key = createPrivateKey(signer.keyPem);
    const rootPem = signer.chainPems[signer.chainPems.length - 1];
    const p12 = p12Of(signer, 'bench');

    const render: number[] = [];
    const sign: number[] = [];
    const renderSign: number[] = [];
    const renderSignCpu: number[] = [];
    const verify: number[] = [];
    const signpdf: number[] = [];
    const nodeRaw: number[] = [];
    let bytes = 0;
    for (let i = 0; i < vouchers + warmup; i++) {
      const kind = voucherKinds[i % voucherKinds.length];
      const input = sampleVoucher(kind, { seq: i, extreme: false });
      const signedAt = new Date();

      const cpu = process.cpuUsage();
      let t = performance.now();
      const sealed = renderSealedVoucher(input, sealFor(signer, { signedAt, reason: 'bench' }));
      const renderMs = performance.now() - t;
      t = performance.now();
      const signed = signSealedVoucher(sealed, signer);
      const signMs = performance.now() - t;
      const cpuUsed = process.cpuUsage(cpu);
      t = performance.now();
      const check = verifyPdf(signed, [rootPem]);
      const verifyMs = performance.now() - t;
      if (!check.valid) throw new Error(`bench produced an invalid voucher: ${check.reason}`);

      // The reference signs the same voucher, rendered without its signature.
      const unsigned = await renderVoucher(input);
      t = performance.now();
      const theirs = await signWithSignpdf(unsigned, p12, signedAt);
      const signpdfMs = performance.now() - t;
      if (i === 0 && !verifyPdf(theirs, [rootPem]).valid) throw new Error('@signpdf produced a voucher verifyPdf rejects');
      t = performance.now();
      rsaSign('sha256', unsigned, key);
      const rawMs = performance.now() - t;

      if (i < warmup) continue;
      render.push(renderMs);
      sign.push(signMs);
      renderSign.push(renderMs + signMs);
      renderSignCpu.push((cpuUsed.user + cpuUsed.system) / 1000);
      verify.push(verifyMs);
      signpdf.push(signpdfMs);
      nodeRaw.push(rawMs);
      bytes += signed.length;
    }

    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
    console.log(`bidbond voucher bench: ${vouchers} vouchers (${voucherKinds.length} kinds in rotation, ${warmup} warm-up not counted), mean signed size ${Math.round(bytes / vouchers / 1024)} KB, RSA-2048, node ${process.version}`);
    console.log(`${'per voucher, ms'.padEnd(58)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'n'.padStart(6)}`);
    console.log(line('render (sealed: stamp and signature placeholder in place)', render));
    console.log(line('sign (digest around the placeholder, CMS, RSA)', sign));
    console.log(line('render + sign', renderSign));
    // On a shared machine the wall clock counts time spent waiting for a core; CPU time does not.
    console.log(line('render + sign, CPU time of this process', renderSignCpu));
    console.log(line('verifyPdf', verify));
    console.log('reference, same vouchers and key:');
    console.log(line('  @signpdf: load, add placeholder, save, sign (P12)', signpdf));
    console.log(line('  node crypto.sign sha256 over the whole file', nodeRaw));

    // The roster: one voucher, rendered and signed as its job does, after the process is warm.
    const roster = rosterVoucher(rosterBidders);
    let t = performance.now();
    const sealedRoster = renderSealedVoucher(roster, sealFor(signer, { signedAt: new Date(), reason: 'bench' }));
    const rosterRenderMs = performance.now() - t;
    t = performance.now();
    const signedRoster = signSealedVoucher(sealedRoster, signer);
    const rosterSignMs = performance.now() - t;
    if (!verifyPdf(signedRoster, [rootPem]).valid) throw new Error('bench produced an invalid roster voucher');
    const pages = signedRoster.toString('latin1').match(/\/Type \/Page /g)?.length ?? 0;
    const rosterSeconds = (rosterRenderMs + rosterSignMs) / 1000;
    console.log(
      `opening roster of ${rosterBidders} bidders: ${rosterSeconds.toFixed(2)} s (render ${rosterRenderMs.toFixed(0)} ms, sign ${rosterSignMs.toFixed(1)} ms), ` +
        `${pages} pages, ${(signedRoster.length / 1024 / 1024).toFixed(2)} MiB; ${(rosterRenderMs / rosterBidders).toFixed(3)} ms a row, ${(rosterRenderMs / pages).toFixed(2)} ms a page`,
    );

    const ours = percentile(renderSign, 50);
    const speedup = percentile(signpdf, 50) / percentile(sign, 50);
    const rows: BenchRow[] = [
      {
        workload: 'voucher render + sign',
        ours: `${ours.toFixed(1)} ms p50`,
        reference: `@signpdf sign ${percentile(signpdf, 50).toFixed(1)} ms p50`,
        ratio: `${speedup.toFixed(1)}×`,
        goal: `≤ ${renderSignGoalMs} ms render included, ≥ ${speedupGoal}× faster than @signpdf`,
        met: ours <= renderSignGoalMs && speedup >= speedupGoal,
      },
      {
        workload: `opening roster voucher of ${rosterBidders} bidders (render + sign)`,
        ours: `${rosterSeconds.toFixed(2)} s`,
        reference: '—',
        ratio: '—',
        goal: `≤ ${rosterGoalSeconds} s`,
        met: rosterSeconds <= rosterGoalSeconds,
      },
    ];
    reportRows(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
