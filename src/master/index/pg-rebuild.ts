/**
 * Rebuilding (or migrating into) the index in PostgreSQL: replicas are staged in
 * kvdb_rebuild, read back in key order a page at a time, and records and orphans are
 * written in multi-row inserts of BATCH rows; nothing grows with the number of keys.
 */
import { firstVersion, type NewRecord, type Orphan, type RebuildWriter, type Replica } from "./index.ts";
import { keyBytes, PAGE, pages, run, type Sql } from "./pg-connection.ts";
import { fieldColumns } from "./pg-schema.ts";
import { groupByKey } from "./staging.ts";

const BATCH = 1000;

interface Staged {
  key: Buffer;
  volume: number;
  size: string;
  md5: string;
  written: string;
  fields: string | null;
}

/** Rows waiting to be inserted into one table, written BATCH at a time. */
function batcher<R extends Record<string, unknown>>(sql: Sql, table: string) {
  let rows: R[] = [];
  return async (row?: R) => {
    if (row) rows.push(row);
    if (rows.length >= BATCH || (!row && rows.length)) {
      const out = rows;
      rows = [];
      await run(sql`INSERT INTO ${sql(table)} ${sql(out as never)} ON CONFLICT DO NOTHING`);
    }
  };
}

/** `owner`: who owns records left in flight (the caller, whose lease ends when it stops: masters then finish them). */
export async function pgRebuild(sql: Sql, owner: string): Promise<RebuildWriter> {
  await run(sql`TRUNCATE kvdb_keys, kvdb_orphans, kvdb_rebuild`);
  // A replica's S3 fields (JSON text): the table is scratch space, emptied by every
  // rebuild, so the column is added here rather than by a schema version (pg-schema.ts).
  await run(sql`ALTER TABLE kvdb_rebuild ADD COLUMN IF NOT EXISTS fields text`);
  const stageRow = batcher(sql, "kvdb_rebuild");
  const keyRow = batcher(sql, "kvdb_keys");
  const orphanRow = batcher(sql, "kvdb_orphans");
  return {
    stage: (key: string, volume: number, r: Replica) => stageRow({ key: keyBytes(key), volume, size: r.size, md5: r.md5, written: r.time, fields: r.fields ? JSON.stringify(r.fields) : null }),
    async *staged() {
      await stageRow();
      const rows = pages<Staged>((last) =>
        run(sql`
          SELECT key, volume, size, md5, written, fields FROM kvdb_rebuild
          WHERE (key, volume) > (${last?.key ?? Buffer.alloc(0)}, ${last?.volume ?? -1}) ORDER BY key, volume LIMIT ${PAGE}`),
      );
      yield* groupByKey(
        (async function* () {
          for await (const r of rows) yield { key: r.key.toString("utf8"), volume: r.volume, replica: { size: Number(r.size), md5: r.md5, time: Number(r.written), ...(r.fields ? { fields: JSON.parse(r.fields) } : {}) } };
        })(),
      );
    },
    write: (key: string, r: NewRecord) =>
      keyRow({
        key: keyBytes(key),
        state: r.state,
        volumes: r.volumes,
        size: r.size,
        md5: r.md5,
        written: r.time,
        version: firstVersion(),
        owner: r.state === "writing" || r.state === "deleting" ? owner : null,
        ...fieldColumns(sql, r),
        owed: r.owed || null,
      }),
    owe: ({ volume, name }: Orphan) => orphanRow({ volume, key: keyBytes(name), since: Date.now() }),
    async finish() {
      await Promise.all([keyRow(), orphanRow()]);
      await run(sql`TRUNCATE kvdb_rebuild`);
    },
  };
}
