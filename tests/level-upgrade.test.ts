/**
 * An index written by kvdb before compact records (every record JSON: tests/fixtures/
 * level-json-index, made by tests/fixtures/make-level-json-index.ts with main at
 * ef92b0f) opens with today's code: every record, pending entry, orphan, bucket and
 * upload reads exactly as that release read it; counts are made at open (no saved
 * counts in an old index); a changed record is rewritten compact and others stay JSON
 * until changed; a real master serves its keys. Today's records carry S3's fields in
 * their `s3` (index.ts); the old release kept them flat, and its records read so.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import type { ValueFields } from "../src/keys/fields.ts";
import type { KeyRecord, Orphan, State } from "../src/master/index/index.ts";
import { LevelIndex } from "../src/master/index/level.ts";

const FIXTURE = join(REPO, "tests/fixtures/level-json-index");
/** The volumes the fixture's records name (make-level-json-index.ts). */
const VOLUMES = ["127.0.0.1:29101", "127.0.0.1:29102", "127.0.0.1:29103", "volume-4.example.com:13004"];
/** The old release's records: S3's fields flat beside the others. */
type OldRecord = Omit<KeyRecord, "s3"> & ValueFields;
const fixture = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8")) as {
  records: [string, OldRecord][];
  pending: string[];
  /** As the old release named them: a replica's name on its volume was `key`. */
  orphans: { volume: string; key: string }[];
  buckets: [string, object][];
  uploads: [string, object][];
};

/** An old record as today's code reads it: its type, meta and etag are the record's `s3`. */
function today({ type, meta, etag, ...rest }: OldRecord): KeyRecord {
  const s3 = { ...(type !== undefined && { type }), ...(meta !== undefined && { meta }), ...(etag !== undefined && { etag }) };
  return Object.keys(s3).length ? { ...rest, s3 } : rest;
}

const expected = {
  ...fixture,
  records: fixture.records.map(([key, r]): [string, KeyRecord] => [key, today(r)]),
  orphans: fixture.orphans.map(({ volume, key }): Orphan => ({ volume, name: key })),
};

/** A fresh copy of the fixture's index (opening one changes it). */
function copy(): { dir: string; db: string } {
  const dir = tempDir("upgrade");
  cpSync(join(FIXTURE, "db"), join(dir, "db"), { recursive: true });
  return { dir, db: join(dir, "db") };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const x of it) all.push(x);
  return all;
}

const countsOf = (records: [string, KeyRecord][]) => {
  const counts: Record<State, number> = { writing: 0, live: 0, unlinked: 0, deleting: 0 };
  for (const [, r] of records) counts[r.state]++;
  return counts;
};

/** The first byte of each record as stored: `{` (JSON) or 1 (compact). */
async function storedForms(db: string): Promise<Map<string, string>> {
  const raw = new ClassicLevel<string, Buffer>(db, { valueEncoding: "buffer" });
  const keys = raw.sublevel<string, Buffer>("keys", { valueEncoding: "buffer" });
  const forms = new Map<string, string>();
  for await (const [key, value] of keys.iterator()) forms.set(key, value[0] === 0x7b ? "json" : value[0] === 1 ? "compact" : `? ${value[0]}`);
  await raw.close();
  return forms;
}

