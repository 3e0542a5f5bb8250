/**
 * Large values, streamed end to end through a cluster of child processes: the client
 * generates the bytes chunk by chunk (never holding the value) and hashes as it sends
 * and as it reads back.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { Pattern, patternMd5, streamGet, streamPut } from "../harness/data.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";

const MiB = 1 << 20;

let c: Cluster;
test.before(async () => {
  c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
});
test.after(async () => {
  await c?.close();
});

/** Follows the master's redirect and streams the value, hashing it. */
async function readBack(key: string) {
  const loc = await streamGet(`${c.master.url}${key}`);
  assert.is(loc.status, 302);
  assert.is(loc.size, 0);
  const got = await streamGet(String(loc.headers.location));
  return { loc, got };
}

test("256 MiB with Content-Length: 201 with the right Content-Md5, read back byte-exact", async () => {
  const size = 256 * MiB;
  const key = "/large/256MiB";
  const t0 = Date.now();
  const put = await streamPut(`${c.master.url}${key}`, size, { seed: "large-256", timeoutMs: 60_000 });
  const putMs = Date.now() - t0;
  assert.is(put.error, undefined);
  assert.is(put.status, 201, put.body);
  assert.is(put.sent, size);
  assert.is(put.headers["content-md5"], put.md5);
  assert.is(put.headers["key-volumes"]!.toString().split(",").length, 3);

  const t1 = Date.now();
  const { loc, got } = await readBack(key);
  const getMs = Date.now() - t1;
  assert.is(loc.headers["content-md5"], put.md5);
  assert.is(loc.headers.etag, `"${put.md5}"`);
  assert.is(got.status, 200);
  assert.is(got.headers["content-length"], String(size));
  assert.is(got.size, size);
  assert.is(got.md5, put.md5);
  if (process.env.KVDB_TEST_DEBUG) console.log(`PUT ${putMs} ms, GET ${getMs} ms`);
});

test("a range of the large value is the same bytes as the generator's", async () => {
  // Bytes [100 MiB, 101 MiB) of the pattern: generate the first 101 MiB, keep the last one.
  const { loc } = await readBack("/large/256MiB");
  const ranged = await streamGet(String(loc.headers.location), { range: `bytes=${100 * MiB}-${101 * MiB - 1}` });
  assert.is(ranged.status, 206);
  assert.is(ranged.size, MiB);
  assert.is(ranged.headers["content-range"], `bytes ${100 * MiB}-${101 * MiB - 1}/${256 * MiB}`);
  const p = new Pattern("large-256");
  for (let i = 0; i < 100; i++) p.next(MiB);
  assert.is(ranged.md5, createHash("md5").update(p.next(MiB)).digest("hex"));
});

test("~32 MiB chunked (no Content-Length): 201, read back byte-exact", async () => {
  const size = 32 * MiB + 12345; // not a multiple of the chunk size
  const key = "/large/chunked";
  const put = await streamPut(`${c.master.url}${key}`, size, { seed: "large-chunked", chunked: true, chunk: 256 * 1024 });
  assert.is(put.error, undefined);
  assert.is(put.status, 201, put.body);
  assert.is(put.md5, patternMd5("large-chunked", size, 256 * 1024));
  assert.is(put.headers["content-md5"], put.md5);
  const { got } = await readBack(key);
  assert.is(got.status, 200);
  assert.is(got.size, size);
  assert.is(got.md5, put.md5);
});

test.run();
