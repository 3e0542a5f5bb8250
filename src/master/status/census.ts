/**
 * Counting the index for metrics and the status page: keys by state, replicas owed a
 * delete, operations in flight. A count is a scan, so it is kept and refreshed in the
 * background: a new scan starts when the last is older than MIN_AGE_MS and than ten
 * times its own length, so scanning takes at most a tenth of the master's time.
 */
import type { Index, State } from "../index/index.ts";

export interface Counts {
  keys: Record<State, number>;
  /** Replicas owed a delete (their volume was down). */
  orphans: number;
  /** Writes and deletes in flight, or left by a stop (a restart finishes them). */
  pending: number;
  /** When this count was taken (ms since the epoch) and how long it took. */
  at: number;
  tookMs: number;
}

const MIN_AGE_MS = 5000;

export class Census {
  private last?: Counts;
  private running?: Promise<Counts>;

  constructor(private readonly index: Index) {}

  /** The latest counts; the first call waits for a scan, later ones never do. */
  async counts(): Promise<Counts> {
    const age = this.last ? Date.now() - this.last.at : Infinity;
    if (!this.running && age > Math.max(MIN_AGE_MS, 10 * (this.last?.tookMs ?? 0))) {
      this.running = this.scan().finally(() => (this.running = undefined));
    }
    return this.last ?? (await this.running!);
  }

  private async scan(): Promise<Counts> {
    const t0 = Date.now();
    const keys: Record<State, number> = { writing: 0, live: 0, unlinked: 0, deleting: 0 };
    for await (const [, record] of this.index.scan()) keys[record.state]++;
    let orphans = 0;
    for await (const _ of this.index.orphans()) orphans++;
    const pending = keys.writing + keys.deleting; // operations in flight or interrupted
    this.last = { keys, orphans, pending, at: Date.now(), tookMs: Date.now() - t0 };
    return this.last;
  }
}
