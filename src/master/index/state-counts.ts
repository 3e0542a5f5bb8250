/**
 * How many records the LevelDB index (level.ts) holds in each state, kept in memory
 * and moved by each verb once its batch is written, so that the status page and the
 * metrics cost nothing per key.
 *
 * Why in memory and not a record in every batch: batches are written from the thread
 * pool and concurrent ones may reach LevelDB in another order than they were built, so
 * a counts record written in each could end older than the last change. Instead the
 * counts are saved once, at a clean close, and that saved copy is deleted (durably) as
 * the index opens: found at open, it is exact; missing (the master was killed, or the
 * index was written by a kvdb from before counts), the keys are counted once, before
 * the index serves anything.
 */
import type { State } from "./index.ts";

export type StateCounts = Record<State, number>;

export const noCounts = (): StateCounts => ({ writing: 0, live: 0, unlinked: 0, deleting: 0 });

/** The parts of a classic-level sublevel (JSON values) the saved copy uses. */
interface MetaSublevel {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown, o: { sync: boolean }): Promise<void>;
  del(key: string, o: { sync: boolean }): Promise<void>;
}

const SAVED = "counts";

export class Counter {
  private counts = noCounts();

  /** The saved counts if a clean close left them (deleting them), else `recount()`'s. */
  async load(meta: MetaSublevel, recount: () => AsyncIterable<State>): Promise<"saved" | "counted"> {
    const saved = (await meta.get(SAVED)) as StateCounts | undefined;
    if (saved) {
      this.counts = { ...noCounts(), ...saved };
      await meta.del(SAVED, { sync: true });
      return "saved";
    }
    this.counts = noCounts();
    for await (const state of recount()) this.counts[state]++;
    return "counted";
  }

  save(meta: MetaSublevel): Promise<void> {
    return meta.put(SAVED, this.counts, { sync: true });
  }

  /** A record went from `from` to `to` (undefined: absent). */
  move(from: State | undefined, to: State | undefined): void {
    if (from) this.counts[from]--;
    if (to) this.counts[to]++;
  }

  reset(): void {
    this.counts = noCounts();
  }

  get(): StateCounts {
    return { ...this.counts };
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}
