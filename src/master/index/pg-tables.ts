/**
 * The index's small tables (tables.ts: S3's buckets and uploads) in PostgreSQL:
 * one table, kvdb_entries (pg-schema.ts), of JSON documents keyed by table and id; ids
 * are bytea so that entries() pages in the byte order LevelDB keeps (level.ts).
 *
 * An S3 object's bucket against its deletion, across masters: a replace within an entry
 * share-locks its row in its transaction (share()), deleteIfNoKeys locks it for
 * update, then looks for keys. Whichever comes second waits for the first to commit,
 * then sees what it did: the delete sees the new key, or the replace finds no row.
 */
import type { Table, Tables, Within } from "./tables.ts";
import type { TransactionSql } from "postgres";
import { keyBytes, PAGE, pages, run, type Sql } from "./pg-connection.ts";

export class PgTables implements Tables {
  constructor(private readonly sql: Sql) {}

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    const [row] = await run(this.sql<{ body: T }[]>`SELECT body FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)}`);
    return row?.body;
  }

  async put(table: Table, id: string, value: object): Promise<void> {
    const body = this.sql.json(value as never);
    await run(this.sql`
      INSERT INTO kvdb_entries (tbl, id, body) VALUES (${table}, ${keyBytes(id)}, ${body})
      ON CONFLICT (tbl, id) DO UPDATE SET body = excluded.body`);
  }

  async delete(table: Table, id: string): Promise<void> {
    await run(this.sql`DELETE FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)}`);
  }

  /** Locks the entry's row against deleteIfNoKeys until `tx` ends; false if there is none. */
  static async share(tx: TransactionSql, { table, id }: Within): Promise<boolean> {
    const rows = await tx`SELECT 1 FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)} FOR SHARE`;
    return rows.length === 1;
  }

  async deleteIfNoKeys(table: Table, id: string, prefix: string): Promise<"deleted" | "absent" | "keys"> {
    return run(
      this.sql.begin(async (tx) => {
        const [entry] = await tx`SELECT 1 FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)} FOR UPDATE`;
        if (!entry) return "absent" as const;
        const [first] = await tx<{ key: Buffer }[]>`SELECT key FROM kvdb_keys WHERE key >= ${keyBytes(prefix)} ORDER BY key LIMIT 1`;
        if (first && first.key.toString("utf8").startsWith(prefix)) return "keys" as const;
        await tx`DELETE FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)}`;
        return "deleted" as const;
      }),
    );
  }

  async *entries<T>(table: Table, gte = ""): AsyncGenerator<[string, T]> {
    const { sql } = this;
    const rows = pages<{ id: Buffer; body: T }>((last) =>
      run(sql<{ id: Buffer; body: T }[]>`
        SELECT id, body FROM kvdb_entries
        WHERE tbl = ${table} AND ${last ? sql`id > ${last.id}` : sql`id >= ${keyBytes(gte)}`} ORDER BY id LIMIT ${PAGE}`),
    );
    for await (const r of rows) yield [r.id.toString("utf8"), r.body];
  }
}
