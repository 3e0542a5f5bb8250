/**
 * The index in LevelDB (classic-level), the embedded default: one master owns it.
 * Three sublevels:
 *   keys     key → KeyRecord
 *   pending  keys whose write or delete is in flight (index.ts: a restart finishes or undoes them)
 *   orphans  "volume name" → time: a replica still to be deleted (its volume was down)
 * and one sublevel per Table (buckets, uploads): id → JSON.
 * A state change that spans sublevels is one atomic batch. The sublevels are private:
 * every change goes through the verbs of Index. Every batch goes through one group
 * committer (src/durable/group-commit.ts), in the order the verbs were called: the
 * changes asked while one batch is written go together into the next, synced if any of
 * them must be durable, so concurrent commits share one fsync. Compare-and-set is
 * in-process: the one master's key locks already serialise changes of a key, and the
 * version check here keeps the contract the shared store keeps (postgres.ts).
 */
import { ClassicLevel } from "classic-level";
import { GroupCommit } from "../../durable/group-commit.ts";
import type { Index, KeyRecord, NewRecord, Orphan, RebuildWriter, Replica, State, Table } from "./index.ts";
import { MemoryJobs } from "./memory-jobs.ts";
import { groupByKey } from "./staging.ts";
import { indexSyncedChanges, indexSyncs } from "./sync-stats.ts";

/** Volume names never contain a space; keys may, so the volume comes first. */
const orphanId = ({ volume, key }: Orphan) => `${volume} ${key}`;
/** The name of a record's replicas on the volumes. */
const nameOf = (key: string, record: Pick<KeyRecord, "blob">) => record.blob ?? key;

/** Rebuild's staging ids: "key \0 volume#" sorts a key's replicas together (keys never hold NUL). */
const SEP = "\0";
const stagingId = (key: string, volume: number) => `${key}${SEP}${String(volume).padStart(4, "0")}`;

/** Rebuild writes in batches of this many entries. */
const BATCH = 1000;

type Batch = ReturnType<ClassicLevel<string, string>["batch"]>;

