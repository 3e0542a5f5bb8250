/**
 * A volume's durable write path (src/volume/store.ts, catalog.ts, dir-syncs.ts): the
 * order of fsyncs, renames and catalog records (watched through hooks on node:fs, so
 * the order is seen, not guessed), concurrent writes sharing catalog batches and
 * directory fsyncs, a catalog entry whose file is gone, a failing catalog batch, and a
 * fresh volume making its blob directories.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { dirname, join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Running } from "../src/http/running.ts";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { bytes, filesUnder, sha256, slowPut } from "./http.ts";

// ---------------------------------------------------------------- watching node:fs

/** What the volume did on disk while a key was watched, and whether its catalog listed the key then. */
interface Step {
  op: "fsync" | "rename" | "unlink";
  path: string;
  listed: boolean;
}
let watched: { url: string; dir: string; key: string; steps: Step[] } | undefined;

async function record(op: Step["op"], path: string): Promise<void> {
  const w = watched;
  if (!w || !path.startsWith(w.dir)) return;
  const list = await (await fetch(`${w.url}/_kvdb/list`)).text();
  w.steps.push({ op, path: relative(w.dir, path).replace(/^tmp\/.*/, "tmp/<tmp>"), listed: list.includes(JSON.stringify(w.key)) });
}

// The hooks go in before the volume's modules load: fd.ts promisifies open and fsync once.
const require = createRequire(import.meta.url);
const fs = require("node:fs") as typeof import("node:fs");
const fsp = require("node:fs/promises") as typeof import("node:fs/promises");
const orig = { open: fs.open, fsync: fs.fsync, rename: fsp.rename, unlink: fsp.unlink };
const fdPaths = new Map<number, string>();
Object.assign(fs, {
  open: (...args: unknown[]) => {
    const done = args.pop() as (e: Error | null, fd: number) => void;
    (orig.open as (...a: unknown[]) => void)(...args, (e: Error | null, fd: number) => {
      if (!e) fdPaths.set(fd, String(args[0]));
      done(e, fd);
    });
  },
  fsync: (fd: number, done: (e: Error | null) => void) => void record("fsync", fdPaths.get(fd) ?? "").then(() => orig.fsync(fd, done)),
});
Object.assign(fsp, {
  rename: async (from: string, to: string) => (await record("rename", to), orig.rename(from, to)),
  unlink: async (path: string) => (await record("unlink", path), orig.unlink(path)),
});
syncBuiltinESMExports();
// (cluster.ts imports the volume too: not before this point.)
const { HOST } = await import("../harness/kvdb.ts");
const { tempDir } = await import("../harness/paths.ts");
const { startVolume } = await import("../src/volume/start.ts");
const { Catalog } = await import("../src/volume/catalog.ts");
const { VolumeCounters } = await import("../src/volume/counters.ts");

// ---------------------------------------------------------------- volumes

type Vol = Running & { dir: string };
interface Health {
  count: number;
  fsyncs: Record<"file" | "dir" | "catalog", { count: number }>;
}

let root: string;
const started: Vol[] = [];

/** A volume whose values are all files unless `inlineMax` says otherwise: most tests here are about the file path. */
async function volume(name: string, inlineMax = 0): Promise<Vol> {
  const dir = join(root, name);
  const [log, warn] = [console.log, console.error];
  console.log = console.error = () => {};
  try {
    const v = { ...(await startVolume({ dir, port: 0, hostname: HOST, verbose: false, inlineMax })), dir };
    started.push(v);
    return v;
  } finally {
    [console.log, console.error] = [log, warn];
  }
}

test.before(() => {
  root = tempDir("kvdb-durable");
});

test.after(async () => {
  for (const v of started) await v.close();
  rmSync(root, { recursive: true, force: true });
});

const health = async (v: Vol) => (await (await fetch(`${v.url}/_kvdb/health?counters`)).json()) as Health;
const fsyncs = async (v: Vol) => (await health(v)).fsyncs;

