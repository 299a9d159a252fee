// The one table every benchmark ends with: each workload beside its reference from the same run,
// the goal, and whether it was met. `bench/run.ts` collects the rows of every workload.

export interface BenchRow {
  workload: string;
  /** What bidbond did, in the workload's own unit ("812/s", "0.61 s", "9.8 ms p50"). */
  ours: string;
  /** The reference measured in the same run, or "—" where there is none. */
  reference: string;
  /** ours relative to the reference ("48% of floor", "4.1×"), or "—". */
  ratio: string;
  goal: string;
  met: boolean;
}

/** Written by a benchmark run as a child of bench/run.ts: the rows go back through this file. */
export const benchRowsFileEnv = 'BIDBOND_BENCH_ROWS_FILE';

export function formatTable(rows: BenchRow[]): string {
  const head = ['workload', 'ours', 'reference', 'ratio', 'goal', 'met'];
  const cells = rows.map((r) => [r.workload, r.ours, r.reference, r.ratio, r.goal, r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.map(line)].join('\n');
}

/** Prints a benchmark's rows and, when run by bench/run.ts, hands them to it. */
export function reportRows(rows: BenchRow[]): void {
  console.log(`\n${formatTable(rows)}`);
  const file = process.env[benchRowsFileEnv];
  if (file) {
    // Appended as JSON lines: each benchmark is its own process, run one after the other.
    require('node:fs').appendFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
}
