/**
 * The master's index: what the master may ask of whatever stores it. The record state
 * machine lives behind this interface, in one implementation per store (level.ts:
 * LevelDB, the embedded default, one master; postgres.ts: PostgreSQL, shared by any
 * number of masters); nothing else in the master touches the store.
 *
 *   (absent) ──create──▶ writing ──commit──▶ live ──setState──▶ unlinked
 *                           │                 │ ╲                  │
 *                           └──setState(deleting)──╲───────────────┘──▶ deleting ──drop──▶ (absent)
 *                                                   relocate (replicas moved, state kept)
 *
 * An S3 write (src/master/versions.ts) creates a record under a version name of the key
 * (keys/names.ts), and replace then makes it the key's live record in one step: the
 * version's record goes, the key's record is set (whatever state it had), with `blob`
 * naming the replicas.
 *
 * Every record carries a version, bumped by every change, and every change is a
 * compare-and-set on it: it applies only if the stored record still has the version
 * the caller read, and otherwise changes nothing and resolves to undefined (false for
 * drop). So a master that stalled and wakes up late can never commit over a newer
 * state: the store, not a lock in one process, decides which change wins. In the shared
 * store a key's versions never repeat, not even after its record is dropped and the key
 * created again (firstVersion): a late change must not match the newer record either.
 *
 * A record in `writing` or `deleting`, or claimed by a job step, has an owner: the
 * master doing it. A record whose owner has stopped (its lease ran out) is abandoned,
 * and any master's janitor finishes or undoes it (janitor.ts).
 */
import type { ValueFields } from "../../keys/fields.ts";
import type { Tables, Within } from "./tables.ts";

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
  /**
   * The name of the replicas on the volumes when it is not the key: a replacing write's
   * version name (keys/names.ts). A master concept, not S3's: purge, the janitor and
   * every orphan name replicas by it (storedName), whoever wrote the value.
   */
  blob?: string;
  /**
   * What an S3 client stored with the value besides its bytes (Content-Type, user
   * metadata, a multipart ETag: keys/fields.ts). The master keeps it for the S3 API,
   * hands it to the volumes and names the type in a redirect (read.ts); stored flat
   * beside the other fields (record-codec.ts; pg-schema.ts's columns), as always.
   */
  s3?: ValueFields;
  /**
   * A direct write's terms, while it is `writing` (master/direct-write.ts): the client
   * sends the body to a volume, which commits with `token` by `deadline` (ms since the
   * epoch); until then the write is in flight though no master holds its key, and the
   * janitor leaves it alone.
   */
  direct?: DirectTerms;
  /**
   * How many replicas the value is still owed: it was written with --min-replicas on
   * fewer volumes than --replicas (or lost one since). The janitor copies it onto
   * other volumes until none is owed (janitor.ts repairOwed); `volumes` names only the
   * replicas that exist, so no read goes to an owed one. Absent: none owed.
   */
  owed?: number;
  /** Bumped by every change; the compare-and-set token of the verbs below. */
  version: number;
  /**
   * Another master still alive is changing this record (a write, a delete or a job
   * step in flight there): a write or delete of it here is refused with 409. Never set
   * by a store only one master uses (its key locks say the same).
   */
  busy?: boolean;
}

export interface DirectTerms {
  deadline: number;
  token: string;
}

/** A version's low bits count the record's changes since its create (direct-terms.ts reads them); 2^32 random high bits, 2^52 in all. */
export const VERSION_CHANGES = 2 ** 20;

/**
 * The version a record created in the shared store starts at: a random one, not 1. A
 * statement a master sent before the key's record was dropped can reach PostgreSQL
 * seconds late (postgres.js queues queries while the database is down and sends them
 * once it reconnects: tests/pg-late-change.test.ts); were every record to start at 1,
 * its compare-and-set would match the record created since with the same version, and
 * drop or hide a value acknowledged meanwhile (issue 24's list-after-write anomaly:
 * docs/CONSISTENCY.md). The one-master LevelDB index has no late statement: it starts at 1.
 */
export const firstVersion = () => 1 + VERSION_CHANGES * Math.floor(Math.random() * 2 ** 32);

/** 1 for a record as created, 2 after one change, …: whatever version the store started it at. */
export const changesOf = (version: number) => version % VERSION_CHANGES;

/** A record as a verb writes it: the store assigns the version. */
export type NewRecord = Omit<KeyRecord, "version" | "busy">;

/** A replica owed a delete. */
export interface Orphan {
  volume: string;
  /** The replica's name on that volume (keys/names.ts, storedName): its record's `blob`, else its key. */
  name: string;
}


/** A long job as every master sharing the index sees it (jobs/job.ts has the whole of it). */
export interface JobRecord {
  id: string;
  kind: string;
  state: "running" | "done" | "failed";
  summary: string;
  finished?: number;
}

export interface Jobs {
  /**
   * Stores `job` as the one running, owned by this master, unless a job runs already
   * (on any master sharing the index): then that one is returned, as last saved.
   */
  start(job: JobRecord): Promise<JobRecord>;
  /** Saves a job's progress (the running master calls it as it goes, and at the end). */
  save(job: JobRecord): Promise<void>;
  /** Jobs as last saved, oldest first; a running job whose master stopped reads as failed. */
  all(): Promise<JobRecord[]>;
}

/** A value or a promise of it: an embedded store answers lookups synchronously from its cache. */
export type Sync<T> = T | Promise<T>;

