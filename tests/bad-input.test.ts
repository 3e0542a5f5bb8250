/**
 * Bad input (the README's key rules) through the master, sent raw so nothing normalises
 * it first: dot segments, //, NUL, broken percent-encoding and UTF-8, over-long and
 * reserved keys, broken lengths, clients that vanish mid-upload, unknown methods, broken Range.
 */
import { readdirSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { addr, bytes, filesUnder, md5, rawRequest, send, slowPut } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;

test.before(async () => {
  c = await startCluster({ volumes: 2 });
});

test.after(async () => {
  await c?.close();
});

/** Nothing stored anywhere: no blob, no temp file, no key in either listing. */
async function assertNothingStored(what: string) {
  for (const v of c.volumes) {
    assert.equal(filesUnder(join(v.dir, "blobs")), [], `${what}: ${v.name} blobs`);
    assert.equal(filesUnder(join(v.dir, "tmp")), [], `${what}: ${v.name} tmp`);
  }
  const live = (await (await fetch(`${c.url}/?list`)).json()) as { keys: string[] };
  const unlinked = (await (await fetch(`${c.url}/?unlinked`)).json()) as { keys: string[] };
  assert.equal(live.keys, [], `${what}: listed keys`);
  assert.equal(unlinked.keys, [], `${what}: unlinked keys`);
}

function assertOneLine(body: Buffer | string, what: string) {
  assert.match(body.toString(), /^[^\n]+\n$/, `${what}: one line of text, got ${JSON.stringify(body.toString())}`);
}

const BAD_PATHS: [string, string][] = [
  ["/a/../b", "dot-dot segment"],
  ["/..", "dot-dot alone"],
  ["/a/..", "trailing dot-dot"],
  ["/../etc/passwd", "leading dot-dot"],
  ["/a/./b", "dot segment"],
  ["/.", "dot alone"],
  ["/a/%2e%2e/b", "encoded dot-dot"],
  ["/%2E%2E/x", "encoded dot-dot, upper case"],
  ["/.%2e/x", "half-encoded dot-dot"],
  ["/a/%2e", "encoded dot"],
  ["/a%2F..%2Fb", "dot-dot behind encoded slashes"],
  ["//a", "leading //"],
  ["/a//b", "inner //"],
  ["/a//", "trailing //"],
  ["/a%2F%2Fb", "encoded //"],
  ["/a%00b", "NUL"],
  ["/%00", "NUL alone"],
  ["/a%zz", "%zz"],
  ["/a%", "lone %"],
  ["/a%2", "truncated %2"],
  ["/a%G0", "non-hex escape"],
  ["/a%c3%28", "invalid UTF-8 (c3 28)"],
  ["/%ff", "byte ff"],
  ["/%80", "lone continuation byte"],
  ["/%c0%af", "overlong /"],
  ["/%ed%a0%80", "UTF-8 surrogate"],
  ["/" + "k".repeat(1024), "1025-byte key"],
  ["/" + "%C3%A9".repeat(512), "1025-byte key, multi-byte"],
  ["/_kvdb/x", "reserved prefix"],
  ["/_kvdb/", "reserved prefix alone"],
  ["/%5Fkvdb/x", "reserved prefix, encoded"],
  ["/_kvdb/health", "a volume endpoint name at the master"],
];

test("bad key paths → 400 with a one-line text body, for every method", async () => {
  for (const [path, why] of BAD_PATHS) {
    for (const method of ["GET", "PUT", "POST", "DELETE", "UNLINK"]) {
      const body = method === "PUT" || method === "POST" ? "evil" : "";
      const head = `${method} ${path} HTTP/1.1` + (body ? `\r\nContent-Length: ${body.length}` : "");
      const res = await rawRequest(c.url, head, body);
      assert.is(res.status, 400, `${method} ${path} (${why})`);
      assert.match(res.headers["content-type"] ?? "", /^text\/plain/, `${method} ${path}`);
      assertOneLine(res.body, `${method} ${path} (${why})`);
    }
    const head = await rawRequest(c.url, `HEAD ${path} HTTP/1.1`);
    assert.is(head.status, 400, `HEAD ${path} (${why})`);
    assert.is(head.body.length, 0);
  }
  await assertNothingStored("after bad paths");
});

test("node:http with the raw path gives the same 400s", async () => {
  for (const [path] of BAD_PATHS.slice(0, 12)) {
    const res = await send(c.url, "PUT", path, "evil");
    assert.is(res.status, 400, path);
    assertOneLine(res.body, path);
  }
  await assertNothingStored("after bad paths via node:http");
});

test("a refused PUT's unread body does not poison its keep-alive connection", async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { host, port } = addr(c.url);
  const go = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; reused: boolean; body: string }>((resolve, reject) => {
      const req = request({ host, port, method, path, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, reused: req.reusedSocket, body: text }));
      });
      req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
      req.on("error", reject);
      req.end(body);
    });
  try {
    assert.is((await go("PUT", "/ka/../x", "GET /ka/smuggled HTTP/1.1\r\n\r\n")).status, 400);
    const next = await go("PUT", "/ka/real", "real body");
    assert.ok(next.reused, "the connection was kept");
    assert.is(next.status, 201, next.body);
    const get = await go("GET", "/ka/real");
    assert.is(get.status, 302);
    assert.is((await go("PUT", "/ka/long", "x".repeat(100_000))).status, 201);
    assert.is((await go("PUT", "/ka/%zz", "y".repeat(100_000))).status, 400);
    assert.is((await go("DELETE", "/ka/real")).status, 204);
    const last = await go("DELETE", "/ka/long");
    assert.is(last.status, 204);
    assert.ok(last.reused);
  } finally {
    agent.destroy();
  }
  await assertNothingStored("after keep-alive requests");
});

