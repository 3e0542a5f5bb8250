/**
 * Failures with several masters on one PostgreSQL index: a master killed with SIGKILL
 * in the middle of a PUT and of a DELETE while the other keeps serving, then the other's
 * janitor finishing or undoing what it left once its lease ran out; and PostgreSQL
 * itself restarted under load (503s in that window, nothing half-stored, all well after).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keyPath } from "../src/keys/keys.ts";
import { bytes, md5, slowPut } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { type MasterServer, volumeHolds } from "../harness/servers.ts";
import { until } from "../harness/until.ts";

async function call(base: string, key: string, method: string, body?: string | Buffer): Promise<Response> {
  const res = await fetch(base + keyPath(key), { method, body: body as BodyInit, redirect: "manual" });
  await res.arrayBuffer();
  return res;
}


const stateOf = (key: string) => `SELECT coalesce((SELECT state FROM kvdb_keys WHERE key = convert_to('${key}', 'UTF8')), 'absent')`;

/**
 * Runs `fn` on two master processes and three volume processes (a 5 s lease: a test checks a
 * dead master's keys are still held right after the kill, even on a slow machine; a 1 s
 * --busy-wait, shorter than what is left of it then).
 */
async function withProcs(fn: (c: Cluster, a: MasterServer, b: MasterServer) => Promise<void>): Promise<void> {
  const c = await startCluster({ runtime: "node", masters: 2, replicas: 3, leaseSeconds: 5, timeoutMs: 20_000, busyWaitMs: 1000 });
  try {
    await fn(c, c.masters[0], c.masters[1]);
  } finally {
    await c.close();
  }
}

/** A PUT to master A held open after its first `part`: recorded as writing, its bytes on every volume. */
async function heldPut(c: Cluster, key: string, part: Buffer, total: number) {
  const put = slowPut(c.masters[0].url, keyPath(key), { "content-length": String(total) });
  await put.write(part);
  await until("the write is recorded, owned by master A", () => c.sql(stateOf(key)) === "writing");
  await until("the bytes reach the volumes", () => c.volumes.every((v) => v.tmpFiles().length === 1));
  return put;
}

test("a master killed with SIGKILL mid-PUT: the other serves on; after the lease its janitor undoes the write, and the key can be written again", () =>
  withProcs(async (c, a, b) => {
    const key = "/killed/put";
    const first = bytes(256 * 1024, 7);
    const put = await heldPut(c, key, first, 4 * first.length);
    await a.child.stop("SIGKILL");
    put.abort();

    // B serves on at once; the key is A's until A's lease runs out.
    assert.is((await call(b.url, "/killed/other", "PUT", "served by B")).status, 201);
    assert.is((await call(b.url, "/killed/other", "GET")).status, 302);
    assert.is((await call(b.url, key, "GET")).status, 404);
    const refused = await call(b.url, key, "DELETE");
    assert.is(refused.status, 503, "A's write holds the key until its lease runs out");
    assert.is(refused.headers.get("retry-after"), "1");

    await until("B's janitor undid A's write", () => c.sql(stateOf(key)) === "absent", 20_000);
    assert.is(c.sql("SELECT count(*) FROM kvdb_keys WHERE owner IS NOT NULL"), "0");
    for (const v of c.volumes) assert.not.ok(v.hasBlob(key), `${v.name} keeps no blob of the killed write`);
    await until("the volumes dropped the broken uploads", () => c.volumes.every((v) => v.tmpFiles().length === 0));
    const again = await call(b.url, key, "PUT", "written again");
    assert.is(again.status, 201);
    assert.is(again.headers.get("content-md5"), md5("written again"));
  }));

test("a master killed with SIGKILL mid-DELETE: the key is gone for the other at once; after the lease its janitor deletes every replica", () =>
  withProcs(async (c, a, b) => {
    const key = "/killed/delete";
    assert.is((await call(b.url, key, "PUT", "to be deleted")).status, 201);
    // A stopped volume holds the DELETE on A after the record says deleting.
    const stalled = c.volumes[0];
    stalled.child.proc.kill("SIGSTOP");
    const deleting = call(a.url, key, "DELETE").catch((e: Error) => e);
    try {
      await until("A marked the key deleting", () => c.sql(stateOf(key)) === "deleting");
      await a.child.stop("SIGKILL");
    } finally {
      stalled.child.proc.kill("SIGCONT");
    }
    assert.instance(await deleting, Error, "the client of the killed master lost its connection");
    assert.is((await call(b.url, key, "GET")).status, 404);
    assert.is((await call(b.url, key, "PUT", "too early")).status, 503, "A's delete holds the key until its lease runs out");
    // Once the lease ran out, a DELETE that finishes A's delete says 404: it removed nothing a client could still see.
    let last = 0;
    await until("B no longer waits for A's lease", async () => (last = (await call(b.url, key, "DELETE")).status) !== 503, 20_000);
    assert.is(last, 404);

    await until("A's delete is finished", () => c.sql(stateOf(key)) === "absent", 20_000);
    await until("every replica is deleted", async () => (await Promise.all(c.volumes.map((v) => volumeHolds(v, key)))).every((held) => !held), 10_000);
    assert.is((await call(b.url, key, "PUT", "written again")).status, 201);
    assert.is((await call(b.url, "/killed/", "GET")).status, 404);
  }));

