/**
 * The index's small tables: documents kept beside the records, each table keyed by its
 * own ids (S3's buckets and multipart uploads, client keys, the index's own settings:
 * auth/upgrade.ts), as Index.tables offers them. One
 * implementation per store: level-tables.ts (LevelDB), pg-tables.ts (PostgreSQL).
 */
import { KvdbError } from "../../errors.ts";

export type Table = "buckets" | "uploads" | "credentials" | "settings";

/** An entry a replace needs (index.ts: Index.replace). */
export interface Within {
  table: Table;
  id: string;
}

/** The error of a replace whose entry is gone (an S3 bucket deleted meanwhile): nothing was changed. */
export const entryGone = (within: Within) => new KvdbError("gone", `${within.table} entry ${JSON.stringify(within.id)} is gone`);

export interface Tables {
  /** An entry of a table (without a promise from an embedded store's cache). */
  get<T>(table: Table, id: string): T | undefined | Promise<T | undefined>;
  /** Writes an entry, durably. */
  put(table: Table, id: string, value: object): Promise<void>;
  /** Deletes an entry, durably (nothing if absent). */
  delete(table: Table, id: string): Promise<void>;
  /**
   * Deletes an entry, durably, only if no key starts with `prefix` (an S3 bucket and its
   * objects), in one step against every replace `within` it on any master: none can
   * make a key under the prefix after the check and before the delete.
   */
  deleteIfNoKeys(table: Table, id: string, prefix: string): Promise<"deleted" | "absent" | "keys">;
  /** Entries in id order (bytes of the UTF-8 id) from `gte`, streamed; close the iterator to stop early. */
  entries<T>(table: Table, gte?: string): AsyncIterableIterator<[string, T]>;
}
