/**
 * The master's index, in LevelDB (classic-level). Three sublevels:
 *   keys     key → KeyRecord (state, volumes, size, md5, time)
 *   pending  keys whose write or delete was in flight; a restart finishes or undoes them
 *   orphans  "volume key" pairs whose replica still has to be deleted (its volume was down)
 * A state change that spans sublevels is one atomic batch.
 */
import { ClassicLevel } from "classic-level";

export type State = "writing" | "live" | "unlinked" | "deleting";

export interface KeyRecord {
  state: State;
  volumes: string[];
  size: number;
  md5: string;
  time: number;
}

/** Volume names never contain a space; keys may, so the volume comes first. */
const orphanId = (volume: string, key: string) => `${volume} ${key}`;

export class Records {
  readonly db: ClassicLevel<string, string>;
  readonly keys;
  readonly pending;
  readonly orphans;

  constructor(dir: string) {
    this.db = new ClassicLevel<string, string>(dir);
    this.keys = this.db.sublevel<string, KeyRecord>("keys", { valueEncoding: "json" });
    this.pending = this.db.sublevel<string, string>("pending", {});
    this.orphans = this.db.sublevel<string, string>("orphans", {});
  }

  open(): Promise<void> {
    return this.db.open();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /**
   * Synchronous: a lookup served from LevelDB's cache costs less than the thread-pool
   * round trip of an async get (RUNTIMES.md: 21k → 38k redirects/s on Node), and every
   * request asks.
   */
  get(key: string): KeyRecord | undefined {
    return this.keys.getSync(key);
  }

  /**
   * Records an operation in flight (writing or deleting). A delete's intent is synced
   * before any replica goes; a write's need not be (if it is lost, the client never
   * got its 201, and verify finds the unreferenced bytes).
   */
  begin(key: string, record: KeyRecord): Promise<void> {
    return this.db
      .batch()
      .put(key, record, { sublevel: this.keys })
      .put(key, record.state, { sublevel: this.pending })
      .write({ sync: record.state === "deleting" });
  }

  /** The write is complete: the key is live, durably, before the client hears 201. */
  commit(key: string, record: KeyRecord): Promise<void> {
    const batch = this.db.batch().put(key, record, { sublevel: this.keys }).del(key, { sublevel: this.pending });
    // Old orphans of this key on the volumes just written are the new value now.
    for (const v of record.volumes) batch.del(orphanId(v, key), { sublevel: this.orphans });
    return batch.write({ sync: true });
  }

  /**
   * Moves a settled record to `volumes` (each holding the value, fsynced) in one synced
   * batch; the replicas on `owed` volumes become orphans, to be deleted after.
   */
  relocate(key: string, record: KeyRecord, volumes: string[], owed: string[]): Promise<void> {
    const batch = this.db.batch().put(key, { ...record, volumes }, { sublevel: this.keys });
    for (const v of volumes) batch.del(orphanId(v, key), { sublevel: this.orphans });
    for (const v of owed) batch.put(orphanId(v, key), String(Date.now()), { sublevel: this.orphans });
    return batch.write({ sync: true });
  }

  /** Changes the state of a settled record (unlink). */
  set(key: string, record: KeyRecord): Promise<void> {
    return this.db.batch().put(key, record, { sublevel: this.keys }).write({ sync: true });
  }

  /** The key is gone; `owed` volumes still hold a replica to delete later. */
  drop(key: string, owed: string[]): Promise<void> {
    const batch = this.db.batch().del(key, { sublevel: this.keys }).del(key, { sublevel: this.pending });
    for (const v of owed) batch.put(orphanId(v, key), String(Date.now()), { sublevel: this.orphans });
    return batch.write({ sync: true });
  }

  /** Keys whose operation was in flight when the master stopped. */
  async inFlight(): Promise<string[]> {
    return this.pending.keys().all();
  }

  async *orphanList(): AsyncGenerator<{ volume: string; key: string }> {
    for await (const id of this.orphans.keys()) {
      const sp = id.indexOf(" ");
      yield { volume: id.slice(0, sp), key: id.slice(sp + 1) };
    }
  }

  forgetOrphan(volume: string, key: string): Promise<void> {
    return this.orphans.del(orphanId(volume, key));
  }
}