test("a master frozen (SIGSTOP) past its lease mid-PUT: the other takes the key over and writes it anew; the woken master's rest of the value never reaches the volumes", () =>
  withProcs(async (c, a, b) => {
    const key = "/frozen/put";
    const part = bytes(256 * 1024, 9);
    const put = await heldPut(c, key, part, 2 * part.length);
    a.child.proc.kill("SIGSTOP");
    try {
      await until("B's janitor took A's write over", () => c.sql(stateOf(key)) === "absent", 20_000);
      const anew = await call(b.url, key, "PUT", "written anew by B");
      assert.is(anew.status, 201);
    } finally {
      a.child.proc.kill("SIGCONT");
    }
    // A wakes with the rest of the value to send: it must stop, not finish the upload.
    const answer = await put.finish(bytes(part.length, 10));
    assert.is(answer.status, 503, answer.body);
    assert.match(answer.body, /^nothing stored: this master's lease on the index ran out/);
    for (const base of [a.url, b.url]) {
      const res = await call(base, key, "GET");
      assert.is(res.status, 302);
      assert.is(await (await fetch(res.headers.get("location")!)).text(), "written anew by B");
    }
    for (const v of c.volumes) assert.is(await (await fetch(v.url + keyPath(key))).text(), "written anew by B", `${v.name} holds B's value`);
  }));

test("PostgreSQL restarted under load: requests in that window get 503 'index unavailable', none a 404 or an empty list; nothing is half-stored; then all works", async () => {
  const c = await startCluster({ volumes: 3, replicas: 2, masters: 2 });
  const outcomes = new Map<string, { put: number; del?: number; value: string }>();
  const seen = new Map<number, number>();
  const wrong: string[] = [];
  const note = (status: number) => seen.set(status, (seen.get(status) ?? 0) + 1);
  let stop = false;
  try {
    // Six clients, each cycling PUT → GET → DELETE over its own keys, alternating masters; at most 400 cycles each.
    const clients = Array.from({ length: 6 }, async (_, client) => {
      for (let i = 0; i < 400 && !stop; i++) {
        const key = `/load/c${client}/k${i}`;
        const value = `client ${client} cycle ${i}`;
        const base = c.masters[(client + i) % 2].url;
        const put = await call(base, key, "PUT", value);
        note(put.status);
        const outcome: { put: number; del?: number; value: string } = { put: put.status, value };
        outcomes.set(key, outcome);
        if (put.status !== 201) continue;
        const get = await call(c.masters[(client + i + 1) % 2].url, key, "GET");
        note(get.status);
        if (get.status !== 302 && get.status !== 503) wrong.push(`GET ${key} after its 201: ${get.status}`);
        const list = await fetch(`${base}/load/c${client}/?list&start=${encodeURIComponent(key)}&limit=1`);
        const listed = await list.text();
        if (list.status === 200 && !listed.includes(JSON.stringify(key))) wrong.push(`list after ${key}'s 201 without it: ${listed}`);
        if (list.status !== 200 && list.status !== 503) wrong.push(`list: ${list.status}`);
        const del = await call(base, key, "DELETE");
        note(del.status);
        outcome.del = del.status;
        if (del.status !== 204 && del.status !== 503) wrong.push(`DELETE ${key}: ${del.status}`);
      }
    });
    await until("the load is running", () => outcomes.size >= 30);
    await c.pg!.stop();
    const down = await fetch(`${c.masters[0].url}/load/?list`);
    assert.is(down.status, 503);
    assert.match(await down.text(), /^index unavailable: /);
    const missing = await fetch(`${c.masters[1].url}/load/none`);
    assert.is(missing.status, 503, "a GET while the index is down is 503, never 404");
    await new Promise((r) => setTimeout(r, 1000)); // the outage: requests keep coming meanwhile
    await c.pg!.start();
    const before = outcomes.size;
    await until("requests succeed again", () => outcomes.size > before + 30 && [...outcomes.values()].slice(-5).every((o) => o.put === 201), 20_000);
    stop = true;
    await Promise.all(clients);

    assert.equal(wrong, []);
    assert.ok((seen.get(503) ?? 0) > 0, `some requests met the outage: ${JSON.stringify([...seen])}`);
    assert.equal([...seen.keys()].filter((s) => ![201, 204, 302, 503].includes(s)), [], JSON.stringify([...seen]));

    // Whatever failed is cleaned up by the janitors; then each key is whole or gone.
    await until("no operation left in flight", () => c.sql("SELECT count(*) FROM kvdb_keys WHERE owner IS NOT NULL") === "0", 20_000);
    for (const m of c.masters) await until("each master reads the index again", async () => (await call(m.url, "/load/none", "GET")).status === 404);
    for (const [key, o] of outcomes) {
      const res = await fetch(c.url + keyPath(key), { redirect: "manual" });
      const body = await res.text();
      const stored = [];
      for (const v of c.volumes) if (await volumeHolds(v, key)) stored.push(v);
      if (res.status === 404) {
        assert.equal(stored.map((v) => v.name), [], `${key} (PUT ${o.put}, DELETE ${o.del}): absent, and no replica left`);
      } else {
        assert.is(res.status, 302, `${key}: ${body}`);
        assert.ok(o.put !== 201 || o.del !== 204, `${key} was deleted (204) yet is served`);
        assert.is(await (await fetch(res.headers.get("location")!)).text(), o.value, `${key} whole`);
        assert.is(stored.length, 2, `${key} on both its replicas`);
      }
    }
    for (const m of c.masters) {
      assert.is((await call(m.url, "/load/after", "PUT", "after")).status, 201);
      assert.is((await call(m.url, "/load/after", "DELETE")).status, 204);
    }
  } finally {
    stop = true;
    await c.close();
  }
});


test.run();
