/**
 * Small values kept inline in a volume's catalog (src/volume/store.ts): every path a
 * file value takes answers the same for them (GET and its headers, DELETE, check,
 * pull both ways, list, health, --max-bytes, idle uploads), the threshold's edges,
 * chunked bodies crossing it, and overwrites that change a key's form.
 */
import { ClassicLevel } from "classic-level";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { INLINE_MAX as T } from "../src/volume/store.ts";
import { VolumeServer } from "../harness/servers.ts";
import type { ServerOptions } from "../harness/server-options.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes, filesUnder, md5, rawRequest, slowPut } from "./http.ts";
import { until } from "../harness/until.ts";

type Vol = VolumeServer;
interface Counters {
  count: number;
  free: number;
  fsyncs: Record<"file" | "dir" | "catalog", { count: number; ms: number }>;
  held: Record<"inline" | "file", { blobs: number; bytes: number }>;
}

let root: string;
let open: Vol[] = [];
/** Inline up to T bytes, and every value a file. */
let inl: Vol;
let fil: Vol;

async function volume(name: string, o: ServerOptions = {}): Promise<Vol> {
  const v = await new VolumeServer(join(root, name), { inlineMax: T, ...o }).start();
  open.push(v);
  return v;
}

async function close(v: Vol): Promise<void> {
  open = open.filter((o) => o !== v);
  await v.stop();
}

test.before(async () => {
  root = tempDir("kvdb-inline");
  inl = await volume("inline");
  fil = await volume("files", { inlineMax: 0 });
});