/** One verb's change: what it adds to a batch, and whether it must be durable before it resolves. */
interface Change {
  build: (b: Batch) => Batch;
  sync: boolean;
}

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
  /** Versions of keys whose change is queued or being written (null: being dropped): a check between two writes sees the first. */
  private readonly changing = new Map<string, number | null>();
  /** Every batch, in call order; a change resolves once the batch holding it is written (and synced, if asked). */
  private readonly writes = new GroupCommit<Change>(async (changes) => {
    const batch = this.db.batch();
    for (const change of changes) change.build(batch);
    const sync = changes.some((c) => c.sync);
    await batch.write({ sync });
    if (!sync) return;
    indexSyncs.inc();
    indexSyncedChanges.inc({}, changes.length);
  });
  readonly jobs = new MemoryJobs();

  constructor(readonly location: string) {
    this.db = new ClassicLevel<string, string>(location);
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
    const record = this.keys.getSync(key);
    if (record && record.version === undefined) record.version = 1; // written before records had versions
    return record;
  }

  /** One master, no lease: nothing can take its keys over. */
  leaseCheck(): () => boolean {
    return () => true;
  }

  /** The key's version counting batches still being written; null: no record. */
  private versionNow(key: string): number | null {
    const changing = this.changing.get(key);
    return changing !== undefined ? changing : (this.get(key)?.version ?? null);
  }

  /**
   * Writes what `build` adds to a batch if `key` still has version `expected`; `next` is
   * the version it then has (null: none). The check, the `changing` mark and the
   * queueing happen in one synchronous step, so no other change of the key comes between.
   */
  private async cas(key: string, expected: number | null, next: number | null, sync: boolean, build: (b: Batch) => Batch): Promise<boolean> {
    if (this.versionNow(key) !== expected) return false;
    this.changing.set(key, next);
    try {
      await this.writes.add({ build, sync });
    } finally {
      if (this.changing.get(key) === next) this.changing.delete(key);
    }
    return true;
  }

  private put(batch: Batch, key: string, record: KeyRecord): Batch {
    batch.put(key, record, { sublevel: this.keys });
    return record.state === "writing" || record.state === "deleting" ? batch.put(key, record.state, { sublevel: this.pending }) : batch;
  }

  private owe(batch: Batch, key: string, owed: string[]): Batch {
    for (const volume of owed) batch.put(orphanId({ volume, key }), String(Date.now()), { sublevel: this.orphanIds });
    return batch;
  }

  private forgive(batch: Batch, key: string, volumes: string[]): Batch {
    for (const volume of volumes) batch.del(orphanId({ volume, key }), { sublevel: this.orphanIds });
    return batch;
  }

  async create(key: string, record: NewRecord): Promise<KeyRecord | undefined> {
    const created = { ...record, version: 1 };
    return (await this.cas(key, null, 1, false, (b) => this.put(b, key, created))) ? created : undefined;
  }

  async commit(key: string, current: KeyRecord, live: NewRecord): Promise<KeyRecord | undefined> {
    const next = { ...live, version: current.version + 1 };
    const ok = await this.cas(key, current.version, next.version, true, (b) =>
      this.forgive(this.put(b, key, next).del(key, { sublevel: this.pending }), nameOf(key, next), next.volumes),
    );
    return ok ? next : undefined;
  }

  async setState(key: string, current: KeyRecord, state: State): Promise<KeyRecord | undefined> {
    const next = { ...current, state, version: current.version + 1 };
    return (await this.cas(key, current.version, next.version, true, (b) => this.put(b, key, next))) ? next : undefined;
  }

  /** The one master's key lock holds the key already: nothing to write. */
  async claim(key: string, current: KeyRecord): Promise<KeyRecord | undefined> {
    return this.versionNow(key) === current.version ? current : undefined;
  }

  async relocate(key: string, current: KeyRecord, volumes: string[], owed: string[]): Promise<KeyRecord | undefined> {
    const next = { ...current, volumes, version: current.version + 1 };
    const ok = await this.cas(key, current.version, next.version, true, (b) => this.owe(this.forgive(this.put(b, key, next), nameOf(key, next), volumes), nameOf(key, next), owed));
    return ok ? next : undefined;
  }

  drop(key: string, current: KeyRecord, owed: string[]): Promise<boolean> {
    return this.cas(key, current.version, null, true, (b) => this.owe(b.del(key, { sublevel: this.keys }).del(key, { sublevel: this.pending }), nameOf(key, current), owed));
  }

  async replace(key: string, current: KeyRecord | undefined, live: NewRecord, staged: { key: string; record: KeyRecord }, owed: Orphan[]): Promise<KeyRecord | undefined> {
    const expected = current?.version ?? null;
    if (this.versionNow(key) !== expected || this.versionNow(staged.key) !== staged.record.version) return undefined;
    const next = { ...live, version: (current?.version ?? 0) + 1 };
    this.changing.set(key, next.version);
    this.changing.set(staged.key, null);
    try {
      const build = (batch: Batch) => {
        this.put(batch, key, next).del(key, { sublevel: this.pending });
        batch.del(staged.key, { sublevel: this.keys }).del(staged.key, { sublevel: this.pending });
        this.forgive(batch, nameOf(key, next), next.volumes);
        for (const orphan of owed) batch.put(orphanId(orphan), String(Date.now()), { sublevel: this.orphanIds });
        return batch;
      };
      await this.writes.add({ build, sync: true });
    } finally {
      if (this.changing.get(key) === next.version) this.changing.delete(key);
      if (this.changing.get(staged.key) === null) this.changing.delete(staged.key);
    }
    return next;
  }

  entry<T>(table: Table, id: string): T | undefined {
    return this.tables[table].getSync(id) as T | undefined;
  }

  putEntry(table: Table, id: string, value: object): Promise<void> {
    return this.writes.add({ build: (b) => b.put(id, value, { sublevel: this.tables[table] }), sync: true });
  }

  deleteEntry(table: Table, id: string): Promise<void> {
    return this.writes.add({ build: (b) => b.del(id, { sublevel: this.tables[table] }), sync: true });
  }

  entries<T>(table: Table, gte = ""): AsyncGenerator<[string, T]> {
    return iterate(this.tables[table] as unknown as Sublevel<T>, gte);
  }

  abandoned(): AsyncIterable<string> {
    return this.pending.keys();
  }

  settle(key: string): Promise<void> {
    return this.writes.add({ build: (b) => b.del(key, { sublevel: this.pending }), sync: false });
  }

  async *orphans(): AsyncGenerator<Orphan> {
    for await (const id of this.orphanIds.keys()) {
      const sp = id.indexOf(" ");
      yield { volume: id.slice(0, sp), key: id.slice(sp + 1) };
    }
  }

  forgetOrphan(orphan: Orphan): Promise<void> {
    return this.writes.add({ build: (b) => b.del(orphanId(orphan), { sublevel: this.orphanIds }), sync: false });
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
        yield* groupByKey(
          (async function* () {
            for await (const [id, replica] of staging.iterator()) {
              const sep = id.lastIndexOf(SEP);
              yield { key: id.slice(0, sep), volume: Number(id.slice(sep + 1)), replica };
            }
          })(),
        );
      },
      write: async (key, record) => {
        this.put(batch, key, { ...record, version: 1 });
        await flush();
      },
      async owe(orphan) {
        batch.put(orphanId(orphan), String(Date.now()), { sublevel: orphanIds });
        await flush();
      },
      async finish() {
        await flush(true);
        await staging.clear();
      },
    };
  }
}
