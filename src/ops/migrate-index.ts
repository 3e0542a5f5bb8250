/**
 * `kvdb migrate-index --from DIR --to postgres://…`: moves a LevelDB index into
 * PostgreSQL, offline (the master stopped: its LevelDB has one owner, and the target
 * must have no master running). Every record and every orphan is copied as it is
 * (writes or deletes a crash left in flight too: the masters' janitors finish them),
 * then both indexes are read again side by side and compared key for key. The small
 * tables (S3's buckets and uploads) are copied entry by entry and compared too.
 */
import type { Index, KeyRecord, Orphan } from "../master/index/index.ts";
import type { Table } from "../master/index/tables.ts";
import { indexKind, openIndex } from "../master/index/open.ts";
import { barLine, Bar } from "./progress.ts";

export interface MigrateResult {
  keys: number;
  orphans: number;
  seconds: number;
}

const SHOW_EVERY = 500;

/** What must be the same on both sides (the version restarts at 1). */
const same = (a: KeyRecord, b: KeyRecord) =>
  a.state === b.state &&
  a.size === b.size &&
  a.md5 === b.md5 &&
  a.time === b.time &&
  a.volumes.join(",") === b.volumes.join(",") &&
  a.blob === b.blob &&
  a.s3?.type === b.s3?.type &&
  a.s3?.etag === b.s3?.etag &&
  JSON.stringify(a.s3?.meta ?? null) === JSON.stringify(b.s3?.meta ?? null);

const TABLES: Table[] = ["buckets", "uploads", "credentials", "settings"];

/** A table entry as text to compare: jsonb does not keep the order of an object's names, so they are sorted on both sides. */
const entryText = ([id, value]: [string, unknown]) => `${id} ${JSON.stringify(value, (_, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v))}`;

/** Walks two ordered streams in step; the first difference, or "" if they hold the same. */
async function compare<T>(a: AsyncIterable<T>, b: AsyncIterable<T>, equal: (x: T, y: T) => boolean, name: (x: T) => string): Promise<string> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  for (;;) {
    const [x, y] = await Promise.all([ia.next(), ib.next()]);
    if (x.done && y.done) return "";
    if (x.done || y.done) return `${x.done ? "the target" : "the source"} has more: ${name((x.done ? y.value : x.value) as T)}`;
    if (!equal(x.value, y.value)) return `${name(x.value)} differs from ${name(y.value)}`;
  }
}

export async function migrateIndex(o: { from: string; to: string }, out: (line: string) => void = console.log): Promise<MigrateResult> {
  if (indexKind(o.from) !== "level") throw new Error("migrate-index: --from must be a LevelDB index directory");
  if (indexKind(o.to) !== "postgres") throw new Error("migrate-index: --to must be postgres://user@host:port/dbname");
  const t0 = performance.now();
  let from: Index;
  try {
    from = await openIndex(o.from);
  } catch (e) {
    throw new Error(`cannot open ${o.from} (is its master still running? stop it first): ${(e as Error).message}`);
  }
  const bar = new Bar();
  let to: Index | undefined;
  try {
    to = await openIndex(o.to);
    const writer = await to.rebuild();
    let keys = 0;
    let orphans = 0;
    for await (const [key, record] of from.scan()) {
      await writer.write(key, record);
      if (++keys % SHOW_EVERY === 0) bar.update(barLine("migrate-index", keys, 0, keys / ((performance.now() - t0) / 1000)));
    }
    for await (const orphan of from.orphans()) {
      await writer.owe(orphan);
      orphans++;
    }
    await writer.finish();
    let entries = 0;
    for (const table of TABLES) {
      for await (const [id, value] of from.tables.entries<object>(table)) {
        await to.tables.put(table, id, value);
        entries++;
      }
    }
    bar.clear();
    const records = await compare(from.scan(), to.scan(), ([ka, a], [kb, b]) => ka === kb && same(a, b), ([k, r]) => `${k} ${JSON.stringify(r)}`);
    const owed = await compare<Orphan>(from.orphans(), to.orphans(), (a, b) => a.volume === b.volume && a.name === b.name, (x) => `orphan ${x.name} on ${x.volume}`);
    let tables = "";
    for (const table of TABLES) {
      tables ||= await compare(from.tables.entries<unknown>(table), to.tables.entries<unknown>(table), (a, b) => entryText(a) === entryText(b), (x) => `${table} ${entryText(x)}`);
    }
    if (records || owed || tables) throw new Error(`migrate-index: the copy does not match: ${records || owed || tables}`);
    const seconds = (performance.now() - t0) / 1000;
    out(`migrate-index: ${keys} keys and ${orphans} orphans${entries ? ` (and ${entries} table entries: S3 buckets and uploads, client keys, settings)` : ""} copied from ${o.from} to ${to.location} and checked key for key in ${seconds.toFixed(1)} s`);
    return { keys, orphans, seconds };
  } finally {
    bar.clear();
    await from.close();
    await to?.close();
  }
}
