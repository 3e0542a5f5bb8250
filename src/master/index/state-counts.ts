/**
 * How many records the LevelDB index (level.ts) holds in each state, kept in memory
 * and moved by each verb once its batch is written, so that the status page and the
 * metrics cost nothing per key.
 *
 * Why in memory and not a record in every batch: batches are written from the thread
 * pool and concurrent ones may reach LevelDB in another order than they were built, so
 * a counts record written in each could end older than the last change. Instead the
 * counts are saved once, at a clean close, and that saved copy is deleted (durably) as
 * the index opens: found at open, it is exact. Missing (the master was killed, or the
 * index was written by a kvdb from before counts), the records are counted in the
 * background from a snapshot taken as the index opens, before any change: the changes
 * made meanwhile are kept apart and added when the count is done, so the master serves
 * at once and the counts are exact when they come (a scan of 1 M records took 5 s:
 * docs/PERFORMANCE.md, "Index size"); until then, asking for them waits.
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
  /** The counts, or while a recount runs, the changes made since its snapshot. */
  private counts = noCounts();
  /** Resolves once the counts are whole (a recount done). */
  private ready: Promise<void> = Promise.resolve();
  private whole = true;
  /** Bumped by reset(): a recount started before it adds nothing. */
  private generation = 0;

  /**
   * The saved counts if a clean close left them (deleting them), else a recount of what
   * `snapshot` yields: it must read a snapshot taken before it returns, before any change.
   */
  async load(meta: MetaSublevel, snapshot: () => AsyncIterable<State>): Promise<"saved" | "counting"> {
    const saved = (await meta.get(SAVED)) as StateCounts | undefined;
    if (saved) {
      this.counts = { ...noCounts(), ...saved };
      await meta.del(SAVED, { sync: true });
      return "saved";
    }
    this.counts = noCounts();
    this.whole = false;
    const generation = this.generation;
    const states = snapshot();
    this.ready = (async () => {
      const found = noCounts();
      for await (const state of states) found[state]++;
      if (generation !== this.generation) return;
      for (const state of Object.keys(found) as State[]) this.counts[state] += found[state];
      this.whole = true;
    })();
    this.ready.catch(() => {}); // the error reaches whoever asks for the counts
    return "counting";
  }

  /** Saves the counts if they are whole (else the next open counts again). */
  async save(meta: MetaSublevel): Promise<void> {
    if (this.whole) await meta.put(SAVED, this.counts, { sync: true });
  }

  /** A record went from `from` to `to` (undefined: absent). */
  move(from: State | undefined, to: State | undefined): void {
    if (from) this.counts[from]--;
    if (to) this.counts[to]++;
  }

  /** No records (a rebuild cleared them): a recount still running is dropped. */
  reset(): void {
    this.generation++;
    this.counts = noCounts();
    this.whole = true;
    this.ready = Promise.resolve();
  }

  async get(): Promise<StateCounts> {
    await this.ready;
    return { ...this.counts };
  }

  async total(): Promise<number> {
    return Object.values(await this.get()).reduce((a, b) => a + b, 0);
  }
}
