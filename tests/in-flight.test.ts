/**
 * An operation that meets another on the same key (src/master/in-flight.ts): it waits
 * up to --busy-wait, then fails 503 with Retry-After, having changed nothing; the
 * operation it waited for is not disturbed. (The waits that end in an answer are in
 * api.test.ts; across masters, in masters-faults.test.ts.)
 */
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keyPath } from "../src/keys/keys.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";
import { bytes, filesUnder, md5, slowPut } from "./http.ts";

let c: Cluster;
const BUSY_WAIT_MS = 300;

test.before(async () => {
  c = await startCluster({ volumes: 3, busyWaitMs: BUSY_WAIT_MS });
});

test.after(async () => {
  await c?.close();
});

async function call(key: string, method: string, body?: string): Promise<{ status: number; retryAfter: string | null; text: string }> {
  const res = await fetch(c.url + keyPath(key), { method, body, redirect: "manual" });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
}

test("past --busy-wait a PUT, DELETE or UNLINK of a key held by a write gets 503 + Retry-After, and changes nothing", async () => {
  const key = "/busy/held";
  const part = bytes(64 * 1024, 1);
  const slow = slowPut(c.url, keyPath(key), { "content-length": String(2 * part.length) });
  await slow.write(part);
  await until("the write reached the volumes", () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 1));

  for (const [method, body] of [["PUT", "other"], ["DELETE"], ["UNLINK"]] as const) {
    const t0 = Date.now();
    const r = await call(key, method, body);
    const waited = Date.now() - t0;
    assert.is(r.status, 503, `${method}: ${r.text}`);
    assert.is(r.retryAfter, "1");
    assert.match(r.text, /^another write or delete of this key is still in flight; nothing changed, try again\n$/);
    assert.ok(waited >= BUSY_WAIT_MS - 20, `${method} waited ${waited} ms before giving up`);
  }

  const done = await slow.finish(part);
  assert.is(done.status, 201, "the write that held the key is not disturbed");
  const whole = Buffer.concat([part, part]);
  assert.is(done.headers["content-md5"], md5(whole));
  const get = await fetch(c.url + keyPath(key));
  assert.is(get.status, 200);
  assert.ok(Buffer.from(await get.arrayBuffer()).equals(whole));
});

test("a DELETE of an absent key that meets a DELETE in flight answers 404, and a PUT that meets it 201", async () => {
  const key = "/busy/absent";
  const [del1, del2, put] = await Promise.all([call(key, "DELETE"), call(key, "DELETE"), call(key, "PUT", "v")]);
  // Any order is linearizable, but none may refuse: 404/404/201 or 404/204 around the PUT.
  assert.is(put.status, 201, put.text);
  const deletes = [del1.status, del2.status].sort();
  assert.ok(JSON.stringify(deletes) === "[204,404]" || JSON.stringify(deletes) === "[404,404]", JSON.stringify(deletes));
});

test.run();