test("PUT under /_kvdb/ cannot shadow the master's own endpoints", async () => {
  const res = await send(c.url, "PUT", "/_kvdb/volumes", "evil");
  assert.is(res.status, 400);
  const volumes = await fetch(`${c.url}/_kvdb/volumes`);
  assert.is(volumes.status, 200);
  assert.ok(Array.isArray(await volumes.json()));
});

test("GET / (the empty key) → 400; so do PUT and DELETE of /", async () => {
  for (const method of ["GET", "PUT", "DELETE", "UNLINK"]) {
    const res = await rawRequest(c.url, `${method} / HTTP/1.1` + (method === "PUT" ? "\r\nContent-Length: 1" : ""), method === "PUT" ? "x" : "");
    assert.is(res.status, 400, method);
    assertOneLine(res.body, `${method} /`);
  }
});

test("a list prefix with broken percent-encoding → 400", async () => {
  for (const path of ["/%zz?list", "/a%c3%28?list", "/%?unlinked"]) {
    const res = await rawRequest(c.url, `GET ${path} HTTP/1.1`);
    assert.is(res.status, 400, path);
    assertOneLine(res.body, path);
  }
});

test("invalid Content-Length → 400 (from Node's parser or from kvdb)", async () => {
  for (const cl of ["abc", "-1", "1.5", "0x10", "1e3", "5 5", "99999999999999999999999", "18446744073709551616"]) {
    const res = await rawRequest(c.url, `PUT /cl/bad HTTP/1.1\r\nContent-Length: ${cl}`, "hello");
    assert.is(res.status, 400, `Content-Length: ${cl}`);
  }
  // Conflicting framing: two different lengths; a length and chunked together.
  assert.is((await rawRequest(c.url, "PUT /cl/bad HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6", "hello")).status, 400);
  assert.is(
    (await rawRequest(c.url, "PUT /cl/bad HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n")).status,
    400,
  );
  await assertNothingStored("after invalid lengths");
  // Still serving.
  assert.is((await fetch(`${c.url}/cl/good`, { method: "PUT", body: "fine" })).status, 201);
  assert.is((await fetch(`${c.url}/cl/good`, { method: "DELETE" })).status, 204);
});

test("an absurd (valid) Content-Length gets a clear answer at once, not a hang", async () => {
  const res = await rawRequest(c.url, "PUT /cl/absurd HTTP/1.1\r\nContent-Length: 1000000000000000", "just a few bytes", 3000);
  assert.ok(res.status === 507 || res.status === 413, `status ${res.status}`);
  assertOneLine(res.body, "absurd length");
  await until("temp files are gone", () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 0));
  await until("the master released the key", async () => (await fetch(`${c.url}/cl/absurd`, { method: "DELETE" })).status === 404);
  await assertNothingStored("after an absurd length");
  assert.is((await fetch(`${c.url}/cl/absurd`, { method: "PUT", body: "small" })).status, 201);
  assert.is((await fetch(`${c.url}/cl/absurd`, { method: "DELETE" })).status, 204);
});

