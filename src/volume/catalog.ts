/**
 * A volume's own index of what it holds: key → size, md5, time, and the S3 fields the
 * master sent with the value (keys/fields.ts). rebuild and verify
 * read this (through /_kvdb/list) instead of walking millions of files. Small values
 * live here too: their bytes sit in the `inline` sublevel, written in the same batch
 * as their entry.
 *
 * Every change is durable before its promise resolves, and concurrent changes share one
 * synced batch (src/durable/group-commit.ts): while one batch syncs, the next one gathers.
 */
import { ClassicLevel } from "classic-level";
import type { ValueFields } from "../keys/fields.ts";
import { GroupCommit } from "../durable/group-commit.ts";
import { HeldByForm, type VolumeCounters } from "./counters.ts";
import { catalogSyncs } from "./fsync-stats.ts";

export interface Entry {
  size: number;
  md5: string;
  time: number;
  /** The bytes are in the catalog, not in a file (absent on file entries, as before inline values). */
  inline?: true;
  /** Content-Type, x-amz-meta-*, multipart ETag, when the master sent them (absent otherwise). */
  fields?: ValueFields;
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
  put(key: string, { size, md5, time, fields }: Omit<Entry, "inline">, bytes?: Uint8Array<ArrayBuffer>): Promise<void> {
    const entry: Entry = { size, md5, time, ...(bytes ? { inline: true as const } : {}), ...(fields ? { fields } : {}) };
    return this.committer.add(bytes ? { key, entry, bytes } : { key, entry });
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
    // A chained batch: each put goes straight to the native batch, where batch(array)
    // first copies and checks every operation in JavaScript (several times the CPU).
    const batch = this.db.batch();
    const seen = new Map<string, Entry | null>();
    const delta = new HeldByForm();
    for (const { key, entry, bytes } of changes) {
      const old = seen.has(key) ? seen.get(key)! : (this.db.getSync(key) ?? null);
      seen.set(key, entry);
      if (old) delta.count(old, -1);
      if (entry) {
        delta.count(entry, 1);
        batch.put(key, entry);
      } else if (old) {
        batch.del(key);
      }
      if (bytes) batch.put(key, bytes, { sublevel: this.inline });
      else if (old?.inline) batch.del(key, { sublevel: this.inline });
    }
    if (batch.length) {
      await this.counters.timed("catalog", () => batch.write({ sync: true }));
      catalogSyncs.inc();
    } else {
      await batch.close();
    }
    this.counters.held.add(delta);
  }
}
