/**
 * Operations under faults, every server a real child process: a volume killed with
 * SIGKILL in the middle of a rebalance, a volume whose disk is full (--max-bytes),
 * the master killed in the middle of a DELETE.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { keyPath } from "../src/keys/keys.ts";
import { LevelIndex } from "../src/master/index/level.ts";
import { rank } from "../src/keys/placement.ts";
import { patternMd5, streamGet, streamPut } from "../harness/data.ts";
import { runKvdb as cli } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { until } from "../harness/until.ts";

const KiB = 1 << 10;
const MiB = 1 << 20;


async function health(url: string): Promise<{ name: string; up: boolean; weight: number; free: number }[]> {
  return (await fetch(`${url}/_kvdb/volumes`)).json() as Promise<{ name: string; up: boolean; weight: number; free: number }[]>;
}

async function job(url: string, id: string): Promise<{ state: string; done: number; total: number; ok: boolean; summary: string }> {
  return (await fetch(`${url}/_kvdb/jobs/${id}`)).json() as Promise<{ state: string; done: number; total: number; ok: boolean; summary: string }>;
}

/** Reads a key through the master, following the redirect, checking the bytes. */
async function readOk(url: string, key: string, size: number): Promise<boolean> {
  const r = await streamGet(`${url}${keyPath(key)}`);
  if (r.status !== 302) return false;
  const v = await streamGet(String(r.headers.location));
  return v.status === 200 && v.size === size && v.md5 === patternMd5(key, size);
}