/** PUTs that all send their bodies but the last byte, then finish together: concurrent for sure. */
async function putTogether(v: Vol, keys: string[], size: number): Promise<number[]> {
  const ups = keys.map((k) => slowPut(v.url, keyPath(k), { "content-length": String(size) }));
  await Promise.all(ups.map((u) => u.write(bytes(size - 1, 3))));
  return (await Promise.all(ups.map((u) => u.finish("x")))).map((r) => r.status);
}

// ---------------------------------------------------------------- order

test("a file PUT: temp file fsynced before the catalog lists it, listed before the rename, dir fsynced after; a DELETE: unlink and dir fsync while still listed", async () => {
  const v = await volume("order");
  const key = "/order/file";
  const dir = dirname(blobPath(key));
  mkdirSync(join(v.dir, "blobs", dir), { recursive: true }); // no mkdir steps in the way
  watched = { url: v.url, dir: v.dir, key, steps: [] };
  try {
    assert.is((await fetch(v.url + key, { method: "PUT", body: bytes(2000, 1) })).status, 201);
    assert.equal(watched.steps, [
      { op: "fsync", path: "tmp/<tmp>", listed: false },
      { op: "rename", path: `blobs/${blobPath(key)}`, listed: true },
      { op: "fsync", path: `blobs/${dir}`, listed: true },
    ]);
    watched.steps = [];
    assert.is((await fetch(v.url + key, { method: "DELETE" })).status, 204);
    assert.equal(watched.steps, [
      { op: "unlink", path: `blobs/${blobPath(key)}`, listed: true },
      { op: "fsync", path: `blobs/${dir}`, listed: true },
    ]);
    assert.not.ok((await (await fetch(`${v.url}/_kvdb/list`)).text()).includes(key), "gone from the catalog after");
  } finally {
    watched = undefined;
  }
});

test("an inline PUT and DELETE touch no file: no fsync, rename or unlink, one catalog batch each", async () => {
  const v = await volume("inline-order", 4096);
  const key = "/order/inline";
  watched = { url: v.url, dir: v.dir, key, steps: [] };
  try {
    const before = await fsyncs(v);
    assert.is((await fetch(v.url + key, { method: "PUT", body: bytes(4096, 2) })).status, 201);
    assert.is((await fetch(v.url + key, { method: "DELETE" })).status, 204);
    assert.equal(watched.steps, []);
    const after = await fsyncs(v);
    assert.equal([after.file.count, after.dir.count, after.catalog.count], [before.file.count, before.dir.count, before.catalog.count + 2]);
  } finally {
    watched = undefined;
  }
});

test("a catalog entry whose file is gone: GET 404, check 404 with the entry, listed; DELETE 204 clears it", async () => {
  const v = await volume("missing");
  const key = "/missing/x";
  assert.is((await fetch(v.url + key, { method: "PUT", body: bytes(3000, 4) })).status, 201);
  rmSync(join(v.dir, "blobs", blobPath(key)));
  assert.is((await fetch(v.url + key)).status, 404);
  const check = await fetch(`${v.url}/_kvdb/check${key}`);
  assert.is(check.status, 404);
  assert.equal(((await check.json()) as { catalog: { size: number } }).catalog.size, 3000);
  assert.ok((await (await fetch(`${v.url}/_kvdb/list`)).text()).includes(JSON.stringify(key)));
  assert.is((await health(v)).count, 1);
  assert.is((await fetch(v.url + key, { method: "DELETE" })).status, 204);
  assert.is((await fetch(`${v.url}/_kvdb/list`).then((r) => r.text())), "");
  assert.equal(await (await fetch(`${v.url}/_kvdb/check${key}`)).json(), { catalog: null });
  assert.is((await fetch(v.url + key, { method: "DELETE" })).status, 404);
  assert.is((await health(v)).count, 0);
});

// ---------------------------------------------------------------- sharing

