/**
 * The index in LevelDB (classic-level), the embedded default: one master owns it.
 * Sublevels:
 *   keys     key → KeyRecord, compact (record-codec.ts; JSON as kvdb wrote it before is still read)
 *   volume-ids  id → volume name: the ids records name their volumes by (volume-ids.ts)
 *   meta     "counts": the records in each state, saved at a clean close (state-counts.ts)
 *   pending  keys whose write or delete is in flight (index.ts: a restart finishes or undoes them)
 *   orphans  "volume name" → time: a replica still to be deleted (its volume was down)
 *   owed     key → "": a record owed replicas (KeyRecord.owed), for the janitor to find
 * and one sublevel per table (tables.ts: buckets, uploads, credentials, settings): id → JSON (level-tables.ts).
 * A state change that spans sublevels is one atomic batch. The sublevels are private:
 * every change goes through the verbs of Index. Every batch goes through one group
 * committer (src/durable/group-commit.ts), in the order the verbs were called: the
 * changes asked while one batch is written go together into the next, synced if any of
 * them must be durable, so concurrent commits share one fsync. Compare-and-set is
 * in-process: the one master's key locks already serialise changes of a key, and the
 * version check here keeps the contract the shared store keeps (postgres.ts).
 */
import { ClassicLevel } from "classic-level";
import { storedName } from "../../keys/names.ts";
import { GroupCommit } from "../../durable/group-commit.ts";
import type { Index, KeyRecord, NewRecord, Orphan, RebuildWriter, State } from "./index.ts";
import type { Within } from "./tables.ts";
import { MemoryJobs } from "./memory-jobs.ts";
import { decodeRecord, encodeRecord } from "./record-codec.ts";
import { Counter, type StateCounts } from "./state-counts.ts";
import { VolumeIds } from "./volume-ids.ts";
import { levelRebuildWriter, type Batch } from "./level-rebuild.ts";
import { indexSyncedChanges, indexSyncs } from "./sync-stats.ts";
import { logger } from "../../observe/logger.ts";
import { iterate, LevelTables, type Change } from "./level-tables.ts";

const log = logger("master");

/** Volume names never contain a space; keys may, so the volume comes first. */
const orphanId = ({ volume, name }: Orphan) => `${volume} ${name}`;

