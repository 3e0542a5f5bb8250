/**
 * The index's tables in PostgreSQL, versioned: kvdb_meta holds the schema version, and
 * each release applies the migrations it knows beyond it (in one transaction, one
 * master at a time). A database whose version is newer than this kvdb knows is refused.
 *
 * Portable on purpose to the PostgreSQL-compatible distributed databases (CockroachDB,
 * YugabyteDB; docs/PERFORMANCE.md): keys are bytea (byte order needs no collation),
 * no sequences or serial ids, no triggers, no stored procedures; times are compared
 * with the database's own now(), never a master's clock.
 */
import type { NewRecord } from "./index.ts";
import { keyBytes, type Sql } from "./pg-connection.ts";

/** The version this kvdb writes and reads. */
export const SCHEMA_VERSION = 4;

const MIGRATIONS: Record<number, string[]> = {
  1: [
    `CREATE TABLE kvdb_keys (
      key bytea PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('writing', 'live', 'unlinked', 'deleting')),
      volumes text[] NOT NULL,
      size bigint NOT NULL,
      md5 text NOT NULL,
      written bigint NOT NULL,
      version bigint NOT NULL,
      owner text
    )`,
    // The janitor's question (what is owned, by whom) reads only owned records.
    `CREATE INDEX kvdb_keys_owned ON kvdb_keys (key) WHERE owner IS NOT NULL`,
    `CREATE TABLE kvdb_orphans (volume text NOT NULL, key bytea NOT NULL, since bigint NOT NULL, PRIMARY KEY (volume, key))`,
    `CREATE TABLE kvdb_masters (id text PRIMARY KEY, expires timestamptz NOT NULL)`,
    `CREATE TABLE kvdb_jobs (id text PRIMARY KEY, state text NOT NULL, owner text NOT NULL, started timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)`,
    // One job runs at a time across every master.
    `CREATE UNIQUE INDEX kvdb_jobs_one_running ON kvdb_jobs (state) WHERE state = 'running'`,
    `CREATE TABLE kvdb_rebuild (key bytea NOT NULL, volume int NOT NULL, size bigint NOT NULL, md5 text NOT NULL, written bigint NOT NULL, PRIMARY KEY (key, volume))`,
  ],
  // S3 (index.ts): a record's replica name, Content-Type, user metadata and ETag; the
  // small tables (buckets, uploads) as JSON documents, ids as bytea for byte order.
  2: [
    `ALTER TABLE kvdb_keys ADD COLUMN blob bytea, ADD COLUMN type text, ADD COLUMN meta jsonb, ADD COLUMN etag text`,
    `CREATE TABLE kvdb_entries (tbl text NOT NULL, id bytea NOT NULL, body jsonb NOT NULL, PRIMARY KEY (tbl, id))`,
  ],
  // A direct write's terms while it is in flight (index.ts: KeyRecord.direct).
  3: [`ALTER TABLE kvdb_keys ADD COLUMN direct jsonb`],
  // Replicas a record is still owed (index.ts: KeyRecord.owed); the janitor reads only those records.
  4: [`ALTER TABLE kvdb_keys ADD COLUMN owed int`, `CREATE INDEX kvdb_keys_owed ON kvdb_keys (key) WHERE owed IS NOT NULL`],
};

/** A database written by a newer kvdb. */
export class NewerSchema extends Error {}

/** Creates or migrates the schema (to `target`: an older version only in tests of a migration); refuses a newer one. */
export async function migrate(sql: Sql, where: string, target = SCHEMA_VERSION): Promise<void> {
  await sql.begin(async (tx) => {
    // Masters starting together would race to create the same tables.
    await tx`SELECT pg_advisory_xact_lock(7240917)`;
    await tx`CREATE TABLE IF NOT EXISTS kvdb_meta (name text PRIMARY KEY, value text NOT NULL)`;
    const [row] = await tx<{ value: string }[]>`SELECT value FROM kvdb_meta WHERE name = 'schema'`;
    const found = row ? Number(row.value) : 0;
    if (found > SCHEMA_VERSION) {
      throw new NewerSchema(
        `the index at ${where} has schema version ${found}, newer than this kvdb's (${SCHEMA_VERSION}): upgrade kvdb, or point it at another database`,
      );
    }
    for (let v = found + 1; v <= target; v++) for (const statement of MIGRATIONS[v]) await tx.unsafe(statement);
    if (found < target) {
      await tx`INSERT INTO kvdb_meta (name, value) VALUES ('schema', ${String(target)})
               ON CONFLICT (name) DO UPDATE SET value = excluded.value`;
    }
  });
}

/** A record's replica name and S3 fields as the columns migration 2 added hold them (null when absent: every row has the same columns). */
export function fieldColumns(sql: Sql, r: NewRecord) {
  return {
    blob: r.blob === undefined ? null : keyBytes(r.blob),
    type: r.s3?.type ?? null,
    meta: r.s3?.meta ? sql.json(r.s3.meta) : null,
    etag: r.s3?.etag ?? null,
  };
}