test("a volume killed with SIGKILL during rebalance: nothing is lost, reads keep working, and a second run finishes the job", async () => {
  const dir = tempDir("kvdb-opsf");
  const vols = [0, 1, 2, 3].map((i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node" }));
  let active = vols.slice(0, 3);
  const master = new MasterServer(join(dir, "master"), () => active.map((v) => v.name), { runtime: "node", replicas: 2 });
  const N = 160;
  const SIZE = 256 * KiB;
  const key = (i: number) => `/rb/${i}`;
  try {
    await Promise.all(vols.map((v) => v.start()));
    await master.start();
    for (let i = 0; i < N; i += 8) {
      const puts = await Promise.all(Array.from({ length: 8 }, (_, j) => streamPut(`${master.url}${keyPath(key(i + j))}`, SIZE, { seed: key(i + j) })));
      for (const p of puts) assert.is(p.status, 201, p.body);
    }
    await master.child.stop("SIGTERM");
    active = vols; // a fourth volume joins
    await master.restart();
    await until("all 4 volumes up", async () => (await health(master.url)).every((v) => v.up));

    const started = await fetch(`${master.url}/_kvdb/jobs/rebalance`, { method: "POST" });
    assert.is(started.status, 202);
    const { id } = (await started.json()) as { id: string };
    // Kill the new volume (the target of every copy) once the job is under way.
    await until("rebalance under way", async () => {
      const j = await job(master.url, id);
      return j.done >= 5 || j.state !== "running";
    });
    await vols[3].child.stop("SIGKILL");
    await until("rebalance ended", async () => (await job(master.url, id)).state !== "running", 60_000);
    const first = await job(master.url, id);
    await until("volume 3 marked down", async () => !(await health(master.url)).find((v) => v.name === vols[3].name)!.up);
    // Nothing is lost: every key reads back whole, whatever was moved or not.
    for (let i = 0; i < N; i++) assert.ok(await readOk(master.url, key(i), SIZE), `${key(i)} readable after the interrupted rebalance`);

    await vols[3].restart();
    await until("volume 3 up again", async () => (await health(master.url)).every((v) => v.up));
    const second = await cli(["rebalance", "--master", master.url]);
    assert.is(second.code, 0, `first: ${first.summary}\nsecond: ${second.stdout}${second.stderr}`);
    const view = await health(master.url);
    for (let i = 0; i < N; i++) {
      const r = await streamGet(`${master.url}${keyPath(key(i))}`);
      const got = String(r.headers["key-volumes"]).split(",").sort();
      assert.equal(got, rank(key(i), view).slice(0, 2).sort(), `${key(i)} on its placement`);
      assert.ok(await readOk(master.url, key(i), SIZE));
    }
    // Copies left behind by the interrupted run are cleaned up: verify --repair, then all is well.
    const repair = await cli(["verify", "--master", master.url, "--repair"]);
    assert.is(repair.code, 0, repair.stdout + repair.stderr);
    const counts = await Promise.all(vols.map(async (v) => ((await (await fetch(`${v.url}/_kvdb/health`)).json()) as { count: number }).count));
    assert.is(counts.reduce((a, b) => a + b, 0), 2 * N, `exactly 2 replicas per key (${counts})`);
    for (const v of vols) assert.equal(v.tmpFiles(), [], "no temp file left");
  } finally {
    await Promise.all([master, ...vols].map((p) => p.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Peak resident memory of a process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

test("rebalance moves a 256 MiB value volume → volume as a stream: byte-exact, flat memory on the master and both volumes", async () => {
  const dir = tempDir("kvdb-opsf");
  const vols = [0, 1].map((i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node" }));
  let active = [vols[0]];
  const master = new MasterServer(join(dir, "master"), () => active.map((v) => v.name), { runtime: "node", replicas: 1 });
  const SIZE = 256 * MiB;
  try {
    await Promise.all(vols.map((v) => v.start()));
    await master.start();
    const put = await streamPut(`${master.url}/big/one`, SIZE, { seed: "/big/one" });
    assert.is(put.status, 201, put.body);
    await master.child.stop("SIGTERM");
    active = [vols[1]]; // v0 is retired: its value must move to v1
    await master.restart();
    const r = await cli(["rebalance", "--master", master.url]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 moved/);
    assert.ok(await readOk(master.url, "/big/one", SIZE));
    assert.ok(vols[1].hasBlob("/big/one"));
    assert.not.ok(vols[0].hasBlob("/big/one"), "the retired volume's copy is deleted");
    for (const [name, pid] of [["target volume", vols[1].child.proc.pid!], ["source volume", vols[0].child.proc.pid!], ["master", master.child.proc.pid!]] as const) {
      const peak = peakRssMiB(pid);
      console.log(`  ${name}: peak RSS ${peak.toFixed(0)} MiB while moving 256 MiB`);
      assert.ok(peak < 200, `${name} peak RSS ${peak.toFixed(0)} MiB for a 256 MiB value`);
    }
  } finally {
    await Promise.all([master, ...vols].map((p) => p.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a full volume (--max-bytes): a PUT that does not fit → 507, nothing stored on any volume, smaller ones still fit", async () => {
  const dir = tempDir("kvdb-opsf");
  const small = await new VolumeServer(join(dir, "small"), { runtime: "node", maxBytes: 3 * MiB }).start();
  const big = new VolumeServer(join(dir, "big"), { runtime: "node" });
  await big.start();
  const master = new MasterServer(join(dir, "master"), () => [small.name, big.name], { runtime: "node", replicas: 2 });
  try {
    await master.start();
    const h = (await health(master.url)).find((v) => v.name === small.name)!;
    assert.ok(h.free <= 3 * MiB, `capped volume reports at most 3 MiB free (${h.free})`);
    const first = await streamPut(`${master.url}/full/a`, 2 * MiB);
    assert.is(first.status, 201, first.body);
    await until("free space updated", async () => (await health(master.url)).find((v) => v.name === small.name)!.free <= MiB + 1);

    // Declared length: refused before a byte is read.
    const declared = await streamPut(`${master.url}/full/b`, 2 * MiB);
    assert.is(declared.status, 507, declared.body);
    assert.match(declared.body, /nothing stored/);
    // Chunked: cut as it passes the cap; still nothing stored.
    const chunked = await streamPut(`${master.url}/full/c`, 2 * MiB, { chunked: true });
    assert.is(chunked.status, 507, chunked.body);
    assert.match(chunked.body, /nothing stored/);
    for (const k of ["/full/b", "/full/c"]) {
      assert.is((await fetch(`${master.url}${k}`, { redirect: "manual" })).status, 404, `${k} absent`);
      assert.not.ok(big.hasBlob(k), `${k}: no replica on the other volume`);
    }
    assert.not.ok(small.hasBlob("/full/b") || small.hasBlob("/full/c"));
    assert.equal(small.tmpFiles(), []);
    assert.equal(big.tmpFiles(), []);
    await until("capped volume back up", async () => (await health(master.url)).every((v) => v.up));
    // What still fits is stored.
    const fits = await streamPut(`${master.url}/full/d`, 512 * KiB);
    assert.is(fits.status, 201, fits.body);
    // The volume itself refuses too (507 at once on a declared length).
    const direct = await fetch(`${small.url}/direct`, { method: "PUT", body: new Uint8Array(2 * MiB) });
    assert.is(direct.status, 507);
  } finally {
    await Promise.all([master.stop("SIGKILL"), small.stop("SIGKILL"), big.stop("SIGKILL")]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the master killed with SIGKILL mid-DELETE: after restart the key is gone from the index and from every volume", async () => {
  const dir = tempDir("kvdb-opsf");
  const vols = [0, 1].map((i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node" }));
  const master = new MasterServer(join(dir, "master"), () => vols.map((v) => v.name), { runtime: "node", replicas: 2, timeoutMs: 20_000 });
  try {
    await Promise.all(vols.map((v) => v.start()));
    await master.start();
    const put = await streamPut(`${master.url}/del/me`, 64 * KiB);
    assert.is(put.status, 201);
    // One volume hangs: the DELETE is stuck after the intent is recorded.
    vols[1].child.proc.kill("SIGSTOP");
    const del = fetch(`${master.url}/del/me`, { method: "DELETE" }).catch((e: Error) => e);
    await until("replica on the live volume deleted", () => !vols[0].hasBlob("/del/me"));
    await master.child.stop("SIGKILL");
    assert.ok((await del) instanceof Error, "the client saw the connection drop");
    vols[1].child.proc.kill("SIGCONT");
    // The intent was durable: the index says deleting, pending.
    const index = new LevelIndex(master.db);
    await index.open();
    assert.is(index.get("/del/me")?.state, "deleting");
    await index.close();

    await master.restart();
    assert.match(master.child.output(), /cleaned up 1 operation/);
    assert.is((await fetch(`${master.url}/del/me`, { redirect: "manual" })).status, 404);
    await until("every replica deleted", () => vols.every((v) => !v.hasBlob("/del/me")));
    const v = await cli(["verify", "--master", master.url]);
    assert.is(v.code, 0, v.stdout + v.stderr);
  } finally {
    vols[1].kill("SIGCONT");
    await Promise.all([master, ...vols].map((p) => p.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

