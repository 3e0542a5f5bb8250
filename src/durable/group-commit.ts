/**
 * Group commit: what is asked while one commit runs is committed together by the next,
 * so N concurrent callers cost one commit per window instead of N. Used for a volume's
 * synced catalog batches (src/volume/catalog.ts) and directory fsyncs
 * (src/volume/dir-syncs.ts), and for every batch of the master's LevelDB index
 * (src/master/index/level.ts).
 */

interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T> {
  private queued: Waiter<T>[] = [];
  private running = false;
  /** The last item's commit, failed or not: commits run in order, so every earlier one is done by then. */
  private last: Promise<unknown> = Promise.resolve();

  /** `commit` makes every item of one group durable, or throws for the whole group. */
  constructor(private readonly commit: (items: T[]) => Promise<void>) {}

  /**
   * Resolves once a commit that started after this call, and holds `item`, succeeded;
   * rejects with that commit's error.
   */
  add(item: T): Promise<void> {
    const added = new Promise<void>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (this.running) return;
      this.running = true;
      queueMicrotask(() => void this.drain()); // items added in the same tick share the first commit
    });
    this.last = added.catch(() => {});
    return added;
  }

  /** Resolves once every item added so far was committed or failed. */
  settled(): Promise<unknown> {
    return this.last;
  }

  /**
   * Rejects with `e` every item not yet in a commit: for a committer that learns the
   * next commit would fail as the last one did, slowly (a volume that stopped answering).
   */
  rejectQueued(e: unknown): void {
    const group = this.queued;
    this.queued = [];
    for (const w of group) w.reject(e);
  }

  /** Nothing queued, nothing committing. */
  get idle(): boolean {
    return !this.running;
  }

  private async drain(): Promise<void> {
    while (this.queued.length) {
      const group = this.queued;
      this.queued = [];
      try {
        await this.commit(group.map((w) => w.item));
        for (const w of group) w.resolve();
      } catch (e) {
        for (const w of group) w.reject(e);
      }
    }
    this.running = false;
  }
}
