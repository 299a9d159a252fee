// Outside tools the vouchers are checked with: poppler (pdfsig, pdftotext, pdftoppm), OpenSSL and
// NSS's certutil. Independent implementations are the point: our own verifier agreeing with
// itself would prove little.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[]): Promise<RunResult & { stdoutBytes: Buffer }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr: stderr.toString('utf8') });
    });
  });
}

export function tempDir(prefix: string): { dir: string; file: (name: string, bytes?: Uint8Array | string) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    file: (name, bytes) => {
      const p = path.join(dir, name);
      if (bytes !== undefined) writeFileSync(p, bytes);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A throwaway NSS database trusting `rootPem`, for `pdfsig -nssdir`. */
export async function nssDbTrusting(dir: string, rootPath: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const db = `sql:${dir}`;
  const init = await run('certutil', ['-N', '-d', db, '--empty-password']);
  if (init.code !== 0) throw new Error(`certutil -N failed: ${init.stderr}`);
  const add = await run('certutil', ['-A', '-d', db, '-n', 'bidbond-test-root', '-t', 'CT,C,C', '-i', rootPath]);
  if (add.code !== 0) throw new Error(`certutil -A failed: ${add.stderr}`);
  return db;
}

/** The signed bytes and the DER signature, as a verifier independent of ours would cut them. */
export function splitSignedPdf(pdf: Uint8Array): { covered: Buffer; signatureDer: Buffer; byteRange: number[] } {
  const buf = Buffer.from(pdf);
  const matches = [...buf.toString('latin1').matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  if (matches.length === 0) throw new Error('no ByteRange');
  const byteRange = matches[matches.length - 1].slice(1, 5).map(Number);
  const [a, b, c, d] = byteRange;
  const covered = Buffer.concat([buf.subarray(a, a + b), buf.subarray(c, c + d)]);
  const padded = Buffer.from(buf.subarray(b + 1, c - 1).toString('latin1'), 'hex');
  // The placeholder is zero-padded after the DER; cut at the outer SEQUENCE's length.
  let length: number;
  let header: number;
  if (padded[1] < 0x80) {
    length = padded[1];
    header = 2;
  } else {
    const n = padded[1] & 0x7f;
    length = padded.subarray(2, 2 + n).reduce((acc, byte) => acc * 256 + byte, 0);
    header = 2 + n;
  }
  return { covered, signatureDer: padded.subarray(0, header + length), byteRange };
}
