/**
 * Opening the index a master, `kvdb rebuild` or `kvdb migrate-index` was pointed at:
 * a directory is the embedded LevelDB; postgres://user@host:port/dbname is PostgreSQL.
 * Any other URL is refused (it used to become a directory named after its scheme).
 */
import { resolve } from "node:path";
import type { Index } from "./index.ts";
import { LevelIndex } from "./level.ts";
import { isPostgresUrl } from "./pg-connection.ts";
import { PostgresIndex } from "./postgres.ts";

export interface OpenOptions {
  /** PostgreSQL: how long this process's lease lasts without renewal (pg-lease.ts). */
  leaseSeconds?: number;
}

/** Which store `location` names; throws, saying what is accepted, for a URL kvdb cannot use. */
export function indexKind(location: string): "level" | "postgres" {
  if (isPostgresUrl(location)) return "postgres";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1];
  if (scheme) throw new Error(`db: kvdb cannot use a ${scheme}:// URL; give a directory (LevelDB) or postgres://user@host:port/dbname`);
  return "level";
}

export async function openIndex(location: string, o: OpenOptions = {}): Promise<Index> {
  const index = indexKind(location) === "postgres" ? new PostgresIndex(location, o.leaseSeconds) : new LevelIndex(resolve(location));
  await index.open();
  return index;
}
