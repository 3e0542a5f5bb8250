/**
 * A volume's own index of what it holds: key → size, md5, time. rebuild and verify
 * read this instead of walking millions of files.
 */
import { ClassicLevel } from "classic-level";

export interface Entry {
  size: number;
  md5: string;
  time: number;
}

export class Catalog {
  readonly db: ClassicLevel<string, Entry>;
  /** How many keys this volume holds; counted once at open, then kept up to date. */
  count = 0;
  /** Bytes of the values this volume holds; counted once at open, then kept up to date. */
  bytes = 0;

  constructor(dir: string) {
    this.db = new ClassicLevel<string, Entry>(dir, { valueEncoding: "json" });
  }

  async open(): Promise<void> {
    await this.db.open();
    for await (const [, e] of this.db.iterator()) {
      this.count++;
      this.bytes += e.size;
    }
  }

  /** Synchronous: every GET asks, and a cached LevelDB read beats a thread-pool round trip. */
  get(key: string): Entry | undefined {
    return this.db.getSync(key);
  }

  async put(key: string, entry: Entry): Promise<void> {
    const had = this.db.getSync(key); // in LevelDB's cache: cheaper than a trip to the thread pool
    await this.db.put(key, entry, { sync: true });
    if (!had) this.count++;
    this.bytes += entry.size - (had?.size ?? 0);
  }

  /** Forgets a key; false if it was not here. */
  async del(key: string): Promise<boolean> {
    const had = this.db.getSync(key); // in LevelDB's cache: cheaper than a trip to the thread pool
    if (!had) return false;
    await this.db.del(key, { sync: true });
    this.count--;
    this.bytes -= had.size;
    return true;
  }

  /** Every entry in key order, streamed. */
  entries(): AsyncIterable<[string, Entry]> {
    return this.db.iterator();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
