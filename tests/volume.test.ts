/**
 * The volume server on its own (the README's "GET on the volume URL" row): Range,
 * If-None-Match, HEAD, health, listing, aborted uploads, where files go; and key
 * length limits end to end through a master.
 */
import { readdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { Hono } from "hono";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderError } from "../src/http/errors.ts";
import { runtime } from "../src/runtime/mod.ts";
import { fileSized } from "../harness/data.ts";
import { VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes, filesUnder, md5, rawRequest, send, sha256, slowPut } from "./http.ts";
import { keyPath } from "../src/keys/keys.ts";
import { encodeFields, FIELDS_HEADER } from "../src/keys/fields.ts";
import { BATCH_PATH, encodeBatch, headDigest, type BatchOp } from "../src/wire/batch-wire.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let root: string;
let dir: string;
let vol: VolumeServer;
let cluster: Cluster;

const VALUE = bytes(100, 7);
const ETAG = `"${md5(VALUE)}"`;

test.before(async () => {
  root = tempDir("kvdb-vol");
  dir = join(root, "v");
  vol = await new VolumeServer(dir).start();
  const res = await fetch(vol.url + "/r/value", { method: "PUT", body: VALUE });
  assert.is(res.status, 201);
  assert.equal(await res.json(), { size: 100, md5: md5(VALUE) });
  cluster = await startCluster({ volumes: 1 });
});

