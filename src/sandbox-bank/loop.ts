// A background loop of the sandbox bank (settling payments, pushing notifications): it runs
// its tick on an interval, can be woken early, never runs two ticks at once, and stops cleanly.
export abstract class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  protected stopped = false;
  /** Set while a tick runs to ask for another as soon as it ends. */
  protected again = false;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly logError: (message: string, e: unknown) => void,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Run a tick now (or after `delayMs`), or right after the one that is running. */
  protected wakeAfter(delayMs = 0): void {
    if (this.stopped) return;
    const wake = () => {
      if (this.running) this.again = true;
      else this.schedule(0);
    };
    if (delayMs === 0) return wake();
    setTimeout(wake, delayMs).unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  protected abstract tick(): Promise<void>;

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((e) => this.logError(`sandbox bank: ${this.what} loop failed`, e))
        .finally(() => {
          this.running = undefined;
          const more = this.again;
          this.again = false;
          this.schedule(more ? 0 : this.intervalMs);
        });
    }, delayMs);
    this.timer.unref?.();
  }
}