test("the fixture is an index of the old form: every record JSON, every state present", async () => {
  const { dir, db } = copy();
  try {
    const forms = await storedForms(db);
    assert.is(forms.size, expected.records.length);
    assert.ok([...forms.values()].every((f) => f === "json"));
    assert.equal(countsOf(expected.records), { writing: 2, live: 6, unlinked: 1, deleting: 1 });
    assert.ok(fixture.records.some(([, r]) => r.blob && r.type && r.meta) && expected.orphans.length > 0 && expected.pending.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("read through the Index: records, pending, orphans, buckets, uploads exactly as the old release read them; counts made at open", async () => {
  const { dir, db } = copy();
  const index = new LevelIndex(db);
  try {
    await index.open();
    assert.equal(await collect(index.scan()), expected.records);
    for (const [key, record] of expected.records) assert.equal(index.get(key), record, key);
    assert.equal(await collect(index.abandoned()), expected.pending);
    assert.equal(await collect(index.orphans()), expected.orphans);
    assert.equal(await collect(index.tables.entries("buckets")), expected.buckets);
    assert.equal(await collect(index.tables.entries("uploads")), expected.uploads);
    assert.equal(await index.counts(), countsOf(expected.records));
    assert.is(await index.count(), expected.records.length);
    assert.equal(await collect(index.scan("/live/")), expected.records.filter(([k]) => k >= "/live/"));
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writes: a changed record is rewritten compact, the rest stay JSON and read the same; a new key; counts saved at close", async () => {
  const { dir, db } = copy();
  const records = new Map(expected.records);
  let index = new LevelIndex(db);
  try {
    await index.open();
    const a = records.get("/live/a")!;
    const unlinked = await index.setState("/live/a", a, "unlinked");
    assert.equal(unlinked, { ...a, state: "unlinked", version: a.version + 1 });
    const moved = await index.relocate("/bkt/photo.jpg", records.get("/bkt/photo.jpg")!, ["127.0.0.1:29103", "127.0.0.1:29104"], ["127.0.0.1:29101"]);
    assert.ok(moved);
    const created = await index.create("/new/key", { state: "writing", volumes: ["127.0.0.1:29104"], size: 0, md5: "", time: 1 });
    const live = await index.commit("/new/key", created!, { state: "live", volumes: ["127.0.0.1:29104"], size: 3, md5: "c".repeat(32), time: 2 });
    assert.ok(await index.drop("/deleting/d", records.get("/deleting/d")!, ["127.0.0.1:29101"]));
    await index.close();

    const forms = await storedForms(db);
    assert.is(forms.get("/live/a"), "compact");
    assert.is(forms.get("/bkt/photo.jpg"), "compact");
    assert.is(forms.get("/new/key"), "compact");
    assert.is(forms.get("/live/one-replica"), "json");
    assert.is(forms.has("/deleting/d"), false);

    index = new LevelIndex(db);
    await index.open();
    assert.equal(index.get("/live/a"), unlinked);
    assert.equal(index.get("/bkt/photo.jpg"), moved);
    assert.equal(index.get("/new/key"), live);
    assert.equal(index.get("/live/one-replica"), records.get("/live/one-replica"));
    assert.equal(await collect(index.abandoned()), ["/_kvdb/v/lz9k3m2c0123456789ab/bkt/late", "/writing/c"]);
    assert.ok((await collect(index.orphans())).some((o) => o.volume === "127.0.0.1:29101" && o.name === "/deleting/d"));
    assert.equal(await index.counts(), { writing: 2, live: 6, unlinked: 2, deleting: 0 });
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("counted at open from a snapshot while changes go on: changes made before the count is done are counted once", async () => {
  const { dir, db } = copy();
  const records = new Map(expected.records);
  const index = new LevelIndex(db);
  try {
    await index.open();
    // No await between open and these changes: they race the count started by open.
    const changes = Promise.all([
      index.setState("/live/a", records.get("/live/a")!, "unlinked"),
      index.drop("/deleting/d", records.get("/deleting/d")!, []),
      index.create("/racing/new", { state: "writing", volumes: ["127.0.0.1:29101"], size: 0, md5: "", time: 1 }),
    ]);
    assert.ok((await changes).every(Boolean));
    assert.equal(await index.counts(), { writing: 3, live: 5, unlinked: 2, deleting: 0 });
    assert.is(await index.count(), 10);
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a real master on the old index, with real volumes at the fixture's addresses: redirects to a healthy replica, lists, 404 for unlinked and absent keys", async () => {
  const { dir, db } = copy();
  // The fixture's first three volumes; the fourth (volume-4.example.com) never answers.
  const volumes = [29101, 29102, 29103].map((port) => ({ port, server: new VolumeServer(join(dir, `v${port}`)) }));
  const master = new MasterServer(db, () => VOLUMES, { replicas: 3 });
  try {
    await Promise.all(volumes.map((v) => v.server.start(v.port)));
    await master.start();
    const url = master.url;
    const live = expected.records.filter(([k, r]) => r.state === "live" && !k.startsWith("/_kvdb/"));
    assert.ok(live.length >= 4);
    for (const [key, record] of live) {
      const res = await fetch(`${url}${encodeURI(key)}`, { redirect: "manual" });
      assert.is(res.status, 302, key);
      const to = new URL(res.headers.get("location")!);
      assert.ok(record.volumes.filter((v) => v !== VOLUMES[3]).includes(to.host), `${key} → ${to.host}`);
      assert.is(res.headers.get("content-md5"), record.md5, key);
      assert.is(res.headers.get("key-volumes"), record.volumes.join(","), key);
    }
    assert.equal(await (await fetch(`${url}/?list`)).json(), { keys: live.map(([k]) => k), next: "" });
    assert.equal(await (await fetch(`${url}/?unlinked`)).json(), { keys: ["/unlinked/b"], next: "" });
    assert.is((await fetch(`${url}/unlinked/b`, { redirect: "manual" })).status, 404);
    assert.is((await fetch(`${url}/absent`, { redirect: "manual" })).status, 404);
  } finally {
    await master.stop();
    await Promise.all(volumes.map((v) => v.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
