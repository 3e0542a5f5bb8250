/**
 * The index's S3 additions (src/master/index/index.ts: the record's blob and its s3
 * fields: type, meta, etag; orphans named by the replica's name; replace; the buckets and uploads
 * tables), the same on both stores: LevelDB (level.ts) and PostgreSQL (postgres.ts),
 * a real server (harness/postgres.ts). And a PostgreSQL index of schema version 1 (before S3)
 * migrates in place and keeps its records.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "../harness/paths.ts";
import type { Index, KeyRecord, NewRecord, Orphan } from "../src/master/index/index.ts";
import { LevelIndex } from "../src/master/index/level.ts";
import { connect } from "../src/master/index/pg-connection.ts";
import { migrate, SCHEMA_VERSION } from "../src/master/index/pg-schema.ts";
import { PostgresIndex } from "../src/master/index/postgres.ts";
import { freshDatabase, startPostgres, type Postgres } from "../harness/postgres.ts";

let pg: Postgres;
const dir = tempDir("kvdb-index-s3");

test.before(async () => {
  pg = await startPostgres();
});

test.after(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

const STORES: [string, () => Index][] = [
  ["LevelDB", () => new LevelIndex(join(dir, `level-${Math.random().toString(36).slice(2)}`))],
  ["PostgreSQL", () => new PostgresIndex(freshDatabase(pg))],
];

async function withIndex(open: () => Index, fn: (index: Index) => Promise<void>): Promise<void> {
  const index = open();
  await index.open();
  try {
    await fn(index);
  } finally {
    await index.close();
  }
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const sortOrphans = (o: Orphan[]) => o.map((x) => `${x.volume} ${x.name}`).sort();
const writing = (volumes: string[]): NewRecord => ({ state: "writing", volumes, size: 0, md5: "", time: 1 });

/** Writes a value of `key` under the version name `name`, as versions.ts does, and switches it in. */
async function putVersion(index: Index, key: string, name: string, fields: Partial<NewRecord>, current: KeyRecord | undefined): Promise<KeyRecord | undefined> {
  const staged = await index.create(name, writing(["v1", "v2"]));
  assert.ok(staged, `create ${name}`);
  const owed = current ? current.volumes.map((volume) => ({ volume, name: current.blob ?? key })) : [];
  const live: NewRecord = { state: "live", volumes: ["v1", "v2"], size: 5, md5: "md5-" + name, time: 2, blob: name, ...fields };
  return index.replace(key, current, live, { key: name, record: staged! }, owed);
}

