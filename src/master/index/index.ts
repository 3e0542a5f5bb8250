/**
 * The master's index: what the master may ask of whatever stores it. The record state
 * machine lives behind this interface, in one implementation per store (level.ts:
 * LevelDB, the embedded default); nothing else in the master touches the store.
 *
 *   writing ──commit──▶ live ──setState──▶ unlinked
 *      │                 │ ╲                  │
 *      └──begin(deleting)┴──╲─────────────────┘──▶ deleting ──drop──▶ (gone)
 *                            relocate (replicas moved, state kept)
 *
 * A record in `writing` or `deleting` is also listed as in flight (a restart finishes
 * or undoes it); replicas that still have to be deleted on a volume that was down are
 * orphans until the janitor deletes them.
 */
export type State = "writing" | "live" | "unlinked" | "deleting";

export interface KeyRecord {
  state: State;
  /** The volumes holding a replica, in placement order. */
  volumes: string[];
  size: number;
  /** Hex md5 of the value. */
  md5: string;
  /** When the value was written, ms since the epoch. */
  time: number;
  /** The name of the replicas on the volumes when it is not the key: an S3 write's version name (keys/names.ts). */
  blob?: string;
  /** Content-Type, as an S3 client gave it. */
  type?: string;
  /** S3 user metadata (x-amz-meta-*): names lower-case, without the prefix. */
  meta?: Record<string, string>;
  /** The S3 ETag when it is not the md5: a multipart upload's (md5 of the parts' md5s, "-N"). */
  etag?: string;
}

/** A replica owed a delete. */
export interface Orphan {
  volume: string;
  /** The replica's name on that volume: its record's `blob`, else its key. */
  key: string;
}

/** Small documents kept beside the records, each table keyed by its own ids: S3's buckets and multipart uploads. */
export type Table = "buckets" | "uploads";

/** A value or a promise of it: an embedded store answers lookups synchronously from its cache. */
export type Sync<T> = T | Promise<T>;

export interface Index {
  open(): Promise<void>;
  close(): Promise<void>;

  /** The key's record, any state. */
  get(key: string): Sync<KeyRecord | undefined>;
  /**
   * Records an operation in flight (`writing` or `deleting`). A delete's intent is
   * durable before any replica goes; a write's need not be (if it is lost, the client
   * never got its 201, and verify finds the unreferenced bytes).
   */
  begin(key: string, record: KeyRecord): Promise<void>;
  /** The write is complete: live, durably (before the client hears 201); old orphans of the key on its volumes are forgotten. */
  commit(key: string, record: KeyRecord): Promise<void>;
  /** Changes the state of a settled record (unlink), durably. */
  setState(key: string, record: KeyRecord, state: State): Promise<void>;
  /** Moves a settled record to `volumes` (each holding the value durably); the replicas on `owed` become orphans. */
  relocate(key: string, record: KeyRecord, volumes: string[], owed: string[]): Promise<void>;
  /** The key is gone; replicas on `owed` volumes (named `blob`, default the key) become orphans. */
  drop(key: string, owed: string[], blob?: string): Promise<void>;
  /**
   * One durable step: `record` (live, its replicas written under the in-flight record
   * `staged`, see begin) becomes the key's record whatever it was, `staged`'s record and
   * in-flight mark go, and the `owed` replicas (the value replaced) become orphans.
   */
  replace(key: string, record: KeyRecord, staged: string, owed: Orphan[]): Promise<void>;

  /** An entry of a table. */
  entry<T>(table: Table, id: string): Sync<T | undefined>;
  /** Writes an entry, durably. */
  putEntry(table: Table, id: string, value: object): Promise<void>;
  /** Deletes an entry, durably (nothing if absent). */
  deleteEntry(table: Table, id: string): Promise<void>;
  /** Entries in id order from `gte`, streamed; close the iterator to stop early. */
  entries<T>(table: Table, gte?: string): AsyncIterableIterator<[string, T]>;

  /** Keys whose operation was in flight when the master stopped. */
  inFlight(): AsyncIterable<string>;
  /** Forgets an in-flight mark whose record has settled (the janitor's step for a mark left behind). */
  settle(key: string): Promise<void>;

  /** Every orphan, streamed. */
  orphans(): AsyncIterable<Orphan>;
  forgetOrphan(orphan: Orphan): Promise<void>;

  /** Records in key order from `gte`, streamed; close the iterator (return()) to stop early. */
  scan(gte?: string): AsyncIterableIterator<[string, KeyRecord]>;
  /** How many keys there are (any state). */
  count(): Promise<number>;

  /** Replaces the whole index from what the volumes hold (kvdb rebuild; the master stopped). */
  rebuild(): Promise<RebuildWriter>;
}

/** What one volume's catalog says of one replica. */
export interface Replica {
  size: number;
  md5: string;
  time: number;
}

/**
 * Writes a rebuilt index. Replicas are staged in the store itself, grouped by key, so
 * that millions of keys never sit in memory; then each key's record is written.
 */
export interface RebuildWriter {
  /** Stages volume number `volume`'s replica of `key`. */
  stage(key: string, volume: number, replica: Replica): Promise<void>;
  /** Every staged replica, in key order, a key's replicas together (call after staging). */
  staged(): AsyncIterable<{ key: string; replicas: { volume: number; replica: Replica }[] }>;
  /** Writes a key's record; replicas on `owed` volumes become orphans. */
  write(key: string, record: KeyRecord, owed: string[]): Promise<void>;
  /** Makes all of it durable and drops what was staged. */
  finish(): Promise<void>;
}