export class LevelIndex implements Index {
  private readonly db: ClassicLevel<string, string>;
  private readonly keys;
  private readonly volumeIds;
  private readonly meta;
  private readonly counter = new Counter();
  private readonly pending;
  private readonly orphanIds;
  private readonly owedKeys;
  readonly tables: LevelTables;
  /** Versions of keys whose change is queued or being written (null: being dropped): a check between two writes sees the first. */
  private readonly changing = new Map<string, number | null>();
  /**
   * Changes create() and drop() decided but have not written yet, each by its own entry
   * object: get() answers with `record` meanwhile (undefined: dropped).
   */
  private readonly unwritten = new Map<string, { record?: KeyRecord }>();
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
    this.keys = this.db.sublevel<string, Buffer>("keys", { valueEncoding: "buffer" });
    this.volumeIds = new VolumeIds(this.db.sublevel<string, string>("volume-ids", {}));
    this.meta = this.db.sublevel<string, unknown>("meta", { valueEncoding: "json" });
    this.pending = this.db.sublevel<string, string>("pending", {});
    this.orphanIds = this.db.sublevel<string, string>("orphans", {});
    this.owedKeys = this.db.sublevel<string, string>("owed", {});
    this.tables = new LevelTables(this.db, this.writes, this.keys);
  }

  async open(): Promise<void> {
    await this.db.open();
    // Sublevels finish opening a tick after their parent; getSync refuses until they have.
    await Promise.all([...[this.keys, this.pending, this.orphanIds, this.owedKeys, this.meta].map((s) => s.open()), this.tables.open()]);
    await this.volumeIds.load();
    await this.counter.load(this.meta, () => this.states());
  }

  async close(): Promise<void> {
    await this.writes.settled(); // creates and drops resolve before they are written
    if (this.db.status === "open") await this.counter.save(this.meta);
    return this.db.close();
  }

  private decode = (stored: Buffer): KeyRecord => decodeRecord(stored, this.volumeIds);

  /** Every record's state, read from a snapshot taken now (the iterator is made before this returns). */
  private states(): AsyncIterable<State> {
    const values = this.keys.values();
    const decode = this.decode;
    return (async function* () {
      for await (const stored of values) yield decode(stored).state; // for await closes the iterator
    })();
  }

  readonly readsAtOnce = true;

  /**
   * Synchronous: a lookup served from LevelDB's cache costs less than the thread-pool
   * round trip of an async get (docs/RUNTIMES.md: 21k → 38k redirects/s on Node), and
   * every request asks.
   */
  get(key: string): KeyRecord | undefined {
    const decided = this.unwritten.get(key);
    if (decided) return decided.record;
    const stored = this.keys.getSync(key);
    return stored === undefined ? undefined : this.decode(stored);
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
    await this.changingUntil([[key, next]], this.writes.add({ build, sync }));
    return true;
  }

  /** Marks each key as having its next version (null: none) until `written` settles. */
  private async changingUntil(marks: [string, number | null][], written: Promise<void>): Promise<void> {
    for (const [key, next] of marks) this.changing.set(key, next);
    try {
      await written;
    } finally {
      for (const [key, next] of marks) if (this.changing.get(key) === next) this.changing.delete(key);
    }
  }

  /**
   * Writes `record` as the key's; `was`: the record it replaces, whose mark in `owed`
   * goes if this one owes nothing (so a plain write costs no extra entry).
   */
  private put(batch: Batch, key: string, record: KeyRecord, was?: KeyRecord): Batch {
    batch.put(key, encodeRecord(record, this.volumeIds), { sublevel: this.keys });
    this.volumeIds.addUnsaved(batch);
    if (record.owed) batch.put(key, "", { sublevel: this.owedKeys });
    else if (was?.owed) batch.del(key, { sublevel: this.owedKeys });
    return record.state === "writing" || record.state === "deleting" ? batch.put(key, record.state, { sublevel: this.pending }) : batch;
  }

  /** The replicas of `key` on `owed` become orphans. */
  private owe(batch: Batch, key: string, owed: string[]): Batch {
    return this.oweAll(batch, owed.map((volume) => ({ volume, name: key })));
  }

  private oweAll(batch: Batch, orphans: Orphan[]): Batch {
    for (const orphan of orphans) batch.put(orphanId(orphan), String(Date.now()), { sublevel: this.orphanIds });
    return batch;
  }

  private forgive(batch: Batch, key: string, volumes: string[]): Batch {
    for (const volume of volumes) batch.del(orphanId({ volume, name: key }), { sublevel: this.orphanIds });
    return batch;
  }

  /**
   * Resolves once the record is decided, before it is written: an intent need not be
   * durable (Index.create), and waiting for its unsynced write queued it behind the
   * synced batch in flight, 4–6 ms of a small PUT at 16 clients (docs/CHANGELOG.md).
   * The key lock (this master is the index's one writer) keeps others off the key
   * meanwhile; a later change of the key waits in the same queue.
   */
  async create(key: string, record: NewRecord): Promise<KeyRecord | undefined> {
    const created = { ...record, version: 1 };
    if (this.versionNow(key) !== null) return undefined;
    this.writeLater(key, created, (b) => this.put(b, key, created), "the intent record");
    this.counter.move(undefined, created.state);
    return created;
  }

  async commit(key: string, current: KeyRecord, live: NewRecord, failed: string[] = []): Promise<KeyRecord | undefined> {
    const next = { ...live, version: current.version + 1 };
    const name = storedName(key, next);
    const ok = await this.cas(key, current.version, next.version, true, (b) =>
      this.owe(this.forgive(this.put(b, key, next, current).del(key, { sublevel: this.pending }), name, next.volumes), name, failed),
    );
    if (!ok) return undefined;
    this.counter.move(current.state, next.state);
    return next;
  }

  async setState(key: string, current: KeyRecord, state: State): Promise<KeyRecord | undefined> {
    const next = { ...current, state, version: current.version + 1 };
    if (!(await this.cas(key, current.version, next.version, true, (b) => this.put(b, key, next, current)))) return undefined;
    this.counter.move(current.state, state);
    return next;
  }

  /** The one master's key lock holds the key already: nothing to write. */
  async claim(key: string, current: KeyRecord): Promise<KeyRecord | undefined> {
    return this.versionNow(key) === current.version ? current : undefined;
  }

  async relocate(key: string, current: KeyRecord, volumes: string[], owed: string[], short?: number): Promise<KeyRecord | undefined> {
    const { owed: _, ...rest } = current;
    const next: KeyRecord = { ...rest, volumes, version: current.version + 1, ...(short ? { owed: short } : {}) };
    const ok = await this.cas(key, current.version, next.version, true, (b) => this.owe(this.forgive(this.put(b, key, next, current), storedName(key, next), volumes), storedName(key, next), owed));
    return ok ? next : undefined;
  }

  /**
   * Resolves once the drop is decided and queued, as create does (scan() and
   * tables.deleteIfNoKeys read after it). It need not be durable: the synced `deleting`
   * record before it is what a restart finishes the delete from (janitor.ts), and
   * waiting for it was one more index batch in every DELETE's answer (docs/CHANGELOG.md).
   */
  async drop(key: string, current: KeyRecord, owed: string[]): Promise<boolean> {
    if (this.versionNow(key) !== current.version) return false;
    const build = (b: Batch) => {
      if (current.owed) b.del(key, { sublevel: this.owedKeys });
      return this.owe(b.del(key, { sublevel: this.keys }).del(key, { sublevel: this.pending }), storedName(key, current), owed);
    };
    this.writeLater(key, undefined, build, "the drop (a restart finishes it)");
    this.counter.move(current.state, undefined);
    return true;
  }

  /**
   * Queues an unsynced change of `key` that leaves it `record` (undefined: none), decided
   * now and not waited for: get() answers with `record` until it is written. A failed
   * write is logged (`what`: the change, for the log line).
   */
  private writeLater(key: string, record: KeyRecord | undefined, build: (b: Batch) => Batch, what: string): void {
    const decided = { record };
    this.unwritten.set(key, decided);
    this.changingUntil([[key, record?.version ?? null]], this.writes.add({ build, sync: false }))
      .catch((e) => log.error(`${what} of ${JSON.stringify(key)} was not written: ${(e as Error).message}`))
      .finally(() => this.unwritten.get(key) === decided && this.unwritten.delete(key));
  }

  async replace(key: string, current: KeyRecord | undefined, live: NewRecord, staged: { key: string; record: KeyRecord }, owed: Orphan[], within?: Within): Promise<KeyRecord | undefined> {
    const expected = current?.version ?? null;
    if (this.versionNow(key) !== expected || this.versionNow(staged.key) !== staged.record.version) return undefined;
    if (within) this.tables.checkOpen(within);
    const next = { ...live, version: (current?.version ?? 0) + 1 };
    const build = (batch: Batch) => {
      this.put(batch, key, next, current).del(key, { sublevel: this.pending });
      batch.del(staged.key, { sublevel: this.keys }).del(staged.key, { sublevel: this.pending });
      this.forgive(batch, storedName(key, next), next.volumes);
      return this.oweAll(batch, owed);
    };
    const written = this.changingUntil([[key, next.version], [staged.key, null]], this.writes.add({ build, sync: true }));
    await (within ? this.tables.holding(written) : written);
    this.counter.move(current?.state, next.state);
    this.counter.move(staged.record.state, undefined);
    return next;
  }

  /**
   * The pending keys still pending now: the iterator reads a snapshot, and a key whose
   * operation ended since (its marker gone) must not be held by the janitor, or a
   * client's next PUT or DELETE of it would meet a 409.
   */
  async *abandoned(): AsyncGenerator<string> {
    for await (const key of this.pending.keys()) if (this.pending.getSync(key) !== undefined) yield key;
  }

  /** A compare-and-set like every change: the mark goes only if the record is still the one read. */
  async settle(key: string, current: KeyRecord): Promise<void> {
    await this.cas(key, current.version, current.version, false, (b) => b.del(key, { sublevel: this.pending }));
  }

  async *orphans(): AsyncGenerator<Orphan> {
    await this.writes.settled(); // drops (naming orphans) resolve before they are written
    for await (const id of this.orphanIds.keys()) {
      const sp = id.indexOf(" ");
      yield { volume: id.slice(0, sp), name: id.slice(sp + 1) };
    }
  }

  async *underReplicated(): AsyncGenerator<string> {
    await this.writes.settled();
    yield* this.owedKeys.keys();
  }

  forgetOrphan(orphan: Orphan): Promise<void> {
    return this.writes.add({ build: (b) => b.del(orphanId(orphan), { sublevel: this.orphanIds }), sync: false });
  }

  async *scan(gte = ""): AsyncGenerator<[string, KeyRecord]> {
    await this.writes.settled(); // drops resolve before they are written
    for await (const [key, stored] of iterate<Buffer>(this.keys, gte)) yield [key, this.decode(stored)];
  }

  /** From memory (state-counts.ts): nothing is read. */
  async count(): Promise<number> {
    return await this.counter.total();
  }

  async counts(): Promise<StateCounts> {
    return await this.counter.get();
  }

  /** Compacts the whole store (bench/index-size.ts measures the size after it). */
  compact(): Promise<void> {
    return this.db.compactRange("\x00", "\xff");
  }

  async rebuild(): Promise<RebuildWriter> {
    const writer = await levelRebuildWriter(this.db, {
      record: (batch, key, record) => {
        this.put(batch, key, { ...record, version: 1 });
        this.counter.move(undefined, record.state);
      },
      orphan: (batch, orphan) => this.oweAll(batch, [orphan]),
    });
    await Promise.all([this.keys.clear(), this.pending.clear(), this.orphanIds.clear(), this.owedKeys.clear()]);
    this.counter.reset();
    return writer;
  }
}