export interface Index {
  /** Opens the store; a shared store also starts this master's lease (see abandoned()). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Where the index is, as printed on the start line (no password). */
  readonly location: string;
  /**
   * A check that stays true while this master's lease has held without a break since
   * this call (with a margin). A write checks it before each chunk it sends on: a
   * master that stalled, or lost the database, past its lease stops writing before
   * another master can take its key over and write the same key to the same volumes.
   */
  leaseCheck(): () => boolean;

  /** The key's record, any state. */
  get(key: string): Sync<KeyRecord | undefined>;
  /** get() answers without a promise (an embedded store's cache): reads may then be answered before the app (master/read.ts). */
  readonly readsAtOnce: boolean;
  /**
   * Records a write in flight (`writing`), owned by this master, if the key has no
   * record: the one conditional create that decides between concurrent PUTs. A write's
   * intent need not be durable (if it is lost, the client never got its 201, and verify
   * finds the unreferenced bytes).
   */
  create(key: string, record: NewRecord): Promise<KeyRecord | undefined>;
  /**
   * writing → live, durably (before the client hears 201); old orphans of the key on its
   * volumes are forgotten, and the replicas on `failed` (volumes where the write failed
   * while enough others held it: --min-replicas) become orphans.
   */
  commit(key: string, current: KeyRecord, live: NewRecord, failed?: string[]): Promise<KeyRecord | undefined>;
  /**
   * Changes the state (live ⇄ unlinked, or → deleting), durably. `deleting` is owned by
   * this master and is how a delete (or a janitor taking an abandoned record over)
   * claims the record before any replica goes.
   */
  setState(key: string, current: KeyRecord, state: State): Promise<KeyRecord | undefined>;
  /**
   * Marks a settled record as owned by this master for a job step (a move, a repair),
   * so that no other master writes or deletes it meanwhile; relocate or settle lets go.
   */
  claim(key: string, current: KeyRecord): Promise<KeyRecord | undefined>;
  /**
   * Moves a settled record to `volumes` (each holding the value durably); the replicas on
   * `owed` become orphans; `short`: how many replicas the record is then owed (KeyRecord.owed).
   */
  relocate(key: string, current: KeyRecord, volumes: string[], owed: string[], short?: number): Promise<KeyRecord | undefined>;
  /**
   * The key is gone; replicas on `owed` volumes (named as the record names them: its
   * `blob`, else the key) become orphans. Need not be durable: it follows a durable
   * `deleting`, from which a restart finishes the delete if the drop is lost.
   */
  drop(key: string, current: KeyRecord, owed: string[]): Promise<boolean>;
  /**
   * One durable step, a compare-and-set on two records: `live` (its replicas written
   * under the in-flight record `staged.key`, created by create) becomes the key's record
   * if the key still has `current` (undefined: no record) and the staged record still
   * has `staged.record`'s version; the staged record goes, and the `owed` replicas (the
   * value replaced) become orphans. Otherwise nothing changes and it resolves to undefined.
   * With `within`, the step also needs that entry (an S3 object's bucket) to exist, and
   * holds it against tables.deleteIfNoKeys meanwhile; if it is gone: a KvdbError "gone" (entryGone), nothing changed.
   */
  replace(key: string, current: KeyRecord | undefined, live: NewRecord, staged: { key: string; record: KeyRecord }, owed: Orphan[], within?: Within): Promise<KeyRecord | undefined>;

  /** Small documents beside the records (S3's buckets and uploads): tables.ts. */
  readonly tables: Tables;

  /**
   * Keys whose operation may have been abandoned: owned by a master that stopped, or
   * by this one (a key this master does not hold is a leftover of a failed cleanup).
   */
  abandoned(): AsyncIterable<string>;
  /** Lets go of a settled record's owner mark (the janitor's step for a mark left behind). */
  settle(key: string, current: KeyRecord): Promise<void>;

  /** Keys whose record is owed replicas (KeyRecord.owed), in key order, streamed. */
  underReplicated(): AsyncIterable<string>;

  /** Every orphan, streamed. */
  orphans(): AsyncIterable<Orphan>;
  forgetOrphan(orphan: Orphan): Promise<void>;

  /** Records in key order (bytes of the UTF-8 key) from `gte`, streamed; close the iterator (return()) to stop early. */
  scan(gte?: string): AsyncIterableIterator<[string, KeyRecord]>;
  /** How many keys there are (any state), as counts() has it. */
  count(): Promise<number>;
  /**
   * How many records are in each state, without reading them: LevelDB keeps the counts
   * in memory (state-counts.ts), PostgreSQL a count refreshed in the background
   * (refreshed.ts), so it may lag a few seconds there.
   */
  counts(): Promise<Record<State, number>>;

  /** Long jobs (rebalance, verify): one runs at a time across every master sharing the index. */
  readonly jobs: Jobs;

  /** Replaces the whole index from what the volumes hold (kvdb rebuild, kvdb migrate-index; masters stopped). */
  rebuild(): Promise<RebuildWriter>;
}

/** What one volume's catalog says of one replica. */
export interface Replica {
  size: number;
  md5: string;
  time: number;
  /** The S3 fields the volume keeps with it (keys/fields.ts). */
  fields?: ValueFields;
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
  /** Writes a key's record (one left in flight is finished or undone by the masters' janitors). */
  write(key: string, record: NewRecord): Promise<void>;
  /** Records a replica owed a delete. */
  owe(orphan: Orphan): Promise<void>;
  /** Makes all of it durable and drops what was staged. */
  finish(): Promise<void>;
}
