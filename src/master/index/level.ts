/**
 * The index in LevelDB (classic-level), the embedded default. Three sublevels:
 *   keys     key → KeyRecord
 *   pending  keys whose write or delete is in flight (index.ts: a restart finishes or undoes them)
 *   orphans  "volume name" → time: a replica still to be deleted (its volume was down)
 * and one sublevel per Table (buckets, uploads): id → JSON.
 * A state change that spans sublevels is one atomic batch. The sublevels are private:
 * every change goes through the verbs of Index.
 */
import { ClassicLevel } from "classic-level";
import type { Index, KeyRecord, Orphan, RebuildWriter, Replica, State, Table } from "./index.ts";

/** Volume names never contain a space; keys may, so the volume comes first. */
const orphanId = ({ volume, key }: Orphan) => `${volume} ${key}`;
/** The name of a record's replicas on the volumes. */
const nameOf = (key: string, record: KeyRecord) => record.blob ?? key;

/** Rebuild's staging ids: "key \0 volume#" sorts a key's replicas together (keys never hold NUL). */
const SEP = "\0";
const stagingId = (key: string, volume: number) => `${key}${SEP}${String(volume).padStart(4, "0")}`;

/** Rebuild writes in batches of this many entries. */
const BATCH = 1000;

interface Sublevel<V> {
  iterator(o: { gte: string }): { next(): Promise<[string, V] | undefined>; close(): Promise<void> };
}

/** A sublevel's entries in key order from `gte`, the iterator closed however the loop ends. */
async function* iterate<V>(sublevel: Sublevel<V>, gte: string): AsyncGenerator<[string, V]> {
  const it = sublevel.iterator({ gte });
  try {
    for (let entry = await it.next(); entry; entry = await it.next()) yield entry;
  } finally {
    await it.close();
  }
}

export class LevelIndex implements Index {
  private readonly db: ClassicLevel<string, string>;
  private readonly keys;
  private readonly pending;
  private readonly orphanIds;
  private readonly tables;

  constructor(dir: string) {
    this.db = new ClassicLevel<string, string>(dir);
    this.keys = this.db.sublevel<string, KeyRecord>("keys", { valueEncoding: "json" });
    this.pending = this.db.sublevel<string, string>("pending", {});
    this.orphanIds = this.db.sublevel<string, string>("orphans", {});
    const table = (name: Table) => this.db.sublevel<string, object>(name, { valueEncoding: "json" });
    this.tables = { buckets: table("buckets"), uploads: table("uploads") };
  }

