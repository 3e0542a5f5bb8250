/**
 * The index in PostgreSQL (14+), shared by any number of masters (pg-schema.ts has the
 * tables). Each verb of index.ts is one statement: a compare-and-set is an UPDATE or
 * DELETE … WHERE key = $1 AND version = $2, and a create is INSERT … ON CONFLICT DO
 * NOTHING, so the database decides which of two masters' changes wins. A change that
 * touches orphans too is one statement with data-modifying CTEs (atomic, one round
 * trip); replace, a compare-and-set on two records, is one transaction. Scans page by
 * key (keyset), so no listing holds a connection or a cursor. The small tables are in
 * pg-tables.ts.
 */
import { firstVersion, type DirectTerms, type Index, type KeyRecord, type NewRecord, type Orphan, type RebuildWriter, type State } from "./index.ts";
import { connect, keyBytes, PAGE, pages, redacted, run, unavailable, type Sql } from "./pg-connection.ts";
import { PgJobs } from "./pg-jobs.ts";
import { MasterLease, ownerAlive } from "./pg-lease.ts";
import { pgRebuild } from "./pg-rebuild.ts";
import { fieldColumns, migrate, NewerSchema } from "./pg-schema.ts";
import { PgTables } from "./pg-tables.ts";
import { entryGone, type Within } from "./tables.ts";
import { Refreshed } from "./refreshed.ts";
import { noCounts } from "./state-counts.ts";
import { someFields } from "../../keys/fields.ts";
import { storedName } from "../../keys/names.ts";

const inFlight = (state: State) => state === "writing" || state === "deleting";

interface Row {
  key: Buffer;
  state: State;
  volumes: string[];
  size: string;
  md5: string;
  written: string;
  version: string;
  blob: Buffer | null;
  type: string | null;
  meta: Record<string, string> | null;
  etag: string | null;
  direct: DirectTerms | null;
  owed: number | null;
  busy?: boolean;
}

function recordOf(r: Row): KeyRecord {
  const record: KeyRecord = { state: r.state, volumes: r.volumes, size: Number(r.size), md5: r.md5, time: Number(r.written), version: Number(r.version) };
  if (r.blob) record.blob = r.blob.toString("utf8");
  const s3 = someFields({ type: r.type ?? undefined, meta: r.meta ?? undefined, etag: r.etag || undefined });
  if (s3) record.s3 = s3;
  if (r.direct) record.direct = r.direct;
  if (r.owed) record.owed = r.owed;
  if (r.busy) record.busy = true;
  return record;
}

export class PostgresIndex implements Index {
  private readonly sql: Sql;
  private readonly lease: MasterLease;
  readonly tables: PgTables;
  readonly jobs: PgJobs;
  readonly location: string;

  constructor(url: string, leaseSeconds?: number) {
    this.sql = connect(url);
    this.location = redacted(url);
    this.lease = new MasterLease(this.sql, leaseSeconds);
    this.jobs = new PgJobs(this.sql, this.lease.id);
    this.tables = new PgTables(this.sql);
  }

  /** A record's columns beyond the first ones, as query parameters: S3's (pg-schema.ts) and a direct write's terms. */
  private columns(r: NewRecord) {
    return { ...fieldColumns(this.sql, r), direct: r.direct ? this.sql.json({ ...r.direct }) : null, owed: r.owed || null };
  }

  private get me(): string {
    return this.lease.id;
  }

  async open(): Promise<void> {
    try {
      await migrate(this.sql, this.location);
      await this.lease.start();
    } catch (e) {
      await this.sql.end({ timeout: 1 });
      if (e instanceof NewerSchema) throw e;
      throw new Error(`cannot open the index at ${this.location}: ${unavailable(e).message.replace(/^index unavailable: /, "")}`);
    }
  }

  async close(): Promise<void> {
    await this.lease.stop();
    await this.sql.end({ timeout: 5 });
  }

  leaseCheck(): () => boolean {
    return this.lease.check();
  }

  readonly readsAtOnce = false;

  async get(key: string): Promise<KeyRecord | undefined> {
    const { sql } = this;
    const [row] = await run(sql<Row[]>`
      SELECT state, volumes, size, md5, written, version, blob, type, meta, etag, direct, owed,
             (k.owner IS NOT NULL AND k.owner <> ${this.me} AND ${ownerAlive(sql)}) AS busy
      FROM kvdb_keys k WHERE key = ${keyBytes(key)}`);
    return row && recordOf(row);
  }

  async create(key: string, r: NewRecord): Promise<KeyRecord | undefined> {
    const f = this.columns(r);
    const version = firstVersion();
    const [row] = await run(this.sql`
      INSERT INTO kvdb_keys (key, state, volumes, size, md5, written, version, owner, blob, type, meta, etag, direct)
      VALUES (${keyBytes(key)}, ${r.state}, ${r.volumes}::text[], ${r.size}, ${r.md5}, ${r.time}, ${version}, ${inFlight(r.state) ? this.me : null},
              ${f.blob}, ${f.type}, ${f.meta}, ${f.etag}, ${f.direct})
      ON CONFLICT (key) DO NOTHING RETURNING version`);
    return row ? { ...r, version } : undefined;
  }

