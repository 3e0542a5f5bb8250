/**
 * Counting the index for metrics and the status page: keys by state, replicas owed a
 * delete, keys owed replicas, operations in flight. Keys by state come from the index's own counts
 * (Index.counts: LevelDB keeps them in memory, PostgreSQL refreshes a count in the
 * background), so nothing here reads a record. Orphans are few (replicas waiting for a
 * volume to come back), and so are keys owed replicas (written with --min-replicas while
 * a volume was down, until the janitor copies them): both are counted by a scan, kept
 * and refreshed in the background (index/refreshed.ts).
 */
import type { Index, State } from "../index/index.ts";
import { Refreshed } from "../index/refreshed.ts";

export interface Counts {
  keys: Record<State, number>;
  /** Replicas owed a delete (their volume was down). */
  orphans: number;
  /** Keys owed replicas (KeyRecord.owed): fewer than --replicas exist. */
  underReplicated: number;
  /** Writes and deletes in flight, or left by a stop (a restart finishes them). */
  pending: number;
  /** When the orphans were counted (ms since the epoch) and how long it took. */
  at: number;
  tookMs: number;
}

export class Census {
  private readonly orphans: Refreshed<number>;
  private readonly underReplicated: Refreshed<number>;

  constructor(private readonly index: Index) {
    this.orphans = new Refreshed(() => counted(index.orphans()));
    this.underReplicated = new Refreshed(() => counted(index.underReplicated()));
  }

  /** The latest counts; the first call waits for the orphans' scan, later ones never do. */
  async counts(): Promise<Counts> {
    const [keys, orphans, underReplicated] = await Promise.all([this.index.counts(), this.orphans.get(), this.underReplicated.get()]);
    const pending = keys.writing + keys.deleting; // operations in flight or interrupted
    const taken = this.orphans.taken ?? { at: Date.now(), tookMs: 0 };
    return { keys, orphans, underReplicated, pending, ...taken };
  }
}

async function counted(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}
