// `npm run bench`: every workload, one after the other (each in its own process so that one's
// heap and connections never weigh on the next), then one table of all of them.
//
//   npm run bench [-- --scale 2]     sizes multiplied by the scale (how the cost grows)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchRowsFileEnv, formatTable, type BenchRow } from './table';

/** Each benchmark and its arguments at scale 1. */
const workloads: { file: string; args: (scale: number) => string[] }[] = [
  { file: 'notifications.ts', args: (s) => [String(3000 * s), '8'] },
  { file: 'issuance.ts', args: (s) => [String(2000 * s), '8'] },
  { file: 'notification-batch.ts', args: (s) => [String(10_000 * s)] },
  { file: 'opening.ts', args: (s) => [String(5000 * s)] },
  { file: 'statement-parse.ts', args: (s) => [String(100_000 * s)] },
  { file: 'voucher-sign.ts', args: (s) => [String(200 * s), String(5000 * s)] },
  { file: 'refunds.ts', args: (s) => [String(10_000 * s)] },
];

function main(): void {
  const scaleArg = process.argv.indexOf('--scale');
  const scale = scaleArg >= 0 ? Number(process.argv[scaleArg + 1]) : 1;
  if (!(scale > 0)) throw new Error('--scale takes a positive number');
  const rowsDir = mkdtempSync(path.join(os.tmpdir(), 'bb-bench-rows-'));
  const rowsFile = path.join(rowsDir, 'rows.jsonl');
  const failed: string[] = [];
  for (const w of workloads) {
    const file = path.join(__dirname, w.file);
    if (!existsSync(file)) continue;
    console.log(`\n=== ${w.file} ${w.args(scale).join(' ')}`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', file, ...w.args(scale)], { stdio: 'inherit', env: { ...process.env, [benchRowsFileEnv]: rowsFile } });
    if (run.status !== 0) failed.push(w.file);
  }
  const rows: BenchRow[] = existsSync(rowsFile) ? readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  rmSync(rowsDir, { recursive: true, force: true });
  console.log(`\nAll workloads (scale ${scale}):\n${formatTable(rows)}`);
  if (failed.length) {
    console.log(`benchmarks that did not finish: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main();
