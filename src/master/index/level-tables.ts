/**
 * The index's small tables (tables.ts: S3's buckets and uploads) in LevelDB (level.ts):
 * one sublevel per table, id → JSON, written through the index's one group committer
 * so they keep its call order.
 *
 * An S3 object's bucket against its deletion: one process owns a LevelDB, so marking an
 * entry closing (a replace within it is refused from then on) and waiting for the
 * replaces already past that check makes deleteIfNoKeys one step. PostgreSQL does the
 * same with row locks (pg-tables.ts).
 */
import type { ClassicLevel } from "classic-level";
import type { GroupCommit } from "../../durable/group-commit.ts";
import { entryGone, type Table, type Tables, type Within } from "./tables.ts";
import type { Batch } from "./level-rebuild.ts";

/** One verb's change: what it adds to a batch, and whether it must be durable before it resolves. */
export interface Change {
  build: (b: Batch) => Batch;
  sync: boolean;
}

interface Sublevel<V> {
  iterator(o: { gte: string }): { next(): Promise<[string, V] | undefined>; close(): Promise<void> };
}

/** A sublevel's entries in key order from `gte`, the iterator closed however the loop ends. */
export async function* iterate<V>(sublevel: Sublevel<V>, gte: string): AsyncGenerator<[string, V]> {
  const it = sublevel.iterator({ gte });
  try {
    for (let entry = await it.next(); entry; entry = await it.next()) yield entry;
  } finally {
    await it.close();
  }
}

const entryId = (w: Within) => `${w.table}/${w.id}`;

export class LevelTables implements Tables {
  private readonly tables;
  /** Entries being deleted if no key is under them: a replace within one is refused. */
  private readonly closing = new Set<string>();
  /** Writes of replaces within an entry, until durable. */
  private readonly within = new Set<Promise<unknown>>();

  /** `keys`: the index's records, looked at under an entry's prefix before deleting it. */
  constructor(
    db: ClassicLevel<string, string>,
    private readonly writes: GroupCommit<Change>,
    private readonly keys: Sublevel<Buffer>,
  ) {
    const table = (name: Table) => db.sublevel<string, object>(name, { valueEncoding: "json" });
    this.tables = { buckets: table("buckets"), uploads: table("uploads"), credentials: table("credentials"), settings: table("settings") };
  }

  /** Opens the sublevels (they open a tick after their parent; getSync refuses until then). */
  open(): Promise<unknown> {
    return Promise.all(Object.values(this.tables).map((t) => t.open()));
  }

  /** Throws entryGone unless `within`'s entry exists and is not being deleted. */
  checkOpen(within: Within): void {
    if (this.closing.has(entryId(within)) || this.get(within.table, within.id) === undefined) throw entryGone(within);
  }

  /** `write`, a replace's within an entry: deleteIfNoKeys waits for it meanwhile. */
  async holding<T>(write: Promise<T>): Promise<T> {
    const tracked = write.catch(() => {});
    this.within.add(tracked);
    try {
      return await write;
    } finally {
      this.within.delete(tracked);
    }
  }

  get<T>(table: Table, id: string): T | undefined {
    return this.tables[table].getSync(id) as T | undefined;
  }

  put(table: Table, id: string, value: object): Promise<void> {
    return this.writes.add({ build: (b) => b.put(id, value, { sublevel: this.tables[table] }), sync: true });
  }

  delete(table: Table, id: string): Promise<void> {
    return this.writes.add({ build: (b) => b.del(id, { sublevel: this.tables[table] }), sync: true });
  }

  async deleteIfNoKeys(table: Table, id: string, prefix: string): Promise<"deleted" | "absent" | "keys"> {
    const closing = entryId({ table, id });
    if (this.closing.has(closing)) return "keys"; // another delete is checking it: refuse, as for keys
    this.closing.add(closing);
    try {
      if (this.get(table, id) === undefined) return "absent";
      await Promise.all(this.within);
      await this.writes.settled(); // drops resolve before they are written
      let held = false;
      for await (const [key] of iterate(this.keys, prefix)) {
        held = key.startsWith(prefix);
        break;
      }
      if (held) return "keys";
      await this.delete(table, id);
      return "deleted";
    } finally {
      this.closing.delete(closing);
    }
  }

  entries<T>(table: Table, gte = ""): AsyncGenerator<[string, T]> {
    return iterate(this.tables[table] as unknown as Sublevel<T>, gte);
  }
}