  async open(): Promise<void> {
    await this.db.open();
    // Sublevels finish opening a tick after their parent; getSync refuses until they have.
    await Promise.all([this.keys, this.pending, this.orphanIds, ...Object.values(this.tables)].map((s) => s.open()));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /**
   * Synchronous: a lookup served from LevelDB's cache costs less than the thread-pool
   * round trip of an async get (docs/RUNTIMES.md: 21k → 38k redirects/s on Node), and
   * every request asks.
   */
  get(key: string): KeyRecord | undefined {
    return this.keys.getSync(key);
  }

  begin(key: string, record: KeyRecord): Promise<void> {
    return this.db
      .batch()
      .put(key, record, { sublevel: this.keys })
      .put(key, record.state, { sublevel: this.pending })
      .write({ sync: record.state === "deleting" });
  }

  commit(key: string, record: KeyRecord): Promise<void> {
    const batch = this.db.batch().put(key, record, { sublevel: this.keys }).del(key, { sublevel: this.pending });
    for (const volume of record.volumes) batch.del(orphanId({ volume, key: nameOf(key, record) }), { sublevel: this.orphanIds });
    return batch.write({ sync: true });
  }

  replace(key: string, record: KeyRecord, staged: string, owed: Orphan[]): Promise<void> {
    const batch = this.db.batch().put(key, record, { sublevel: this.keys }).del(key, { sublevel: this.pending });
    batch.del(staged, { sublevel: this.keys }).del(staged, { sublevel: this.pending });
    for (const orphan of owed) batch.put(orphanId(orphan), String(Date.now()), { sublevel: this.orphanIds });
    return batch.write({ sync: true });
  }

  setState(key: string, record: KeyRecord, state: State): Promise<void> {
    return this.db.batch().put(key, { ...record, state }, { sublevel: this.keys }).write({ sync: true });
  }

  relocate(key: string, record: KeyRecord, volumes: string[], owed: string[]): Promise<void> {
    const batch = this.db.batch().put(key, { ...record, volumes }, { sublevel: this.keys });
    const name = nameOf(key, record);
    for (const volume of volumes) batch.del(orphanId({ volume, key: name }), { sublevel: this.orphanIds });
    for (const volume of owed) batch.put(orphanId({ volume, key: name }), String(Date.now()), { sublevel: this.orphanIds });
    return batch.write({ sync: true });
  }

  drop(key: string, owed: string[], blob = key): Promise<void> {
    const batch = this.db.batch().del(key, { sublevel: this.keys }).del(key, { sublevel: this.pending });
    for (const volume of owed) batch.put(orphanId({ volume, key: blob }), String(Date.now()), { sublevel: this.orphanIds });
    return batch.write({ sync: true });
  }

  entry<T>(table: Table, id: string): T | undefined {
    return this.tables[table].getSync(id) as T | undefined;
  }

  putEntry(table: Table, id: string, value: object): Promise<void> {
    return this.db.batch().put(id, value, { sublevel: this.tables[table] }).write({ sync: true });
  }

  deleteEntry(table: Table, id: string): Promise<void> {
    return this.db.batch().del(id, { sublevel: this.tables[table] }).write({ sync: true });
  }

  entries<T>(table: Table, gte = ""): AsyncGenerator<[string, T]> {
    return iterate(this.tables[table] as unknown as Sublevel<T>, gte);
  }

  inFlight(): AsyncIterable<string> {
    return this.pending.keys();
  }

  settle(key: string): Promise<void> {
    return this.pending.del(key);
  }

  async *orphans(): AsyncGenerator<Orphan> {
    for await (const id of this.orphanIds.keys()) {
      const sp = id.indexOf(" ");
      yield { volume: id.slice(0, sp), key: id.slice(sp + 1) };
    }
  }

  forgetOrphan(orphan: Orphan): Promise<void> {
    return this.orphanIds.del(orphanId(orphan));
  }

  scan(gte = ""): AsyncGenerator<[string, KeyRecord]> {
    return iterate<KeyRecord>(this.keys, gte);
  }

  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this.keys.keys()) n++;
    return n;
  }

  async rebuild(): Promise<RebuildWriter> {
    const { db, keys, orphanIds } = this;
    const staging = db.sublevel<string, Replica>("rebuild", { valueEncoding: "json" });
    await Promise.all([keys.clear(), this.pending.clear(), orphanIds.clear(), staging.clear()]);
    let batch = db.batch();
    const flush = async (sync = false) => {
      if (batch.length >= BATCH || (sync && batch.length)) {
        await batch.write({ sync });
        batch = db.batch();
      }
    };
    return {
      async stage(key, volume, replica) {
        batch.put(stagingId(key, volume), replica, { sublevel: staging });
        await flush();
      },
      async *staged() {
        await flush(true);
        let group: { key: string; replicas: { volume: number; replica: Replica }[] } | undefined;
        for await (const [id, replica] of staging.iterator()) {
          const sep = id.lastIndexOf(SEP);
          const key = id.slice(0, sep);
          if (group && group.key !== key) yield group;
          if (!group || group.key !== key) group = { key, replicas: [] };
          group.replicas.push({ volume: Number(id.slice(sep + 1)), replica });
        }
        if (group) yield group;
      },
      async write(key, record, owed) {
        batch.put(key, record, { sublevel: keys });
        for (const volume of owed) batch.put(orphanId({ volume, key }), String(Date.now()), { sublevel: orphanIds });
        await flush();
      },
      async finish() {
        await flush(true);
        await staging.clear();
      },
    };
  }
}
