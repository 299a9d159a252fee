// What the person watching sees as the demo goes: a bar on the long steps when stdout is a
// terminal, plain lines otherwise (CI logs, pipes, the test), so a log never fills with
// redraws.
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

export interface Progress {
  line(text: string): void;
  /** A step over `total` items; `tick()` after each, `done()` at the end. */
  step(title: string, total: number): { tick(): void; done(note?: string): void };
}

/** Without a terminal a long step still says how far it got, every this many percent. */
const plainProgressPercentStep = 25;

/** Elapsed time since `startedMs` as "12.3 s", in tenths, without floating-point formatting. */
export function elapsed(startedMs: number): string {
  const tenths = Math.round((Date.now() - startedMs) / 100);
  return `${Math.floor(tenths / 10)}.${tenths % 10} s`;
}

export function createProgress(out: Writable & { isTTY?: boolean }, opts: { tty?: boolean } = {}): Progress {
  const tty = opts.tty ?? !!out.isTTY;
  const line = (text: string) => out.write(`${text}\n`);
  return {
    line,
    step(title, total) {
      const started = Date.now();
      const secs = () => elapsed(started);
      if (tty && total > 0) {
        const bar = new cliProgress.SingleBar(
          { format: `  ${title.padEnd(34)} {bar} {value}/{total}`, stream: out as NodeJS.WritableStream, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
        return {
          tick: () => bar.increment(),
          done: (note) => {
            bar.stop();
            line(`  ${title}: ${total}/${total} in ${secs()}${note ? ` (${note})` : ''}`);
          },
        };
      }
      let count = 0;
      let nextReport = plainProgressPercentStep;
      return {
        tick: () => {
          count++;
          const pct = total ? Math.floor((count * 100) / total) : 100;
          if (pct >= nextReport && count < total) {
            line(`  ${title}: ${count}/${total}`);
            while (nextReport <= pct) nextReport += plainProgressPercentStep;
          }
        },
        done: (note) => line(`  ${title}: ${total}/${total} in ${secs()}${note ? ` (${note})` : ''}`),
      };
    },
  };
}
