/**
 * An operation that meets another on the same key (src/master/in-flight.ts): it waits
 * up to --busy-wait, then fails 503 with Retry-After, having changed nothing; the
 * operation it waited for is not disturbed; a PUT that waits twice (before its body and
 * after, in a create race across masters) still answers within one --busy-wait. (The waits that end in an answer are in
 * api.test.ts; across masters, in masters-faults.test.ts.)
 */
import { once } from "node:events";
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

/** The bound of the test below, long enough that a loaded machine's delays stay well inside the margin. */
const RACE_BUSY_WAIT_MS = 3000;

test("the loser of a create race across masters, after waiting for another write, answers within one --busy-wait in all", async () => {
  // Two waits in one PUT: before its body (the key busy on the other master), and after
  // it, when it creates the record and finds a write the other master began meanwhile.
  // The deadline is the PUT's, not each wait's: 503 by --busy-wait, not twice that.
  const two = await startCluster({ volumes: 3, masters: 2, busyWaitMs: RACE_BUSY_WAIT_MS });
  const [first, second] = two.masters;
  const key = "/busy/create-race";
  const part = bytes(64 * 1024, 1);
  const tmpFiles = (n: number) => two.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === n);
  const streamed = () => slowPut(first.url, keyPath(key), { "content-length": String(2 * part.length) });
  try {
    const a = streamed();
    await a.write(part);
    await until("the first write reached the volumes", () => tmpFiles(1));

    // A small PUT on the other master waits for it; 100 Continue comes when it reads its body.
    const t0 = Date.now();
    const b = slowPut(second.url, keyPath(key), { "content-length": "5", expect: "100-continue" });
    const continued = once(b.req, "continue");
    b.req.flushHeaders();
    await new Promise((r) => setTimeout(r, RACE_BUSY_WAIT_MS / 2)); // half its wait spent
    a.abort();
    await continued; // the key is free: it reads its body
    await until("the first write is gone from the volumes", () => tmpFiles(0));
    const c2 = streamed();
    await c2.write(part);
    await until("another write of the key began on the first master", () => tmpFiles(1));

    const answer = await b.finish("hello");
    const took = Date.now() - t0;
    assert.is(answer.status, 503, answer.body);
    assert.is(answer.headers["retry-after"], "1");
    assert.ok(took >= RACE_BUSY_WAIT_MS - 50, `answered after ${took} ms`);
    // Twice the bound would be 6 s; the margin is for a loaded machine.
    assert.ok(took < 1.4 * RACE_BUSY_WAIT_MS, `answered after ${took} ms, more than --busy-wait (${RACE_BUSY_WAIT_MS} ms) allows`);

    const done = await c2.finish(part);
    assert.is(done.status, 201, "the write it waited for is not disturbed");
    const get = await fetch(second.url + keyPath(key));
    assert.ok(Buffer.from(await get.arrayBuffer()).equals(Buffer.concat([part, part])));
  } finally {
    await two.close();
  }
});

test.run();
