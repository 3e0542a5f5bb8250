/**
 * A figure that costs a scan to compute (PostgreSQL's keys by state, the orphans),
 * kept and refreshed in the background: a new computation starts when the last is
 * older than MIN_AGE_MS and than ten times its own length, so computing takes at most
 * a tenth of the time. The first call waits for it; later ones never do.
 */
const MIN_AGE_MS = 5000;

export class Refreshed<T> {
  private last?: { value: T; at: number; tookMs: number };
  private running?: Promise<T>;

  constructor(private readonly compute: () => Promise<T>) {}

  async get(): Promise<T> {
    const age = this.last ? Date.now() - this.last.at : Infinity;
    if (!this.running && age > Math.max(MIN_AGE_MS, 10 * (this.last?.tookMs ?? 0))) {
      this.running = this.refresh().finally(() => (this.running = undefined));
      // A refresh nobody waits for (the last figure is served) must not fail unobserved:
      // that would be an unhandled rejection; the next call tries again.
      if (this.last) this.running.catch(() => {});
    }
    return this.last?.value ?? (await this.running!);
  }

  /** When the figure was computed (ms since the epoch) and how long it took. */
  get taken(): { at: number; tookMs: number } | undefined {
    return this.last && { at: this.last.at, tookMs: this.last.tookMs };
  }

  private async refresh(): Promise<T> {
    const t0 = Date.now();
    const value = await this.compute();
    this.last = { value, at: Date.now(), tookMs: Date.now() - t0 };
    return value;
  }
}
