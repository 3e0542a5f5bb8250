/**
 * A volume's own index of what it holds: key → size, md5, time. rebuild and verify
 * read this (through /_kvdb/list) instead of walking millions of files. Small values
 * live here too: their bytes sit in the `inline` sublevel, written in the same batch
 * as their entry.
 *
 * Every change is durable before its promise resolves, and concurrent changes share one
 * synced batch (src/durable/group-commit.ts): while one batch syncs, the next one gathers.
 */
import { ClassicLevel } from "classic-level";
import type { AbstractBatchOperation } from "abstract-level";
import { GroupCommit } from "../durable/group-commit.ts";
import { Held, type VolumeCounters } from "./counters.ts";
import { catalogSyncs } from "./fsync-stats.ts";

export interface Entry {
  size: number;
  md5: string;
  time: number;
  /** The bytes are in the catalog, not in a file (absent on file entries, as before inline values). */
  inline?: true;
}

/** A new entry (with its bytes if inline), or `entry: null` to forget the key. */
interface Change {
  key: string;
  entry: Entry | null;
  bytes?: Uint8Array<ArrayBuffer>;
}

/**
 * Keys all begin with "/" (keys.ts), so entries are the range ["/", "0"); the inline
 * sublevel's prefix "!inline!" sorts before it.
 */
const ENTRIES = { gte: "/", lt: "0" };

export class Catalog {
  readonly db: ClassicLevel<string, Entry>;
  private readonly inline;
  private readonly committer = new GroupCommit<Change>((changes) => this.commit(changes));

  constructor(
    dir: string,
    private readonly counters: VolumeCounters,
  ) {
    this.db = new ClassicLevel<string, Entry>(dir, { valueEncoding: "json" });
    this.inline = this.db.sublevel<string, Uint8Array<ArrayBuffer>>("inline", { valueEncoding: "view" });
  }

  async open(): Promise<void> {
    await this.db.open();
    for await (const e of this.db.values(ENTRIES)) this.counters.held.count(e, 1);
  }

  /** How many keys this volume holds. */
  get count(): number {
    return this.counters.held.blobs;
  }

  /** Bytes of the values this volume holds. */
  get bytes(): number {
    return this.counters.held.bytes;
  }

  /** Synchronous: every GET asks, and a cached LevelDB read beats a thread-pool round trip. */
  get(key: string): Entry | undefined {
    return this.db.getSync(key);
  }

  /** The bytes of an inline value. */
  bytesOf(key: string): Uint8Array<ArrayBuffer> | undefined {
    return this.inline.getSync(key);
  }

  /** Records `key`, durably: inline with `bytes`, else as a file (any inline bytes go). */
  put(key: string, { size, md5, time }: Omit<Entry, "inline">, bytes?: Uint8Array<ArrayBuffer>): Promise<void> {
    return this.committer.add(bytes ? { key, entry: { size, md5, time, inline: true }, bytes } : { key, entry: { size, md5, time } });
  }

  /**
   * Records many new keys in one synced batch, as put() records them (inline with
   * bytes): for filling a fresh catalog offline (bench/scale-fill.ts), before a volume
   * opens it. A chained batch costs ~5× less CPU per entry than batch(array). Neither the
   * counts nor the keys' old entries are looked at: a volume counts its catalog when it opens.
   */
  async load(items: Iterable<{ key: string; entry: Omit<Entry, "inline">; bytes?: Uint8Array<ArrayBuffer> }>): Promise<void> {
    const batch = this.db.batch();
    for (const { key, entry, bytes } of items) {
      batch.put(key, bytes ? { ...entry, inline: true } : entry);
      if (bytes) batch.put(key, bytes, { sublevel: this.inline });
    }
    await batch.write({ sync: true });
  }

  /** Forgets a key (and its inline bytes), durably. */
  del(key: string): Promise<void> {
    return this.committer.add({ key, entry: null });
  }

  /** Every entry in key order, streamed. */
  entries(): AsyncIterable<[string, Entry]> {
    return this.db.iterator(ENTRIES);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /**
   * One synced batch for a group of changes, applied in order (a key may change twice).
   * The counts move only once the batch is durable: a failed batch leaves them right.
   */
  private async commit(changes: Change[]): Promise<void> {
    const ops: AbstractBatchOperation<typeof this.db, string, Entry | Uint8Array>[] = [];
    const seen = new Map<string, Entry | null>();
    const delta = new Held();
    for (const { key, entry, bytes } of changes) {
      const old = seen.has(key) ? seen.get(key)! : (this.db.getSync(key) ?? null);
      seen.set(key, entry);
      if (old) delta.count(old, -1);
      if (entry) {
        delta.count(entry, 1);
        ops.push({ type: "put", key, value: entry });
      } else if (old) {
        ops.push({ type: "del", key });
      }
      if (bytes) ops.push({ type: "put", key, value: bytes, sublevel: this.inline });
      else if (old?.inline) ops.push({ type: "del", key, sublevel: this.inline });
    }
    if (ops.length) {
      await this.counters.timed("catalog", () => this.db.batch(ops, { sync: true }));
      catalogSyncs.inc();
    }
    this.counters.held.add(delta);
  }
}