  async commit(key: string, current: KeyRecord, r: NewRecord, failed: string[] = []): Promise<KeyRecord | undefined> {
    const { sql } = this;
    const k = keyBytes(key);
    const name = keyBytes(storedName(key, r));
    const f = this.columns(r);
    const [row] = await run(sql`
      WITH k AS (
        UPDATE kvdb_keys SET state = ${r.state}, volumes = ${r.volumes}::text[], size = ${r.size}, md5 = ${r.md5},
                             written = ${r.time}, version = version + 1, owner = NULL,
                             blob = ${f.blob}, type = ${f.type}, meta = ${f.meta}, etag = ${f.etag}, direct = ${f.direct}, owed = ${f.owed}
        WHERE key = ${k} AND version = ${current.version} RETURNING version),
      forgiven AS (DELETE FROM kvdb_orphans WHERE key = ${name} AND volume = ANY(${r.volumes}::text[]) AND EXISTS (SELECT 1 FROM k)),
      ${this.owing(name, failed)}
      SELECT version FROM k`);
    return row ? { ...r, version: Number(row.version) } : undefined;
  }

  async setState(key: string, current: KeyRecord, state: State): Promise<KeyRecord | undefined> {
    const [row] = await run(this.sql`
      UPDATE kvdb_keys SET state = ${state}, version = version + 1, owner = ${inFlight(state) ? this.me : null}
      WHERE key = ${keyBytes(key)} AND version = ${current.version} RETURNING version`);
    return row ? { ...current, busy: undefined, state, version: Number(row.version) } : undefined;
  }

  async claim(key: string, current: KeyRecord): Promise<KeyRecord | undefined> {
    const [row] = await run(this.sql`
      UPDATE kvdb_keys SET version = version + 1, owner = ${this.me}
      WHERE key = ${keyBytes(key)} AND version = ${current.version} RETURNING version`);
    return row ? { ...current, busy: undefined, version: Number(row.version) } : undefined;
  }

  /** The CTE that makes the replicas named `name` on `volumes` orphans, if the statement's `k` changed a record. */
  private owing(name: Buffer, volumes: string[]) {
    return this.sql`owing AS (
        INSERT INTO kvdb_orphans (volume, key, since)
        SELECT v, ${name}, ${Date.now()} FROM unnest(${volumes}::text[]) AS v WHERE EXISTS (SELECT 1 FROM k)
        ON CONFLICT DO NOTHING)`;
  }

  async relocate(key: string, current: KeyRecord, volumes: string[], owed: string[], short?: number): Promise<KeyRecord | undefined> {
    const { sql } = this;
    const k = keyBytes(key);
    const name = keyBytes(storedName(key, current));
    const [row] = await run(sql`
      WITH k AS (
        UPDATE kvdb_keys SET volumes = ${volumes}::text[], version = version + 1, owner = NULL, owed = ${short || null}
        WHERE key = ${k} AND version = ${current.version} RETURNING version),
      forgiven AS (DELETE FROM kvdb_orphans WHERE key = ${name} AND volume = ANY(${volumes}::text[]) AND EXISTS (SELECT 1 FROM k)),
      ${this.owing(name, owed)}
      SELECT version FROM k`);
    return row ? { ...current, busy: undefined, volumes, version: Number(row.version), owed: short || undefined } : undefined;
  }

  async drop(key: string, current: KeyRecord, owed: string[]): Promise<boolean> {
    const { sql } = this;
    const k = keyBytes(key);
    const [row] = await run(sql`
      WITH k AS (DELETE FROM kvdb_keys WHERE key = ${k} AND version = ${current.version} RETURNING 1),
      ${this.owing(keyBytes(storedName(key, current)), owed)}
      SELECT count(*)::int AS n FROM k`);
    return row.n === 1;
  }

  async replace(key: string, current: KeyRecord | undefined, r: NewRecord, staged: { key: string; record: KeyRecord }, owed: Orphan[], within?: Within): Promise<KeyRecord | undefined> {
    const k = keyBytes(key);
    const f = this.columns(r);
    let lost = false;
    try {
      const version = await run(
        this.sql.begin(async (tx) => {
          // The entry, share-locked until the commit: tables.deleteIfNoKeys (pg-tables.ts) waits for it.
          if (within && !(await PgTables.share(tx, within))) throw entryGone(within);
          const [gone] = await tx`DELETE FROM kvdb_keys WHERE key = ${keyBytes(staged.key)} AND version = ${staged.record.version} RETURNING 1`;
          const [row] = !gone
            ? []
            : current
              ? await tx`
                  UPDATE kvdb_keys SET state = ${r.state}, volumes = ${r.volumes}::text[], size = ${r.size}, md5 = ${r.md5},
                                       written = ${r.time}, version = version + 1, owner = NULL,
                                       blob = ${f.blob}, type = ${f.type}, meta = ${f.meta}, etag = ${f.etag}, direct = ${f.direct}, owed = ${f.owed}
                  WHERE key = ${k} AND version = ${current.version} RETURNING version`
              : await tx`
                  INSERT INTO kvdb_keys (key, state, volumes, size, md5, written, version, owner, blob, type, meta, etag, owed)
                  VALUES (${k}, ${r.state}, ${r.volumes}::text[], ${r.size}, ${r.md5}, ${r.time}, ${firstVersion()}, NULL, ${f.blob}, ${f.type}, ${f.meta}, ${f.etag}, ${f.owed})
                  ON CONFLICT (key) DO NOTHING RETURNING version`;
          if (!row) {
            lost = true;
            throw new Error("replace lost its compare-and-set"); // rolls the staged record's delete back
          }
          await tx`DELETE FROM kvdb_orphans WHERE key = ${keyBytes(storedName(key, r))} AND volume = ANY(${r.volumes}::text[])`;
          for (const o of owed) {
            await tx`INSERT INTO kvdb_orphans (volume, key, since) VALUES (${o.volume}, ${keyBytes(o.name)}, ${Date.now()}) ON CONFLICT DO NOTHING`;
          }
          return Number(row.version);
        }),
      );
      return { ...r, version };
    } catch (e) {
      if (lost) return undefined;
      throw e;
    }
  }

