/**
 * The index's small tables (index.ts: Table, S3's buckets and uploads) in PostgreSQL:
 * one table, kvdb_entries (pg-schema.ts), of JSON documents keyed by table and id; ids
 * are bytea so that entries() pages in the byte order LevelDB keeps (level.ts).
 */
import type { Table } from "./index.ts";
import { keyBytes, PAGE, pages, run, type Sql } from "./pg-connection.ts";

export class PgTables {
  constructor(private readonly sql: Sql) {}

  async entry<T>(table: Table, id: string): Promise<T | undefined> {
    const [row] = await run(this.sql<{ body: T }[]>`SELECT body FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)}`);
    return row?.body;
  }

  async putEntry(table: Table, id: string, value: object): Promise<void> {
    const body = this.sql.json(value as never);
    await run(this.sql`
      INSERT INTO kvdb_entries (tbl, id, body) VALUES (${table}, ${keyBytes(id)}, ${body})
      ON CONFLICT (tbl, id) DO UPDATE SET body = excluded.body`);
  }

  async deleteEntry(table: Table, id: string): Promise<void> {
    await run(this.sql`DELETE FROM kvdb_entries WHERE tbl = ${table} AND id = ${keyBytes(id)}`);
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
