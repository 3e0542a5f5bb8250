/**
 * Direct writes (src/master/direct-write.ts, src/volume/direct-write.ts) under SIGKILL,
 * every server a real child process: the first volume, another replica's volume, and
 * the master killed between the 307 and the commit. Each time nothing is ever served
 * partially, the janitor undoes the write once its deadline has passed (a short one
 * here: --url-ttl 2, --volume-timeout 2), no replica of it is left on any volume, the
 * key can be written again, and `kvdb verify --repair` then `kvdb verify` end clean.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runKvdb } from "../harness/kvdb.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import type { VolumeServer } from "../harness/servers.ts";
import { until } from "../harness/until.ts";
import { keyPath } from "../src/keys/keys.ts";
import { VOLUME_WRITE } from "../src/wire/direct-wire.ts";
import { askToWrite, bytes, slowPut } from "./http.ts";

const MiB = 1 << 20;
const SIZE = 2 * MiB;

async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3, urlTtl: 2, timeoutMs: 2000 });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** A direct write of `key` begun: its first volume, the stored name, and the client's upload with the first MiB sent. */
async function begun(c: Cluster, key: string) {
  const asked = await askToWrite(c.master.url, key, SIZE);
  assert.is(asked.status, 307, asked.body);
  const url = new URL(asked.location!);
  const first = c.volumes.find((v) => v.port === Number(url.port))!;
  const name = decodeURIComponent(url.pathname.slice(VOLUME_WRITE.length));
  const put = slowPut(url.origin, url.pathname + url.search, { "content-length": String(SIZE) });
  await put.write(bytes(MiB, 1));
  await until("every replica's volume receives the body", () => c.volumes.every((v) => v.tmpFiles().length === 1));
  return { first, name, put };
}

/** What the master answers for `key` now: never a partial value. */
async function served(c: Cluster, key: string): Promise<number> {
  const res = await fetch(`${c.master.url}${keyPath(key)}`, { redirect: "manual" });
  await res.arrayBuffer();
  return res.status;
}

/** After the fault: the janitor undoes the write, no volume keeps any of it, the key takes a new value, verify is clean. */
async function undoneAndClean(c: Cluster, key: string, name: string): Promise<void> {
  assert.is(await served(c, key), 404);
  await until("the janitor undid the write", async () => (await fetch(`${c.master.url}${keyPath(key)}`, { method: "PUT", body: "again" })).status === 201, 40_000);
  await until("no volume keeps a replica of it", () => c.volumes.every((v) => !v.hasBlob(name) && v.tmpFiles().length === 0), 20_000);
  const repair = await runKvdb(["verify", "--repair", "--master", c.master.url], {}, 60_000);
  const verify = await runKvdb(["verify", "--master", c.master.url], {}, 60_000);
  assert.equal([repair.code, verify.code], [0, 0], repair.stdout + repair.stderr + verify.stdout + verify.stderr);
  assert.is(await (await fetch(`${c.master.url}${keyPath(key)}`)).text(), "again");
}

/** Sends what is left of the body, whatever happens to the connection, and the answer if one came. */
async function rest(put: ReturnType<typeof slowPut>): Promise<number | string> {
  try {
    await put.write(bytes(MiB, 2));
    put.req.end();
  } catch {
    // the volume cut the connection: its answer may still have come
  }
  return put.response.then((r) => r.status, (e: Error) => e.message);
}

test("the first volume killed with SIGKILL mid-body: nothing served, and after its deadline the write is undone everywhere", () =>
  withCluster(async (c) => {
    const key = "/direct-faults/first";
    const { first, name, put } = await begun(c, key);
    await first.child.stop("SIGKILL");
    put.abort();
    assert.is(await served(c, key), 404);
    await first.restart();
    await undoneAndClean(c, key, name);
  }));

test("another replica's volume killed with SIGKILL mid-body: the client gets 503, nothing stored", () =>
  withCluster(async (c) => {
    const key = "/direct-faults/second";
    const { first, name, put } = await begun(c, key);
    const other: VolumeServer = c.volumes.find((v) => v !== first)!;
    await other.child.stop("SIGKILL");
    const answer = await rest(put);
    assert.ok(answer === 503 || typeof answer === "string", `answered ${answer}`);
    assert.is(await served(c, key), 404);
    await other.restart();
    await undoneAndClean(c, key, name);
  }));

test("the master killed with SIGKILL after the 307, before the volume began: the volume answers 503 and stores nothing", () =>
  withCluster(async (c) => {
    const key = "/direct-faults/before";
    const asked = await askToWrite(c.master.url, key, SIZE);
    assert.is(asked.status, 307);
    await c.master.child.stop("SIGKILL");
    const res = await fetch(asked.location!, { method: "PUT", body: bytes(SIZE, 3) as BodyInit });
    assert.is(res.status, 503, await res.text());
    assert.ok(c.volumes.every((v) => v.tmpFiles().length === 0));
    await c.master.restart();
    const name = decodeURIComponent(new URL(asked.location!).pathname.slice(VOLUME_WRITE.length));
    await undoneAndClean(c, key, name);
  }));

test("the master killed with SIGKILL mid-body, before the commit: the client gets 503, every replica is deleted", () =>
  withCluster(async (c) => {
    const key = "/direct-faults/during";
    const { name, put } = await begun(c, key);
    await c.master.child.stop("SIGKILL");
    assert.is(await rest(put), 503);
    await until("the volumes deleted every replica", () => c.volumes.every((v) => !v.hasBlob(name) && v.tmpFiles().length === 0));
    await c.master.restart();
    await undoneAndClean(c, key, name);
  }));

test.run();