test.after(async () => {
  for (const v of open) await v.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function put(v: Vol, key: string, body: Buffer<ArrayBuffer>): Promise<{ status: number; json: unknown }> {
  const res = await fetch(v.url + keyPath(key), { method: "PUT", body });
  return { status: res.status, json: res.status === 201 ? await res.json() : await res.text() };
}

async function get(v: Vol, key: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(v.url + keyPath(key));
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function counters(v: Vol): Promise<Counters> {
  return (await (await fetch(`${v.url}/_kvdb/health?counters`)).json()) as Counters;
}

const hasFile = (v: Vol, key: string) => existsSync(join(v.dir, "blobs", blobPath(key)));

test("threshold-1 and threshold bytes are inline (one catalog sync, no file, no fsync of file or dir); threshold+1 is a file", async () => {
  for (const [size, inline] of [[T - 1, true], [T, true], [T + 1, false]] as const) {
    const key = `/edge/${size}`;
    const value = bytes(size, size);
    const before = await counters(inl);
    const res = await put(inl, key, value);
    assert.is(res.status, 201, key);
    assert.equal(res.json, { size, md5: md5(value) });
    const after = await counters(inl);
    assert.is(hasFile(inl, key), !inline, `${key}: file`);
    const form = inline ? "inline" : "file";
    assert.is(after.held[form].blobs - before.held[form].blobs, 1, `${key}: held ${form}`);
    assert.is(after.held[form].bytes - before.held[form].bytes, size);
    assert.is(after.count - before.count, 1);
    assert.is(after.fsyncs.catalog.count - before.fsyncs.catalog.count, 1, `${key}: one catalog batch`);
    assert.is(after.fsyncs.file.count - before.fsyncs.file.count, inline ? 0 : 1, `${key}: file fsyncs`);
    if (inline) assert.is(after.fsyncs.dir.count, before.fsyncs.dir.count, `${key}: no dir fsync`);
    else assert.ok(after.fsyncs.dir.count > before.fsyncs.dir.count, `${key}: its dir is fsynced`);
    const back = await get(inl, key);
    assert.is(back.status, 200);
    assert.ok(back.body.equals(value), `${key} reads back`);
  }
  assert.equal(filesUnder(join(inl.dir, "tmp")), []);
});

test("chunked bodies: up to the threshold inline, crossing it (at a chunk's edge or inside one) a file", async () => {
  const cases: [string, number[], boolean][] = [
    ["/chunked/exact", [T / 2, T / 2], true],
    ["/chunked/one-more", [T / 2, T / 2, 1], false],
    ["/chunked/inside", [T - 10, 20], false],
    ["/chunked/large", Array(10).fill(64 << 10), false],
    ["/chunked/empty", [], true],
  ];
  for (const [key, sizes, inline] of cases) {
    const parts = sizes.map((n, i) => bytes(n, i + 1));
    const up = slowPut(inl.url, key, { "transfer-encoding": "chunked" });
    for (const p of parts) await up.write(p);
    const res = await up.finish();
    const value = Buffer.concat(parts);
    assert.is(res.status, 201, key);
    assert.equal(JSON.parse(res.body), { size: value.length, md5: md5(value) });
    assert.is(hasFile(inl, key), !inline, `${key}: file`);
    assert.ok((await get(inl, key)).body.equals(value), `${key} reads back`);
  }
  assert.equal(filesUnder(join(inl.dir, "tmp")), [], "no temp file left");
});

/** Requests a volume must answer the same for a value of `size`, inline or file. */
function variants(size: number, etag: string): string[] {
  const heads = ["GET", "HEAD"].map((m) => `${m} PATH HTTP/1.1`);
  const ranges = ["bytes=0-0", "bytes=-1", "bytes=5-", "bytes=0-99999", `bytes=${size}-`, "bytes=-0", "bytes=0-1,3-4", "bytes=x-y"];
  const tags = [etag, `W/${etag}`, '"other"', "*"];
  return [
    ...heads,
    ...ranges.flatMap((r) => heads.map((h) => `${h}\r\nRange: ${r}`)),
    ...tags.map((t) => `GET PATH HTTP/1.1\r\nIf-None-Match: ${t}`),
    `GET PATH HTTP/1.1\r\nIf-None-Match: ${etag}\r\nRange: bytes=0-1`,
  ];
}

test("GET and HEAD of an inline value answer byte for byte as for a file: status, body, Content-Length, Range, ETag, 304, 416", async () => {
  for (const size of [0, 1, 100, T]) {
    const key = `/same/${size}`;
    const value = bytes(size, 40 + size);
    for (const v of [inl, fil]) assert.is((await put(v, key, value)).status, 201);
    assert.is(hasFile(inl, key), false);
    assert.is(hasFile(fil, key), true);
    for (const head of variants(size, `"${md5(value)}"`)) {
      const [a, b] = [await rawRequest(inl.url, head.replace("PATH", key)), await rawRequest(fil.url, head.replace("PATH", key))];
      const what = `${size} bytes: ${head.replace(/\r\n/g, " | ")}`;
      assert.is(a.status, b.status, what);
      assert.ok(a.body.equals(b.body), `${what}: body`);
      const strip = (h: Record<string, string>) => ({ ...h, date: "", "last-modified": "" });
      assert.equal(strip(a.headers), strip(b.headers), `${what}: headers`);
      if (a.status !== 404) assert.match(a.headers["last-modified"], /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    }
  }
});

test("/_kvdb/list of inline values: the four fields of a file value, never the bytes", async () => {
  const key = "/list/q";
  assert.is((await put(inl, key, Buffer.alloc(T, "Q"))).status, 201);
  const text = await (await fetch(`${inl.url}/_kvdb/list`)).text();
  assert.not.ok(text.includes("QQQQ"), "the bytes are not listed");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const l of lines) assert.equal(Object.keys(l).sort(), ["key", "md5", "size", "time"]);
  const line = lines.find((l) => l.key === key)!;
  assert.equal([line.size, line.md5], [T, md5(Buffer.alloc(T, "Q"))]);
  assert.is(lines.length, (await counters(inl)).count, "health count = lines listed");
});

test("DELETE of an inline value: 204 then 404; count and held bytes go back", async () => {
  const before = await counters(inl);
  assert.is((await put(inl, "/del/x", bytes(500, 5))).status, 201);
  assert.is((await fetch(inl.url + "/del/x", { method: "DELETE" })).status, 204);
  assert.is((await get(inl, "/del/x")).status, 404);
  assert.is((await fetch(inl.url + "/del/x", { method: "DELETE" })).status, 404);
  const after = await counters(inl);
  assert.equal([after.count, after.held], [before.count, before.held]);
});

test("/_kvdb/check re-hashes inline bytes: 200 {size, md5, catalog}; absent → 404", async () => {
  const value = bytes(777, 77);
  assert.is((await put(inl, "/check/x", value)).status, 201);
  const res = await fetch(`${inl.url}/_kvdb/check/check/x`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { size: 777, md5: md5(value), catalog: { size: 777, md5: md5(value) } });
  const absent = await fetch(`${inl.url}/_kvdb/check/check/none`);
  assert.is(absent.status, 404);
  assert.equal(await absent.json(), { catalog: null });
});

async function pull(to: Vol, from: Vol, key: string, want: { size?: number; md5?: string } = {}): Promise<Response> {
  const q = new URLSearchParams({ from: from.name, ...(want.size === undefined ? {} : { size: String(want.size) }), ...(want.md5 ? { md5: want.md5 } : {}) });
  return fetch(`${to.url}/_kvdb/pull${keyPath(key)}?${q}`, { method: "POST" });
}

test("pull: from an inline source to a file volume, and into inline form (small) or a file (large); a mismatch stores nothing", async () => {
  const small = bytes(300, 30);
  const large = bytes(T + 1, 31);
  assert.is((await put(inl, "/pull/small", small)).status, 201);
  let res = await pull(fil, inl, "/pull/small", { size: 300, md5: md5(small) });
  assert.is(res.status, 201);
  assert.equal(await res.json(), { size: 300, md5: md5(small) });
  assert.ok(hasFile(fil, "/pull/small") && (await get(fil, "/pull/small")).body.equals(small));

  for (const [key, value, inline] of [["/pull/back", small, true], ["/pull/large", large, false]] as const) {
    assert.is((await put(fil, key, value)).status, 201);
    res = await pull(inl, fil, key, { size: value.length, md5: md5(value) });
    assert.is(res.status, 201, key);
    assert.is(hasFile(inl, key), !inline, `${key}: file`);
    assert.ok((await get(inl, key)).body.equals(value), `${key} reads back`);
  }

  const before = await counters(inl);
  res = await pull(inl, fil, "/pull/back", { md5: md5("something else") });
  assert.is(res.status, 409);
  await res.text();
  assert.is((await put(fil, "/pull/new", small)).status, 201);
  res = await pull(inl, fil, "/pull/new", { md5: md5("something else") });
  assert.is(res.status, 409);
  assert.is((await get(inl, "/pull/new")).status, 404, "nothing stored");
  assert.ok((await get(inl, "/pull/back")).body.equals(small), "what was there stays");
  assert.equal((await counters(inl)).held, before.held);
});

test("overwrites that change a key's form leave exactly one form, also in the catalog on disk and after a restart", async () => {
  let v = await volume("overwrite");
  const [k1, k2] = ["/ow/ends-inline", "/ow/ends-file"];
  const steps: [string, Buffer<ArrayBuffer>][] = [
    [k1, bytes(T + 1, 1)],
    [k1, bytes(T, 2)],
    [k2, bytes(10, 3)],
    [k2, bytes(T + 100, 4)],
    [k1, bytes(T + 2, 5)],
    [k1, bytes(5, 6)],
  ];
  for (const [key, value] of steps) {
    assert.is((await put(v, key, value)).status, 201);
    assert.is(hasFile(v, key), value.length > T, `${key} after ${value.length} bytes`);
    assert.ok((await get(v, key)).body.equals(value));
  }
  await close(v);
  const db = new ClassicLevel<string, string>(join(v.dir, "catalog"));
  const keys = await db.keys().all();
  await db.close();
  assert.equal(keys, ["!inline!" + k1, k2, k1].sort(), "one entry each, inline bytes of k1 only");
  assert.equal(filesUnder(join(v.dir, "blobs")), [blobPath(k2)]);

  v = await volume("overwrite");
  const c = await counters(v);
  assert.equal(c.held, { inline: { blobs: 1, bytes: 5 }, file: { blobs: 1, bytes: T + 100 } }, "counted again at start");
  assert.ok((await get(v, k1)).body.equals(bytes(5, 6)));
  assert.ok((await get(v, k2)).body.equals(bytes(T + 100, 4)));
  await close(v);
});

test("--max-bytes counts inline values: past the cap, declared or chunked, 507 and nothing stored", async () => {
  const v = await volume("capped", { maxBytes: 2 * T + T / 2 });
  for (const k of ["/cap/a", "/cap/b"]) assert.is((await put(v, k, bytes(T, 9))).status, 201);
  const before = await counters(v);
  assert.is(before.free, T / 2);
  const declared = await rawRequest(v.url, `PUT /cap/c HTTP/1.1\r\nContent-Length: ${T}`, bytes(T, 9));
  assert.is(declared.status, 507);
  const up = slowPut(v.url, "/cap/d", { "transfer-encoding": "chunked" });
  await up.write(bytes(T / 4, 1));
  await up.write(bytes(T / 2, 2));
  assert.is((await up.finish()).status, 507);
  for (const k of ["/cap/c", "/cap/d"]) assert.is((await get(v, k)).status, 404, k);
  assert.equal((await counters(v)).held, before.held);
  assert.is((await put(v, "/cap/e", bytes(T / 4, 3))).status, 201, "what fits is still taken");
  assert.is((await counters(v)).free, T / 4);
  await close(v);
});

test("an inline-sized upload that stalls is cut after the idle timeout, one that is aborted is dropped: nothing stored either way", async () => {
  const v = await volume("idle", { idleTimeoutMs: 1000 });
  for (const size of [T, T + 1]) {
    const key = `/idle/${size}`;
    const up = slowPut(v.url, key, { "content-length": String(size) });
    await up.write(bytes(100, 1));
    const t0 = Date.now();
    await new Promise((closed) => up.req.once("close", closed));
    assert.ok(Date.now() - t0 >= 700 && Date.now() - t0 < 4000, `${size}: cut after ${Date.now() - t0} ms`);
    const aborted = slowPut(v.url, `${key}/aborted`, { "transfer-encoding": "chunked" });
    await aborted.write(bytes(100, 2));
    aborted.abort();
    await until("the temp files are gone", () => filesUnder(join(v.dir, "tmp")).length === 0);
    for (const k of [key, `${key}/aborted`]) assert.is((await get(v, k)).status, 404, k);
  }
  assert.is((await counters(v)).count, 0);
  await close(v);
});

test.run();