  async *abandoned(): AsyncGenerator<string> {
    const { sql } = this;
    const rows = pages<{ key: Buffer }>((last) =>
      run(sql`
        SELECT key FROM kvdb_keys k
        WHERE owner IS NOT NULL AND key > ${last?.key ?? Buffer.alloc(0)} AND (owner = ${this.me} OR NOT ${ownerAlive(sql)})
        ORDER BY key LIMIT ${PAGE}`),
    );
    for await (const r of rows) yield r.key.toString("utf8");
  }

  /**
   * Only a record still owned: the janitor lists keys from a page read earlier, and a
   * write that has ended since (owner cleared by its commit) must keep its version, or a
   * client's DELETE that read it would meet 409.
   */
  async settle(key: string, current: KeyRecord): Promise<void> {
    await run(this.sql`UPDATE kvdb_keys SET owner = NULL, version = version + 1 WHERE key = ${keyBytes(key)} AND version = ${current.version} AND owner IS NOT NULL`);
  }

  async *orphans(): AsyncGenerator<Orphan> {
    const { sql } = this;
    const rows = pages<{ volume: string; key: Buffer }>((last) =>
      run(sql`
        SELECT volume, key FROM kvdb_orphans WHERE (volume, key) > (${last?.volume ?? ""}, ${last?.key ?? Buffer.alloc(0)})
        ORDER BY volume, key LIMIT ${PAGE}`),
    );
    for await (const r of rows) yield { volume: r.volume, name: r.key.toString("utf8") };
  }

  async *underReplicated(): AsyncGenerator<string> {
    const { sql } = this;
    const rows = pages<{ key: Buffer }>((last) =>
      run(sql`SELECT key FROM kvdb_keys WHERE owed IS NOT NULL AND key > ${last?.key ?? Buffer.alloc(0)} ORDER BY key LIMIT ${PAGE}`),
    );
    for await (const r of rows) yield r.key.toString("utf8");
  }

  async forgetOrphan({ volume, name }: Orphan): Promise<void> {
    await run(this.sql`DELETE FROM kvdb_orphans WHERE volume = ${volume} AND key = ${keyBytes(name)}`);
  }

  async *scan(gte = ""): AsyncGenerator<[string, KeyRecord]> {
    const { sql } = this;
    const rows = pages<Row>((last) =>
      run(sql`
        SELECT key, state, volumes, size, md5, written, version, blob, type, meta, etag, direct, owed FROM kvdb_keys
        WHERE ${last ? sql`key > ${last.key}` : sql`key >= ${keyBytes(gte)}`} ORDER BY key LIMIT ${PAGE}`),
    );
    for await (const r of rows) yield [r.key.toString("utf8"), recordOf(r)];
  }

  async count(): Promise<number> {
    const [row] = await run(this.sql<{ n: string }[]>`SELECT count(*) AS n FROM kvdb_keys`);
    return Number(row.n);
  }

  /**
   * Counted by the database (one GROUP BY, no row leaves it) and refreshed in the
   * background: a counts row that every write updated would make every PUT of every
   * master wait on the same row.
   */
  counts(): Promise<Record<State, number>> {
    return this.stateCounts.get();
  }

  private readonly stateCounts = new Refreshed(async () => {
    const rows = await run(this.sql<{ state: State; n: string }[]>`SELECT state, count(*) AS n FROM kvdb_keys GROUP BY state`);
    const counts = noCounts();
    for (const r of rows) counts[r.state] = Number(r.n);
    return counts;
  });

  async rebuild(): Promise<RebuildWriter> {
    const { sql } = this;
    const [row] = await run(sql<{ n: number }[]>`SELECT count(*)::int AS n FROM kvdb_masters WHERE expires > now() AND id <> ${this.me}`);
    if (row.n) throw new Error(`${row.n} master(s) still running on ${this.location}: stop them first`);
    return pgRebuild(sql, this.me);
  }
}