for (const [store, open] of STORES) {
  test(`${store}: replace switches a key to a value stored under a version name, as a compare-and-set on both records`, () =>
    withIndex(open, async (index) => {
      const first = await putVersion(index, "/b/k", "/_kvdb/v/1/b/k", { s3: { type: "text/plain", meta: { color: "blue" } } }, undefined);
      assert.ok(first);
      assert.equal(
        { ...(await index.get("/b/k"))!, busy: undefined },
        { state: "live", volumes: ["v1", "v2"], size: 5, md5: "md5-/_kvdb/v/1/b/k", time: 2, blob: "/_kvdb/v/1/b/k", s3: { type: "text/plain", meta: { color: "blue" } }, version: first!.version, busy: undefined },
      );
      assert.is(await index.get("/_kvdb/v/1/b/k"), undefined, "the staged record is gone");
      assert.equal(await all(index.abandoned()), [], "nothing left in flight");

      // A second value: the first one's replicas are owed a delete, under their own name.
      const second = await putVersion(index, "/b/k", "/_kvdb/v/2/b/k", { s3: { etag: "abc-2" } }, first);
      assert.ok(second);
      assert.ok(second!.version > first!.version);
      const now = (await index.get("/b/k"))!;
      assert.is(now.blob, "/_kvdb/v/2/b/k");
      assert.equal(now.s3, { etag: "abc-2" }, "fields are the new value's alone");
      assert.equal(sortOrphans(await all(index.orphans())), ["v1 /_kvdb/v/1/b/k", "v2 /_kvdb/v/1/b/k"]);

      // Stale: the key changed since `first` was read. Nothing changes, the staged record stays.
      const stale = await index.create("/_kvdb/v/3/b/k", writing(["v1"]));
      const lost = await index.replace("/b/k", first, { state: "live", volumes: ["v1"], size: 1, md5: "x", time: 3, blob: "/_kvdb/v/3/b/k" }, { key: "/_kvdb/v/3/b/k", record: stale! }, []);
      assert.is(lost, undefined);
      assert.is((await index.get("/b/k"))!.blob, "/_kvdb/v/2/b/k");
      assert.is((await index.get("/_kvdb/v/3/b/k"))!.state, "writing");
      // Stale the other way: a key that has a record, replaced as if it had none.
      assert.is(await index.replace("/b/k", undefined, { state: "live", volumes: ["v1"], size: 1, md5: "x", time: 3 }, { key: "/_kvdb/v/3/b/k", record: stale! }, []), undefined);
      // Stale staged record: its version moved on.
      const moved = await index.setState("/_kvdb/v/3/b/k", stale!, "deleting");
      assert.ok(moved);
      assert.is(await index.replace("/b/k", now, { state: "live", volumes: ["v1"], size: 1, md5: "x", time: 3 }, { key: "/_kvdb/v/3/b/k", record: stale! }, []), undefined);
      assert.is((await index.get("/b/k"))!.blob, "/_kvdb/v/2/b/k");
    }));

  test(`${store}: drop, relocate and commit name orphans by the record's blob`, () =>
    withIndex(open, async (index) => {
      const rec = await putVersion(index, "/b/o", "/_kvdb/v/9/b/o", {}, undefined);
      const moved = await index.relocate("/b/o", rec!, ["v2", "v3"], ["v1"]);
      assert.ok(moved);
      assert.equal(sortOrphans(await all(index.orphans())), ["v1 /_kvdb/v/9/b/o"]);
      const deleting = await index.setState("/b/o", moved!, "deleting");
      assert.ok(await index.drop("/b/o", deleting!, ["v3"]));
      assert.equal(sortOrphans(await all(index.orphans())), ["v1 /_kvdb/v/9/b/o", "v3 /_kvdb/v/9/b/o"]);
      // A value written again under that name onto v1 is no longer owed a delete there.
      const again = await index.create("/b/o", { ...writing(["v1"]), blob: "/_kvdb/v/9/b/o" });
      assert.ok(await index.commit("/b/o", again!, { state: "live", volumes: ["v1"], size: 1, md5: "m", time: 4, blob: "/_kvdb/v/9/b/o", s3: { etag: "e" } }));
      assert.equal(sortOrphans(await all(index.orphans())), ["v3 /_kvdb/v/9/b/o"]);
      const scanned = await all(index.scan("/b/o"));
      assert.equal(
        scanned.map(([k, r]) => [k, r.blob, r.s3?.etag]),
        [["/b/o", "/_kvdb/v/9/b/o", "e"]],
      );
    }));

  test(`${store}: a dropped key is gone at once: get, scan, a new create, its bucket's emptiness`, () =>
    withIndex(open, async (index) => {
      await index.tables.put("buckets", "d", { created: 1 });
      const rec = await putVersion(index, "/d/k", "/_kvdb/v/1/d/k", {}, undefined);
      const deleting = await index.setState("/d/k", rec!, "deleting");
      // A synced batch in flight, so that LevelDB's drop waits behind it, unwritten.
      const busy = index.tables.put("buckets", "e", { created: 2 });
      assert.ok(await index.drop("/d/k", deleting!, []));
      const [got, scanned, emptied] = await Promise.all([index.get("/d/k"), all(index.scan("/d/")), index.tables.deleteIfNoKeys("buckets", "d", "/d/")]);
      await busy;
      assert.is(got, undefined);
      assert.equal(scanned, []);
      assert.is(emptied, "deleted");
      const again = await index.create("/d/k", writing(["v1"]));
      assert.ok(again);
      assert.is((await index.get("/d/k"))!.state, "writing");
      assert.is(await index.drop("/d/k", deleting!, []), false); // the old record's version is gone
    }));

  test(`${store}: tables keep JSON entries by id, listed in byte order from gte`, () =>
    withIndex(open, async (index) => {
      assert.is(await index.tables.get("buckets", "a"), undefined);
      await index.tables.put("buckets", "b", { created: 2 });
      await index.tables.put("buckets", "a", { created: 1, region: "eu-west-1" });
      await index.tables.put("buckets", "é", { created: 3 });
      await index.tables.put("uploads", "u1", { key: "/a/x", parts: [1, 2] });
      await index.tables.put("buckets", "b", { created: 22 }); // overwritten
      assert.equal(await index.tables.get("buckets", "a"), { created: 1, region: "eu-west-1" });
      assert.equal(await all(index.tables.entries("buckets")), [
        ["a", { created: 1, region: "eu-west-1" }],
        ["b", { created: 22 }],
        ["é", { created: 3 }],
      ]);
      assert.equal(await all(index.tables.entries("buckets", "b")), [["b", { created: 22 }], ["é", { created: 3 }]]);
      assert.equal(await all(index.tables.entries("uploads")), [["u1", { key: "/a/x", parts: [1, 2] }]]);
      await index.tables.delete("buckets", "b");
      await index.tables.delete("buckets", "nothing");
      assert.equal((await all(index.tables.entries("buckets"))).map(([id]) => id), ["a", "é"]);
    }));
}

test("PostgreSQL: an index of schema version 1 migrates to the S3 schema and keeps its records", async () => {
  const url = freshDatabase(pg);
  const sql = connect(url);
  try {
    await migrate(sql, url, 1);
    await sql`INSERT INTO kvdb_keys (key, state, volumes, size, md5, written, version) VALUES (${Buffer.from("/old")}, 'live', ${["v1"]}::text[], 3, 'abc', 7, 4)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  await withIndex(
    () => new PostgresIndex(url),
    async (index) => {
      const old = (await index.get("/old"))!;
      assert.equal({ ...old, busy: undefined }, { state: "live", volumes: ["v1"], size: 3, md5: "abc", time: 7, version: 4, busy: undefined });
      const replaced = await putVersion(index, "/old", "/_kvdb/v/1/old", { s3: { type: "image/png" } }, old);
      assert.is(replaced?.version, 5);
      assert.equal(sortOrphans(await all(index.orphans())), ["v1 /old"]);
      await index.tables.put("buckets", "old", { created: 1 });
      assert.equal(await index.tables.get("buckets", "old"), { created: 1 });
    },
  );
  assert.is(pg.psql("SELECT value FROM kvdb_meta WHERE name = 'schema'", new URL(url).pathname.slice(1)).trim(), String(SCHEMA_VERSION));
});

test.run();
