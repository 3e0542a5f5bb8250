/**
 * Counting the index for metrics and the status page: keys by state, replicas owed a
 * delete, operations in flight. Keys by state come from the index's own counts
 * (Index.counts: LevelDB keeps them in memory, PostgreSQL refreshes a count in the
 * background), so nothing here reads a record. Orphans are few (replicas waiting for a
 * volume to come back) and are counted by a scan, kept and refreshed in the background
 * (index/refreshed.ts).
 */
import type { Index, State } from "../index/index.ts";
import { Refreshed } from "../index/refreshed.ts";

export interface Counts {
  keys: Record<State, number>;
  /** Replicas owed a delete (their volume was down). */
  orphans: number;
  /** Writes and deletes in flight, or left by a stop (a restart finishes them). */
  pending: number;
  /** When the orphans were counted (ms since the epoch) and how long it took. */
  at: number;
  tookMs: number;
}

export class Census {
  private readonly orphans: Refreshed<number>;

  constructor(private readonly index: Index) {
    this.orphans = new Refreshed(async () => {
      let n = 0;
      for await (const _ of index.orphans()) n++;
      return n;
    });
  }

  /** The latest counts; the first call waits for the orphans' scan, later ones never do. */
  async counts(): Promise<Counts> {
    const [keys, orphans] = await Promise.all([this.index.counts(), this.orphans.get()]);
    const pending = keys.writing + keys.deleting; // operations in flight or interrupted
    const taken = this.orphans.taken ?? { at: Date.now(), tookMs: 0 };
    return { keys, orphans, pending, ...taken };
  }
}
