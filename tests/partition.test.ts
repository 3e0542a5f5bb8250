/**
 * A network partition, for real: one volume runs in its own network namespace, joined
 * to the host by a veth pair, and the link is cut (packets dropped, connections hang —
 * not refused). Needs root and `ip netns`; skipped with a message elsewhere.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { keyPath } from "../src/keys/keys.ts";
import { runKvdb as cli } from "../harness/kvdb.ts";
import { PATHS, tempDir } from "../harness/paths.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { until } from "../harness/until.ts";

const tag = String(process.pid % 10000);
const NS = `kvdbp${tag}`;
const HOST_IF = `kvh${tag}`;
const NS_IF = `kvn${tag}`;
const subnet = 10 + (process.pid % 200);
const HOST_IP = `10.213.${subnet}.1`;
const NS_IP = `10.213.${subnet}.2`;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString();

function setUp(): string {
  if (process.getuid?.() !== 0) return "not root";
  try {
    ip("netns", "add", NS);
  } catch (e) {
    return `ip netns not permitted here: ${(e as Error).message.split("\n")[0]}`;
  }
  try {
    ip("link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF);
    ip("link", "set", NS_IF, "netns", NS);
    ip("addr", "add", `${HOST_IP}/24`, "dev", HOST_IF);
    ip("link", "set", HOST_IF, "up");
    ip("netns", "exec", NS, "ip", "addr", "add", `${NS_IP}/24`, "dev", NS_IF);
    ip("netns", "exec", NS, "ip", "link", "set", NS_IF, "up");
    ip("netns", "exec", NS, "ip", "link", "set", "lo", "up");
    return "";
  } catch (e) {
    tearDown();
    return `cannot build a veth pair: ${(e as Error).message.split("\n")[0]}`;
  }
}

function tearDown(): void {
  try {
    ip("link", "del", HOST_IF);
  } catch {
    // gone with the namespace
  }
  try {
    ip("netns", "del", NS);
  } catch {
    // never made
  }
}


const why = setUp();
if (why) console.log(`partition test skipped: ${why} (it needs root and ip netns to put a volume in its own network namespace)`);

(why ? test.skip : test)("a volume cut off by a partition: marked down in ~2 s, reads and writes go on elsewhere, deletes wait; healed: orphans go, rebalance moves writes home, verify all well", async () => {
  const dir = tempDir("kvdb-part");
  // Volume names must be reachable from every other volume too (they copy between
  // themselves), so the volumes on this side listen on the veth address, not loopback.
  const local = [0, 1].map((i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node", host: HOST_IP }));
  const remote = new VolumeServer(join(dir, "remote"), { runtime: "node", host: NS_IP }, ["ip", "netns", "exec", NS, process.execPath, PATHS.kvdbNode]);
  const remoteName = () => remote.name;
  const master = new MasterServer(join(dir, "master"), () => [...local.map((v) => v.name), remote.name], { runtime: "node", replicas: 2, timeoutMs: 3000 });
  const health = async () => (await (await fetch(`${master.url}/_kvdb/volumes`)).json()) as { name: string; up: boolean }[];
  const remoteUp = async () => (await health()).find((v) => v.name === remoteName())!.up;
  const read = async (key: string) => {
    const res = await fetch(`${master.url}${keyPath(key)}`);
    return res.status === 200 ? await res.text() : `status ${res.status}`;
  };
  try {
    for (const v of local) await v.start();
    await remote.start();
    await master.start();
    await until("remote volume up", remoteUp);
    for (let i = 0; i < 20; i++) assert.is((await fetch(`${master.url}/p/${i}`, { method: "PUT", body: `value ${i}` })).status, 201);

    ip("link", "set", HOST_IF, "down"); // the partition: packets to the remote volume go nowhere
    const cut = Date.now();
    await until("remote marked down", async () => !(await remoteUp()), 5000);
    assert.ok(Date.now() - cut < 4000, "marked down within ~2 s");
    for (let i = 0; i < 20; i++) assert.is(await read(`/p/${i}`), `value ${i}`, "reads go to the replicas on this side");
    // Writes go on, to the volumes that answer (the next ones in placement order).
    for (let i = 0; i < 10; i++) assert.is((await fetch(`${master.url}/p/new${i}`, { method: "PUT", body: `new ${i}` })).status, 201);
    // A delete cannot reach the remote replica: 202, the key is gone at once.
    let victim = "";
    for (let i = 0; i < 20 && !victim; i++) {
      const res = await fetch(`${master.url}/p/${i}`, { redirect: "manual" });
      if ((res.headers.get("key-volumes") ?? "").includes(remoteName())) victim = `/p/${i}`;
    }
    assert.ok(victim, "some key has a replica on the remote volume");
    assert.is((await fetch(`${master.url}${victim}`, { method: "DELETE" })).status, 202);
    assert.is(await read(victim), "status 404");

    ip("link", "set", HOST_IF, "up"); // healed
    await until("remote back up", remoteUp, 10_000);
    // The janitor deletes the owed replica; verify then finds all well.
    await until("orphan deleted", async () => (await fetch(`${remote.url}${victim}`)).status === 404, 10_000);
    // What was written during the partition moves home.
    const r = await cli(["rebalance", "--master", master.url]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /[1-9]\d* moved/);
    const v = await cli(["verify", "--master", master.url]);
    assert.is(v.code, 0, v.stdout + v.stderr);
    for (let i = 0; i < 10; i++) assert.is(await read(`/p/new${i}`), `new ${i}`);
  } finally {
    await Promise.all([master.stop("SIGKILL"), remote.stop("SIGKILL"), ...local.map((v) => v.stop("SIGKILL"))]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => {
  if (!why) tearDown();
});

test.run();