test.after(async () => {
  await vol?.stop();
  await cluster?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(vol.url + path, { method, headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function health(url = vol.url): Promise<{ total: number; free: number; count: number; runtime?: string; version?: string }> {
  const res = await fetch(`${url}/_kvdb/health`);
  assert.is(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return (await res.json()) as { total: number; free: number; count: number };
}

// ---------------------------------------------------------------- GET, Range

test("GET → 200 with the bytes, Content-Length, ETag, Accept-Ranges", async () => {
  const { res, body } = await get("/r/value");
  assert.is(res.status, 200);
  assert.ok(body.equals(VALUE));
  assert.is(res.headers.get("content-length"), "100");
  assert.is(res.headers.get("etag"), ETAG);
  assert.is(res.headers.get("accept-ranges"), "bytes");
  assert.is(res.headers.get("content-range"), null);
});

const PARTIAL: [string, number, number][] = [
  ["bytes=0-0", 0, 0],
  ["bytes=10-19", 10, 19],
  ["bytes=0-99", 0, 99],
  ["bytes=99-99", 99, 99],
  ["bytes=90-", 90, 99],
  ["bytes=0-", 0, 99],
  ["bytes=99-", 99, 99],
  ["bytes=-10", 90, 99],
  ["bytes=-1", 99, 99],
  ["bytes=-100", 0, 99],
  // Past the end: clipped.
  ["bytes=95-1000", 95, 99],
  ["bytes=0-100", 0, 99],
  ["bytes=-1000", 0, 99],
  ["bytes=50-99999999999999999999999", 50, 99],
];

for (const [range, start, end] of PARTIAL) {
  test(`Range ${range} → 206 bytes ${start}-${end}/100`, async () => {
    const { res, body } = await get("/r/value", { range });
    assert.is(res.status, 206);
    assert.is(res.headers.get("content-range"), `bytes ${start}-${end}/100`);
    assert.is(res.headers.get("content-length"), String(end - start + 1));
    assert.is(res.headers.get("etag"), ETAG);
    assert.is(res.headers.get("accept-ranges"), "bytes");
    assert.ok(body.equals(VALUE.subarray(start, end + 1)), `body of ${range}`);
  });
}

/** A GET whose reader stalls first, so the server's writes back up behind a full socket. */
function slowGet(url: string, stallMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.pause();
      setTimeout(() => res.resume(), stallMs);
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve(Buffer.concat(parts)));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

test("a value of several 1 MiB send chunks comes back whole, to a fast and a stalled reader, and by ranges across chunks", async () => {
  const MiB = 1 << 20;
  const big = bytes(12 * MiB + 12345, 11);
  assert.is((await fetch(vol.url + "/r/chunks", { method: "PUT", body: big })).status, 201);
  const whole = await get("/r/chunks");
  assert.is(whole.res.status, 200);
  assert.is(md5(whole.body), md5(big));
  assert.is(md5(await slowGet(vol.url + "/r/chunks", 300)), md5(big), "a buffer was reused while still on its way");
  for (const [start, end] of [
    [0, MiB],
    [MiB - 1, 2 * MiB],
    [MiB, 2 * MiB - 1],
    [5, 3 * MiB + 12344],
    [3 * MiB, 3 * MiB + 12344],
  ]) {
    const { res, body } = await get("/r/chunks", { range: `bytes=${start}-${end}` });
    assert.is(res.status, 206);
    assert.is(res.headers.get("content-range"), `bytes ${start}-${end}/${big.length}`);
    assert.ok(body.equals(big.subarray(start, end + 1)), `bytes ${start}-${end}`);
  }
  assert.is((await fetch(vol.url + "/r/chunks", { method: "DELETE" })).status, 204);
});

test("unsatisfiable Range (start ≥ size, or -0) → 416 with Content-Range: bytes */size", async () => {
  for (const range of ["bytes=100-", "bytes=100-100", "bytes=100-200", "bytes=1000-", "bytes=-0", "bytes=99999999999999999999999-"]) {
    const { res, body } = await get("/r/value", { range });
    assert.is(res.status, 416, range);
    assert.is(res.headers.get("content-range"), "bytes */100", range);
    assert.is(body.length, 0);
  }
});

test("malformed or multi-range Range → 200 with the whole value", async () => {
  const malformed = [
    "bytes=x-y",
    "items=0-1",
    "bytes=0-1,3-4",
    "bytes=0-1, 5-6",
    "bytes=-",
    "bytes=",
    "bytes",
    "bytes=5-2",
    "bytes=1-2-3",
    "bytes=0x1-0x2",
    "bytes=--1",
    "bytes=1.5-2",
    "0-1",
  ];
  for (const range of malformed) {
    const { res, body } = await get("/r/value", { range });
    assert.is(res.status, 200, range);
    assert.is(res.headers.get("content-range"), null, range);
    assert.is(res.headers.get("content-length"), "100", range);
    assert.ok(body.equals(VALUE), range);
  }
});

test("If-None-Match: the ETag (strong, weak, in a list, *) → 304; another tag → 200", async () => {
  for (const tag of [ETAG, `W/${ETAG}`, `"nope", ${ETAG}`, "*"]) {
    const { res, body } = await get("/r/value", { "if-none-match": tag });
    assert.is(res.status, 304, tag);
    assert.is(res.headers.get("etag"), ETAG);
    assert.is(body.length, 0);
  }
  // 304 wins over Range.
  assert.is((await get("/r/value", { "if-none-match": ETAG, range: "bytes=0-1" })).res.status, 304);
  for (const tag of ['"nope"', md5(VALUE), `"${md5("other")}"`]) {
    const { res, body } = await get("/r/value", { "if-none-match": tag });
    assert.is(res.status, 200, tag);
    assert.ok(body.equals(VALUE));
  }
  // Raw: a 304 carries no body bytes.
  const raw = await rawRequest(vol.url, `GET /r/value HTTP/1.1\r\nIf-None-Match: ${ETAG}`);
  assert.is(raw.status, 304);
  assert.is(raw.body.length, 0);
});

test("HEAD → Content-Length, ETag, Accept-Ranges and no body", async () => {
  const raw = await rawRequest(vol.url, "HEAD /r/value HTTP/1.1");
  assert.is(raw.status, 200);
  assert.is(raw.headers["content-length"], "100");
  assert.is(raw.headers["etag"], ETAG);
  assert.is(raw.headers["accept-ranges"], "bytes");
  assert.is(raw.body.length, 0);
  const ranged = await rawRequest(vol.url, "HEAD /r/value HTTP/1.1\r\nRange: bytes=10-19");
  assert.is(ranged.status, 206);
  assert.is(ranged.headers["content-length"], "10");
  assert.is(ranged.headers["content-range"], "bytes 10-19/100");
  assert.is(ranged.body.length, 0);
  const absent = await rawRequest(vol.url, "HEAD /r/absent HTTP/1.1");
  assert.is(absent.status, 404);
  assert.is(absent.body.length, 0);
  // The connection stays usable after HEADs: a GET on the same keep-alive agent works.
  const after = await get("/r/value");
  assert.is(after.res.status, 200);
});

test("absent key → 404 with Content-Length 0", async () => {
  const { res, body } = await get("/r/absent");
  assert.is(res.status, 404);
  assert.is(res.headers.get("content-length"), "0");
  assert.is(body.length, 0);
});

test("a blob file gone between the volume's stat and the runtime's open (a DELETE racing the GET) → 404, not a dropped connection", async () => {
  const app = new Hono();
  const path = join(root, "deleted-since-stat");
  app.get("/x", (c) => runtime.sendFile(c, 200, { "content-length": "10" }, { path, start: 0, end: 9, size: 10 }));
  app.onError(renderError); // as every server's app (http/server-app.ts): sendFile throws KvdbError "not-found"
  const res = await app.request("/x");
  assert.is(res.status, 404);
  assert.is(await res.text(), "blob file missing\n");
});

test("a zero-byte blob is served as 200 with Content-Length 0", async () => {
  const put = await rawRequest(vol.url, "PUT /r/zero HTTP/1.1\r\nContent-Length: 0");
  assert.is(put.status, 201);
  const raw = await rawRequest(vol.url, "GET /r/zero HTTP/1.1");
  assert.is(raw.status, 200);
  assert.is(raw.headers["content-length"], "0");
  assert.is(raw.body.length, 0);
  const suffix = await get("/r/zero", { range: "bytes=-5" });
  assert.ok(suffix.res.status === 200 || suffix.res.status === 416, `suffix range on empty: ${suffix.res.status}`);
  assert.is(suffix.body.length, 0);
  assert.is((await get("/r/zero", { range: "bytes=0-" })).res.status, 416);
  assert.is((await fetch(vol.url + "/r/zero", { method: "DELETE" })).status, 204);
});

// ---------------------------------------------------------------- PUT, DELETE, health, list

test("PUT → 201 {size, md5}; DELETE → 204 then 404; health count follows", async () => {
  const before = await health();
  const value = bytes(4000, 8);
  const put = await fetch(vol.url + "/r/counted", { method: "PUT", body: value });
  assert.is(put.status, 201);
  assert.equal(await put.json(), { size: 4000, md5: md5(value) });
  assert.is((await health()).count, before.count + 1);
  const del = await fetch(vol.url + "/r/counted", { method: "DELETE" });
  assert.is(del.status, 204);
  assert.is((await get("/r/counted")).res.status, 404);
  assert.is((await fetch(vol.url + "/r/counted", { method: "DELETE" })).status, 404);
  assert.is((await health()).count, before.count);
});

test("/_kvdb/health → JSON {total, free, count, runtime, version}", async () => {
  const h = await health();
  assert.equal(Object.keys(h).sort(), ["count", "free", "runtime", "total", "version"]);
  assert.equal([h.runtime, h.version], ["node", "0.1.0"]);
  assert.ok(Number.isSafeInteger(h.total) && h.total > 0, `total ${h.total}`);
  assert.ok(Number.isSafeInteger(h.free) && h.free >= 0 && h.free <= h.total, `free ${h.free}`);
  assert.ok(Number.isSafeInteger(h.count) && h.count >= 1, `count ${h.count}`);
  const listed = (await (await fetch(`${vol.url}/_kvdb/list`)).text()).split("\n").filter(Boolean).length;
  assert.is(h.count, listed, "count = entries listed");
});

test("/_kvdb/list → NDJSON lines {key, size, md5, time} in key order", async () => {
  const values: Record<string, Buffer<ArrayBuffer>> = { "/l/b": bytes(10, 1), "/l/a": bytes(20, 2), "/l/c d/é": bytes(30, 3) };
  const t0 = Date.now();
  for (const [k, v] of Object.entries(values)) {
    assert.is((await fetch(vol.url + keyPath(k), { method: "PUT", body: v })).status, 201);
  }
  const res = await fetch(`${vol.url}/_kvdb/list`);
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "application/x-ndjson");
  const text = await res.text();
  assert.ok(text.endsWith("\n"));
  const lines = text.slice(0, -1).split("\n").map((l) => JSON.parse(l) as { key: string; size: number; md5: string; time: number });
  for (const l of lines) {
    assert.equal(Object.keys(l).sort(), ["key", "md5", "size", "time"]);
    assert.ok(l.key.startsWith("/"));
  }
  const keys = lines.map((l) => l.key);
  assert.equal(keys, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  assert.ok(keys.includes("/r/value"));
  for (const [k, v] of Object.entries(values)) {
    const l = lines.find((x) => x.key === k);
    assert.ok(l, `${k} listed`);
    assert.is(l!.size, v.length);
    assert.is(l!.md5, md5(v));
    assert.ok(l!.time >= t0 - 1000 && l!.time <= Date.now() + 1000, "time is a ms timestamp");
  }
  for (const k of Object.keys(values)) assert.is((await fetch(vol.url + keyPath(k), { method: "DELETE" })).status, 204);
});

test("/_kvdb/entries → for each name in order, the catalog's md5 and the bytes' size now, or null; a bad body → 400", async () => {
  const big = fileSized("a file value"); // stored as a file: its size comes from the file
  const small = bytes(10, 4); // inline
  assert.is((await fetch(`${vol.url}/e/big`, { method: "PUT", body: big })).status, 201);
  assert.is((await fetch(`${vol.url}/e/small`, { method: "PUT", body: small })).status, 201);
  const ask = (body: string) => fetch(`${vol.url}/_kvdb/entries`, { method: "POST", body, headers: { "content-type": "application/json" } });
  const res = await ask(JSON.stringify(["/e/small", "/e/none", "/e/big"]));
  assert.is(res.status, 200);
  assert.equal(await res.json(), [{ size: 10, md5: md5(small) }, null, { size: big.length, md5: md5(big) }]);

  const file = filesUnder(join(dir, "blobs"))
    .map((f) => join(dir, "blobs", f))
    .find((f) => readFileSync(f).length === big.length)!;
  truncateSync(file, 5);
  assert.equal(await (await ask(JSON.stringify(["/e/big"]))).json(), [{ size: 5, md5: md5(big) }]);
  rmSync(file);
  assert.equal(await (await ask(JSON.stringify(["/e/big"]))).json(), [null]);

  for (const bad of ["not json", "{}", "[1]", '["no-slash"]', JSON.stringify(Array.from({ length: 1025 }, (_, i) => `/n${i}`))]) {
    const r = await ask(bad);
    assert.is(r.status, 400, bad.slice(0, 40));
    assert.match(await r.text(), /^(the body must be a JSON array of stored names|at most 1024 names per request)\n?$/);
  }
  const huge = await fetch(`${vol.url}/_kvdb/entries`, { method: "POST", body: `["/${"x".repeat(5 << 20)}"]` });
  assert.is(huge.status, 413);
  assert.is(await huge.text(), `the body is larger than ${4 << 20} bytes\n`);
  for (const k of ["/e/big", "/e/small"]) assert.is((await fetch(vol.url + k, { method: "DELETE" })).status, 204);
});

test("/_kvdb/batch → each put and delete answered as alone, in order; stored values read back like any other; a bad batch → 400, nothing stored", async () => {
  const a = bytes(10, 21);
  const big = bytes(40 << 10, 22); // past the inline threshold: a file
  const empty = Buffer.alloc(0);
  assert.is((await fetch(`${vol.url}/b/old`, { method: "PUT", body: VALUE })).status, 201);
  const post = (ops: BatchOp[], values: Uint8Array[], digest?: string) => {
    const { body, digest: right } = encodeBatch(ops, values);
    return fetch(`${vol.url}${BATCH_PATH}?head=${digest ?? right}`, { method: "POST", body });
  };
  const res = await post(
    [{ put: "/b/a", size: 10 }, { del: "/b/old" }, { put: "/b/big", size: big.length, fields: encodeFields({ type: "text/x" }) }, { del: "/b/none" }, { put: "/b/empty", size: 0 }, { put: "no-slash", size: 1 }],
    [a, big, empty, bytes(1, 1)],
  );
  assert.is(res.status, 200);
  assert.equal(await res.json(), [
    { status: 201, size: 10, md5: md5(a) },
    { status: 204 },
    { status: 201, size: big.length, md5: md5(big) },
    { status: 404 },
    { status: 201, size: 0, md5: md5(empty) },
    { status: 400, error: "key must start with /" },
  ]);
  for (const [key, value] of [["/b/a", a], ["/b/big", big], ["/b/empty", empty]] as const) {
    const got = await fetch(vol.url + key);
    assert.is(got.status, 200, key);
    assert.is(got.headers.get("etag"), `"${md5(value)}"`);
    assert.is(md5(Buffer.from(await got.arrayBuffer())), md5(value));
  }
  assert.is((await fetch(`${vol.url}/b/big`)).headers.get(FIELDS_HEADER), encodeFields({ type: "text/x" }));
  const range = await fetch(`${vol.url}/b/a`, { headers: { range: "bytes=2-4" } });
  assert.is(range.status, 206);
  assert.equal([...new Uint8Array(await range.arrayBuffer())], [...a.subarray(2, 5)]);
  assert.is((await fetch(`${vol.url}/b/old`)).status, 404);

  const bad: [string, Promise<Response>][] = [
    ["the head line does not match the URL's head digest", post([{ put: "/b/x", size: 1 }], [bytes(1, 2)], "wrong")],
    ["the values end before the 5 bytes of /b/x", post([{ put: "/b/x", size: 5 }], [bytes(1, 2)], headDigest('[{"put":"/b/x","size":5}]'))],
    ["1 bytes after the last value", post([{ del: "/b/x" }], [bytes(1, 2)])],
    ["the head line must be a JSON array of {put,size[,fields]} or {del}", post([{ put: "/b/x", size: -1 } as BatchOp], [])],
    ["at most 1024 operations per batch", post(Array.from({ length: 1025 }, (_, i) => ({ del: `/b/n${i}` })), [])],
  ];
  for (const [why, answer] of bad) {
    const r = await answer;
    assert.is(r.status, 400, why);
    assert.is(await r.text(), `bad batch: ${why}\n`);
  }
  assert.is((await fetch(`${vol.url}/b/x`)).status, 404, "nothing of a bad batch is stored");
  const huge = await fetch(`${vol.url}${BATCH_PATH}`, { method: "POST", body: new Uint8Array((8 << 20) + 1) });
  assert.is(huge.status, 413);
  for (const k of ["/b/a", "/b/big", "/b/empty"]) assert.is((await fetch(vol.url + k, { method: "DELETE" })).status, 204);
});

// ---------------------------------------------------------------- aborted upload

test("an upload aborted mid-body leaves no temp file, no catalog entry, and the volume keeps serving", async () => {
  const key = "/r/aborted";
  const before = await health();
  const up = slowPut(vol.url, key, { "content-length": "100000" });
  await up.write(bytes(1000, 9));
  await until("the upload's temp file exists", () => filesUnder(join(dir, "tmp")).length === 1);
  up.abort();
  await until("the temp file is removed", () => filesUnder(join(dir, "tmp")).length === 0);

  assert.is((await get(key)).res.status, 404);
  assert.is((await health()).count, before.count);
  const listing = await (await fetch(`${vol.url}/_kvdb/list`)).text();
  assert.not.ok(listing.includes(`"${key}"`));
  const h = sha256(key);
  assert.not.ok(filesUnder(join(dir, "blobs")).includes(join(h.slice(0, 2), h.slice(2, 4), h)));

  // A body that stops short and half-closes the socket: 400, nothing stored.
  const short = await rawRequest(vol.url, `PUT ${key} HTTP/1.1\r\nContent-Length: 10`, "12345", 5000, true).catch((e: Error) => e);
  // The server answers 400 or just closes the socket (the client is gone); it never stores 5 bytes.
  if (!(short instanceof Error)) assert.is(short.status, 400, "short body");
  else assert.match(short.message, /no complete response head/);
  await until("the short upload's temp file is removed", () => filesUnder(join(dir, "tmp")).length === 0);
  assert.is((await get(key)).res.status, 404);

  // Still serving: the same key can now be written whole, and the old one read.
  const whole = bytes(100_000, 9);
  const put = await fetch(vol.url + key, { method: "PUT", body: whole });
  assert.is(put.status, 201);
  const back = await get(key);
  assert.is(back.res.status, 200);
  assert.ok(back.body.equals(whole));
  assert.ok((await get("/r/value")).body.equals(VALUE));
  assert.equal(filesUnder(join(dir, "tmp")), []);
  assert.is((await fetch(vol.url + key, { method: "DELETE" })).status, 204);
});

// ---------------------------------------------------------------- where files go

test("blob files live at <dir>/blobs/aa/bb/sha256(key), never outside the dir", async () => {
  const keys = ["/f/plain", "/f/a b/ü", "/f/" + "x".repeat(500), "/f/dots.../x", "/f/%2e%2e"];
  // Values past the inline threshold: each one a file (docs/VOLUME-STORAGE.md).
  for (const k of keys) assert.is((await fetch(vol.url + keyPath(k), { method: "PUT", body: fileSized(k) })).status, 201, k);
  // Traversal attempts on the volume's own API are refused.
  for (const path of ["/../escape", "/f/../../escape", "/%2e%2e/escape", "/f/%2E%2E/%2e%2e/escape", "//escape", "/f%00", "/%zz", "/_kvdb/x"]) {
    const res = await send(vol.url, "PUT", path, "evil");
    assert.is(res.status, 400, `PUT ${path}`);
    assert.is((await send(vol.url, "GET", path)).status, 400, `GET ${path}`);
    assert.is((await send(vol.url, "DELETE", path)).status, 400, `DELETE ${path}`);
  }
  assert.equal(readdirSync(root), ["v"], "nothing written beside the volume dir");
  assert.equal(readdirSync(dir).sort(), ["blobs", "catalog", "tmp"]);
  assert.equal(filesUnder(join(dir, "tmp")), []);
  const blobs = filesUnder(join(dir, "blobs"));
  for (const f of blobs) assert.match(f, /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
  for (const f of blobs) assert.is(f.slice(0, 2) + f.slice(3, 5), f.slice(6, 10), `${f}: dirs are the hash's first bytes`);
  for (const k of keys) {
    const h = sha256(k);
    assert.ok(blobs.includes(`${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`), k);
  }
  // One blob file per catalog entry of a file value.
  const { held } = (await (await fetch(`${vol.url}/_kvdb/health?counters`)).json()) as { held: { file: { blobs: number } } };
  assert.is(blobs.length, held.file.blobs);
  for (const k of keys) assert.is((await fetch(vol.url + keyPath(k), { method: "DELETE" })).status, 204, k);
});

// ---------------------------------------------------------------- key length, through the master

test("a 1024-byte key works end to end through the master; its file name stays short", async () => {
  const v = cluster.volumes[0];
  const ascii = "/" + "k".repeat(1023);
  const multi = "/" + "é".repeat(511) + "z"; // 1 + 1022 + 1 bytes
  for (const key of [ascii, multi]) {
    assert.is(Buffer.byteLength(key), 1024);
    const res = await fetch(cluster.url + keyPath(key), { method: "PUT", body: fileSized(`long ${key.length}`) });
    assert.is(res.status, 201, `PUT ${Buffer.byteLength(key)}-byte key`);
    const redirect = await fetch(cluster.url + keyPath(key), { redirect: "manual" });
    assert.is(redirect.status, 302);
    const got = await fetch(redirect.headers.get("location")!);
    assert.is(got.status, 200);
    assert.is(await got.text(), fileSized(`long ${key.length}`));
    const list = (await (await fetch(`${cluster.url}${keyPath(key.slice(0, 10))}?list`)).json()) as { keys: string[] };
    assert.ok(list.keys.includes(key));
    const h = sha256(key);
    assert.ok(filesUnder(join(v.dir, "blobs")).includes(`${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`));
  }
  for (const f of filesUnder(join(v.dir, "blobs"))) assert.is(f.split("/").pop()!.length, 64);
  for (const key of [ascii, multi]) assert.is((await fetch(cluster.url + keyPath(key), { method: "DELETE" })).status, 204);
});

test("a 1025-byte key → 400 at the master and at the volume", async () => {
  for (const key of ["/" + "k".repeat(1024), "/" + "é".repeat(512)]) {
    assert.ok(Buffer.byteLength(key) > 1024);
    for (const method of ["PUT", "GET", "HEAD", "DELETE", "UNLINK"]) {
      const res = await send(cluster.url, method, keyPath(key), method === "PUT" ? "x" : undefined);
      assert.is(res.status, 400, `${method} at the master`);
      if (method !== "HEAD") assert.match(res.body.toString(), /^[^\n]+\n$/);
    }
    assert.is((await send(cluster.volumes[0].url, "PUT", keyPath(key), "x")).status, 400, "PUT at the volume");
  }
  assert.equal(filesUnder(join(cluster.volumes[0].dir, "blobs")), []);
});

test.run();