for (const framing of ["content-length", "chunked"] as const) {
  test(`a client that disconnects mid-upload (${framing}): nothing stored, the master keeps serving`, async () => {
    const key = `/abort/${framing}`;
    const headers: Record<string, string> = framing === "content-length" ? { "content-length": String(1 << 20) } : {};
    const up = slowPut(c.url, key, headers);
    await up.write(bytes(100_000, 5));
    // Ready when both replicas' temp files exist: the master is streaming to the volumes.
    await until("the upload reached every volume", () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 1));
    up.abort();

    await until("every volume's temp file is removed", () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 0));
    // A DELETE waits while the write is still being cleaned up, then answers 404: no record is left.
    await until("the master dropped the write", async () => (await fetch(c.url + key, { method: "DELETE" })).status === 404);
    const get = await fetch(c.url + key, { redirect: "manual" });
    assert.is(get.status, 404);
    assert.is(get.headers.get("content-length"), "0");
    await assertNothingStored(`after a ${framing} upload was cut`);

    // The same key can be written at once, and is served whole.
    const value = bytes(200_000, 6);
    const put = await fetch(c.url + key, { method: "PUT", body: value });
    assert.is(put.status, 201);
    assert.is(put.headers.get("content-md5"), md5(value));
    const back = await fetch(c.url + key);
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(value));
    assert.is((await fetch(c.url + key, { method: "DELETE" })).status, 204);
    await assertNothingStored("after cleanup");
  });
}

test("a body shorter than its Content-Length, then EOF → not stored, 4xx or a dropped connection", async () => {
  const res = await rawRequest(c.url, "PUT /abort/short HTTP/1.1\r\nContent-Length: 100", "only ten b", 5000, true).catch((e: Error) => e);
  if (!(res instanceof Error)) {
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  } else {
    assert.match(res.message, /no complete response head/);
  }
  await until("temp files are gone", () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 0));
  await until("the master dropped the write", async () => (await fetch(`${c.url}/abort/short`, { method: "DELETE" })).status === 404);
  await assertNothingStored("after a short body");
});

test("an unknown method → 405 with Allow; a method Node cannot parse → 400", async () => {
  for (const method of ["PATCH", "OPTIONS", "PROPFIND", "PURGE", "MKCOL", "LOCK"]) {
    const res = await rawRequest(c.url, `${method} /some/key HTTP/1.1`);
    assert.is(res.status, 405, method);
    assertOneLine(res.body, method);
    const allow = (res.headers["allow"] ?? "").split(/,\s*/);
    for (const m of ["GET", "HEAD", "PUT", "POST", "DELETE", "UNLINK"]) assert.ok(allow.includes(m), `${method}: Allow lists ${m}`);
  }
  const odd = await rawRequest(c.url, "FROBNICATE /some/key HTTP/1.1");
  assert.ok(odd.status === 400 || odd.status === 405 || odd.status === 501, `FROBNICATE: ${odd.status}`);
});

test("malformed Range on the volume → 200 or 416, never 5xx; the volume keeps serving", async () => {
  const value = bytes(1000, 9);
  assert.is((await fetch(`${c.url}/range/v`, { method: "PUT", body: value })).status, 201);
  const location = (await fetch(`${c.url}/range/v`, { redirect: "manual" })).headers.get("location")!;
  const ranges = [
    "bytes=x-y",
    "items=0-1",
    "bytes=0-1,2-3",
    "bytes=0-1,,",
    "bytes=-",
    "bytes=",
    "bytes= ",
    "bytes",
    "=",
    "bytes=5-2",
    "bytes=--5",
    "bytes=5--",
    "bytes=-5-",
    "bytes=1e3-",
    "bytes=0x10-0x20",
    "bytes=+1-2",
    "bytes=1 -2",
    "bytes=\t1-2",
    "bytes=99999999999999999999999999999-",
    "bytes=" + "9".repeat(400) + "-" + "9".repeat(401),
    "bytes=1000-",
    "bytes=-0",
    "bytes=0-0,-0",
    "bytes=Infinity-",
    "bytes=NaN-NaN",
    "bytes=1.5-2.5",
    "BYTES=1-2",
    "bytes=1-2;q=1",
    "x".repeat(8000),
  ];
  for (const range of ranges) {
    const res = await fetch(location, { headers: { range } });
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(res.status === 200 || res.status === 416, `Range ${JSON.stringify(range.slice(0, 40))}: ${res.status}`);
    if (res.status === 200) assert.ok(body.equals(value), `Range ${range.slice(0, 40)}: whole value`);
    if (res.status === 416) assert.is(res.headers.get("content-range"), "bytes */1000");
  }
  const ok = await fetch(location, { headers: { range: "bytes=1-2" } });
  assert.is(ok.status, 206);
  assert.ok(Buffer.from(await ok.arrayBuffer()).equals(value.subarray(1, 3)));
  assert.is((await fetch(`${c.url}/range/v`, { method: "DELETE" })).status, 204);
});

test("nothing was ever written outside the data dirs", async () => {
  assert.equal(readdirSync(c.dir).sort(), ["master", "v0", "v1"]);
  for (const v of c.volumes) assert.equal(readdirSync(v.dir).sort(), ["blobs", "catalog", "tmp"]);
  await assertNothingStored("at the end");
  assert.equal((await (await fetch(`${c.url}/?list`)).json()) as unknown, { keys: [], next: "" });
});

test.run();