test("64 concurrent PUTs share catalog batches, inline and as files (each file still its own fsync); 64 DELETEs too", async () => {
  for (const [name, size, inlineMax] of [["share-inline", 1000, 1000], ["share-files", 1000, 0]] as const) {
    const v = await volume(name, inlineMax);
    const keys = Array.from({ length: 64 }, (_, i) => `/share/${i}`);
    const before = await fsyncs(v);
    assert.equal(await putTogether(v, keys, size), Array(64).fill(201));
    const mid = await fsyncs(v);
    const batches = mid.catalog.count - before.catalog.count;
    assert.ok(batches >= 1 && batches < 64, `${name}: ${batches} catalog batches for 64 PUTs`);
    assert.is(mid.file.count - before.file.count, inlineMax ? 0 : 64, `${name}: file fsyncs`);
    const deleted = await Promise.all(keys.map(async (k) => (await fetch(v.url + k, { method: "DELETE" })).status));
    assert.equal(deleted, Array(64).fill(204));
    const deletes = (await fsyncs(v)).catalog.count - mid.catalog.count;
    assert.ok(deletes >= 1 && deletes < 64, `${name}: ${deletes} catalog batches for 64 DELETEs`);
    assert.is((await health(v)).count, 0);
  }
});

test("concurrent PUTs into one blob directory share its fsyncs", async () => {
  const v = await volume("one-dir");
  const first = sha256("/dir/0").slice(0, 4);
  const keys = ["/dir/0"];
  for (let i = 1; keys.length < 12; i++) if (sha256(`/dir/${i}`).startsWith(first)) keys.push(`/dir/${i}`);
  mkdirSync(join(v.dir, "blobs", first.slice(0, 2), first.slice(2)), { recursive: true });
  const before = await fsyncs(v);
  assert.equal(await putTogether(v, keys, 500), Array(12).fill(201));
  const dirSyncs = (await fsyncs(v)).dir.count - before.dir.count;
  assert.ok(dirSyncs >= 1 && dirSyncs < 12, `${dirSyncs} directory fsyncs for 12 renames into one dir`);
});

test("a failing catalog batch rejects every change in it and leaves count and bytes right", async () => {
  const counters = new VolumeCounters();
  const catalog = new Catalog(join(root, "failing-catalog"), counters);
  await catalog.open();
  try {
    await catalog.put("/a", { size: 3, md5: "a", time: 1 });
    const unencodable = { size: 5, md5: "c", time: 2n as unknown as number }; // JSON has no BigInt: the batch throws
    const outcomes = await Promise.allSettled([catalog.put("/b", { size: 4, md5: "b", time: 1 }, new Uint8Array(4)), catalog.put("/c", unencodable), catalog.del("/a")]);
    assert.equal(outcomes.map((o) => o.status), ["rejected", "rejected", "rejected"]);
    assert.equal([catalog.count, catalog.bytes, counters.held.inline.blobs], [1, 3, 0]);
    assert.equal([catalog.get("/a")?.size, catalog.get("/b"), catalog.bytesOf("/b")], [3, undefined, undefined]);
    await catalog.put("/b", { size: 4, md5: "b", time: 1 }, new Uint8Array(4));
    assert.equal([catalog.count, catalog.bytes, counters.held.inline.bytes], [2, 7, 4]);
  } finally {
    await catalog.close();
  }
});

// ---------------------------------------------------------------- a fresh volume

test("a fresh volume has its 256 aa dirs at start; its first PUTs make their aa/bb dirs, fsyncing aa only; later PUTs there cost one dir fsync", async () => {
  const v = await volume("fresh");
  assert.is(readdirSync(join(v.dir, "blobs")).length, 256);
  assert.equal(filesUnder(join(v.dir, "blobs")), []);
  const keys = Array.from({ length: 32 }, (_, i) => `/fresh/${i}`);
  const before = await fsyncs(v);
  assert.equal(await putTogether(v, keys, 800), Array(32).fill(201));
  const made = (await fsyncs(v)).dir.count - before.dir.count;
  // Per new aa/bb dir: its own fsync (the rename) and aa's; blobs/'s was before the first PUT.
  assert.ok(made >= 32 && made <= 2 * 32, `${made} directory fsyncs for 32 PUTs into new dirs`);
  assert.equal(filesUnder(join(v.dir, "blobs")), keys.map(blobPath).sort());
  const again = await fsyncs(v);
  assert.equal(await putTogether(v, keys, 900), Array(32).fill(201));
  assert.ok((await fsyncs(v)).dir.count - again.dir.count <= 32, "no parent fsyncs once the dirs exist");
});

test.run();
