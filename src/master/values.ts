/**
 * The master's values API: what a layer above the master (the S3 API, src/s3/) may ask
 * of it. Values are put, assembled, read and purged whole; records are looked up and
 * scanned; the index's small tables are kept; keys are held. A layer above imports
 * nothing else from master/ (tests/layout.test.ts), so the index, the volume client
 * and the write path stay the master's own to change.
 */
import type { ValueFields } from "../keys/fields.ts";
import type { DeclaredLength } from "../wire/content-length.ts";
import type { KeyRecord, Sync } from "./index/index.ts";
import type { Tables, Within } from "./index/tables.ts";
import type { Job, JobBody } from "./jobs/job.ts";
import { runIfDue } from "./jobs/periodic.ts";
import type { KeyLocks } from "./locks.ts";
import type { Master } from "./master.ts";
import { readReplica } from "./read.ts";
import { purge } from "./replicas.ts";
import { assembleVersion, putVersion, type Piece, type Precondition } from "./versions.ts";

export type { Job, JobBody, KeyRecord, Piece, Precondition, Sync, Tables, Within };

/** The master's key locks, as a layer above holds keys of its own (a bucket, an upload) or the master's. */
export type Locks = Pick<KeyLocks, "hold" | "holdWhenFree">;

export interface Values {
  /** The key's record, any state. */
  get(key: string): Sync<KeyRecord | undefined>;
  /** Records in key order (bytes of the UTF-8 key) from `gte`, streamed; close the iterator to stop early. */
  scan(gte?: string): AsyncIterableIterator<[string, KeyRecord]>;
  /** The index's small tables (S3's buckets and uploads): index/tables.ts. */
  readonly tables: Tables;
  /** The master's key locks: a key held here waits for, and keeps waiting, the master's own writes and deletes of it. */
  readonly locks: Locks;
  /** Largest value accepted, in bytes (--max-size); undefined: no limit. */
  readonly maxSize?: number;
  /**
   * Stores `body` as the key's new value, replacing any current one atomically
   * (versions.ts putVersion): `check` may refuse what arrived before it becomes
   * visible; with `within`, that entry must still exist then; `precondition` is checked
   * against the key's current record in the same compare-and-set that switches the value in.
   * `fields` are read again then, after `check`: a check may complete them (S3 keeps a
   * checksum sent in the body's trailer), though the volumes were handed them at the start.
   */
  put(key: string, declared: DeclaredLength, body: AsyncIterable<Uint8Array> | null, fields: ValueFields, check?: (w: { size: number; md5: string }) => void, within?: Within, precondition?: Precondition): Promise<KeyRecord>;
  /** Makes the key's new value from `pieces` on the volumes themselves, then switches it in as put does (versions.ts assembleVersion). */
  assemble(key: string, pieces: Piece[], fields: ValueFields, within?: Within, precondition?: Precondition): Promise<KeyRecord>;
  /** The answer of a healthy replica to a GET or HEAD of the value (`ask`: Range and the like), its body streaming; undefined if none answered. */
  read(key: string, record: KeyRecord, method: string, ask: Record<string, string>): Promise<Response | undefined>;
  /** Deletes the key's record and replicas (the caller holds the key); false if the record changed meanwhile (nothing done). */
  purge(key: string, record: KeyRecord): Promise<boolean>;
  /**
   * Runs `body` as the master's lifecycle job, once per `everyMs` across the masters
   * sharing the index, unless another job runs (jobs/periodic.ts); its tallies and
   * summary are reported as every job's (GET /_kvdb/jobs, metrics, the status page).
   */
  runLifecycle(everyMs: number, body: JobBody): Promise<void>;
}

/** The values API of master `m`. */
export function valuesOf(m: Master): Values {
  return {
    get: (key) => m.index.get(key),
    scan: (gte) => m.index.scan(gte),
    tables: m.index.tables,
    locks: m.locks,
    maxSize: m.maxSize,
    put: (key, declared, body, fields, check, within, precondition) => putVersion(m, key, declared, body, fields, check, within, precondition),
    assemble: (key, pieces, fields, within, precondition) => assembleVersion(m, key, pieces, fields, within, precondition),
    read: (key, record, method, ask) => readReplica(m, key, record, method, ask),
    purge: async (key, record) => (await purge(m, key, record)) !== undefined,
    runLifecycle: (everyMs, body) => runIfDue(m.jobs, "lifecycle", everyMs, body),
  };
}
